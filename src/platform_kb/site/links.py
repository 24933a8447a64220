"""Links inside Markdown: find them (outside code), classify them, rewrite them.

Where it sits: used by :mod:`platform_kb.check` (do internal links resolve?) and by
:mod:`platform_kb.site.issues` (a write-up links to repository files such as
``../docs/architecture.md`` or ``../runbooks/<id>.py``; its generated page needs site paths).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```+|~~~+)")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_INLINE_LINK = re.compile(
    r"\]\(\s*(<[^>\n]*>|[^()\s]+(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
)
_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)", re.MULTILINE)
_HTML_ATTR = re.compile(r"\b(?:href|src)\s*=\s*[\"']([^\"'\n]+)[\"']")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class Link:
    """One link target in a Markdown text (``start``/``end``: the target's offsets in the text)."""

    target: str
    line: int
    start: int
    end: int


def mask_code(markdown: str) -> str:
    """The text with fenced code blocks and inline code replaced by spaces (offsets unchanged)."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
            out.append(_blank(line))
            continue
        if fence is not None:
            if match and match.group(1).startswith(fence):
                fence = None
            out.append(_blank(line))
            continue
        out.append(_INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line))
    return "".join(out)


def _blank(line: str) -> str:
    body = line.rstrip("\r\n")
    return " " * len(body) + line[len(body) :]


def iter_links(markdown: str) -> Iterator[Link]:
    """Every inline link, image, reference definition and HTML href/src outside code."""
    masked = mask_code(markdown)
    found: list[tuple[int, int]] = []
    for pattern in (_INLINE_LINK, _REFERENCE, _HTML_ATTR):
        for match in pattern.finditer(masked):
            start, end = match.span(1)
            if masked[start] == "<" and masked[end - 1] == ">":
                start, end = start + 1, end - 1
            found.append((start, end))
    for start, end in sorted(set(found)):
        yield Link(markdown[start:end], markdown.count("\n", 0, start) + 1, start, end)


def is_external(target: str) -> bool:
    """``http:``, ``mailto:`` and other schemes, and protocol-relative ``//host`` links."""
    return bool(_SCHEME.match(target)) or target.startswith("//")


def split_anchor(target: str) -> tuple[str, str]:
    """``("path", "anchor")``; either may be empty."""
    path, _, anchor = target.partition("#")
    return path, anchor


def rewrite_links(markdown: str, rewrite: Callable[[str], str]) -> str:
    """The text with every link target replaced by ``rewrite(target)``."""
    pieces: list[str] = []
    position = 0
    for link in iter_links(markdown):
        pieces.append(markdown[position : link.start])
        pieces.append(rewrite(link.target))
        position = link.end
    pieces.append(markdown[position:])
    return "".join(pieces)
