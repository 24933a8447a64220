"""Markdown link finding and rewriting (code spans and fences are not links)."""

from __future__ import annotations

from platform_kb.site.links import is_external, iter_links, rewrite_links, split_anchor

TEXT = """# 제목

[a](one.md) and ![b](img/two.svg "title") and [c](<with space.md#앵커>)
`[code](not-a-link.md)` and <img src="three.svg"> and <a href="https://example.org">x</a>

```markdown
[fenced](not-a-link-either.md)
```

[ref]: four.md#part
"""


def test_iter_links_finds_targets_and_lines():
    found = [(link.target, link.line) for link in iter_links(TEXT)]
    assert found == [
        ("one.md", 3),
        ("img/two.svg", 3),
        ("with space.md#앵커", 3),
        ("three.svg", 4),
        ("https://example.org", 4),
        ("four.md#part", 10),
    ]


def test_rewrite_touches_only_targets():
    out = rewrite_links(TEXT, lambda t: t if is_external(t) else "X/" + t)
    assert "[a](X/one.md)" in out and '![b](X/img/two.svg "title")' in out
    assert "[code](not-a-link.md)" in out and "[fenced](not-a-link-either.md)" in out
    assert '<a href="https://example.org">' in out and "[ref]: X/four.md#part" in out


def test_external_and_anchor_helpers():
    assert is_external("https://x.org") and is_external("mailto:a@b") and is_external("//cdn.x.org/a.js")
    assert not is_external("../docs/architecture.md") and not is_external("#앵커")
    assert (
        split_anchor("a.md#b") == ("a.md", "b")
        and split_anchor("#b") == ("", "b")
        and split_anchor("a.md") == ("a.md", "")
    )
