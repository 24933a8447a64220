"""No built page loads anything from another host (fonts, scripts, styles, images, frames)."""

from __future__ import annotations

import re

import pytest

from platform_kb.site.audit import audit_file, audit_site


def test_built_site_loads_nothing_from_other_hosts(built_site):
    files = [p for p in built_site.site.rglob("*") if p.suffix in (".html", ".css", ".js", ".svg")]
    assert len([p for p in files if p.suffix == ".html"]) >= 7
    assert any(p.suffix == ".js" for p in files) and any(p.suffix == ".css" for p in files)
    assert audit_site(built_site.site) == []


def test_no_google_fonts_and_mermaid_only_with_the_sites_own_copy(built_site):
    diagrams = 0
    for page in built_site.site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html, page
        if re.search(r"class=\"[^\"]*\bmermaid\b", html):
            diagrams += 1
            assert re.search(r'<script src="[^"]*_generated/assets/javascripts/mermaid\.min\.js">', html), (
                page
            )
        assert 'data-md-component="source"' not in html, page  # no repo_url: no GitHub API calls
    assert diagrams >= 1  # the layer diagram on architecture.md


def test_external_links_to_read_are_allowed(built_site):
    """<a href="https://..."> is a link the reader may follow, not a load."""
    html = (built_site.page("_generated", "issues", "3-10-airflow-spark-operator-ui-ingress")).read_text(
        encoding="utf-8"
    )
    assert 'href="https://github.com/kubeflow/spark-operator/issues/2597"' in html


@pytest.mark.parametrize(
    ("name", "content", "url"),
    [
        ("a.html", '<script src="https://cdn.example.org/x.js"></script>', "https://cdn.example.org/x.js"),
        ("b.html", '<link rel="stylesheet" href="//cdn.example.org/x.css">', "//cdn.example.org/x.css"),
        ("c.html", '<link rel="preconnect" href="https://fonts.gstatic.com">', "https://fonts.gstatic.com"),
        (
            "d.html",
            '<img srcset="a.png 1x, https://img.example.org/b.png 2x">',
            "https://img.example.org/b.png",
        ),
        (
            "e.html",
            '<div style="background: url(https://img.example.org/bg.png)"></div>',
            "https://img.example.org/bg.png",
        ),
        (
            "f.html",
            "<style>@import 'https://fonts.example.org/k.css';</style>",
            "https://fonts.example.org/k.css",
        ),
        (
            "g.html",
            '<iframe src="http://grafana.example.org/d/1"></iframe>',
            "http://grafana.example.org/d/1",
        ),
        (
            "h.html",
            '<svg><use href="https://icons.example.org/s.svg#i"/></svg>',
            "https://icons.example.org/s.svg#i",
        ),
        (
            "i.html",
            '<script>var s = document.createElement("script"); s.src = "https://x.example.org/a.js";</script>',
            "https://x.example.org/a.js",
        ),
        (
            "j.css",
            "body { background: url('https://img.example.org/bg.png') }",
            "https://img.example.org/bg.png",
        ),
        (
            "k.css",
            '@import "https://fonts.googleapis.com/css?family=Noto+Sans+KR";',
            "https://fonts.googleapis.com/css?family=Noto+Sans+KR",
        ),
        ("l.js", 'fetch("https://api.example.org/v1")', "https://api.example.org/v1"),
        ("m.html", '<pre class="mermaid">graph LR; a-->b</pre>', "https://unpkg.com/mermaid@..."),
    ],
)
def test_audit_catches_each_kind_of_external_load(tmp_path, name, content, url):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert [load.url for load in audit_file(path)] == [url]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.html", '<a href="https://github.com/kubeflow/spark-operator">소스</a>'),
        ("b.html", '<link rel="canonical" href="https://kb.example.internal/">'),
        ("c.html", '<img src="../assets/architecture.svg"><script src="assets/x.js"></script>'),
        (
            "d.css",
            ".x { mask-image: url('data:image/svg+xml;charset=utf-8,<svg xmlns=\"http://www.w3.org/2000/svg\"/>') }",
        ),
        ("e.js", "/*! lunr, see http://lunrjs.com */ var a = 1; // http://example.org in a comment"),
        ("f.svg", '<svg xmlns="http://www.w3.org/2000/svg"><text>30998</text></svg>'),
    ],
)
def test_audit_ignores_links_local_files_and_comments(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert audit_file(path) == []


def test_build_fails_when_a_page_loads_from_another_host(make_project):
    project = make_project()
    page = project.root / "docs" / "architecture.md"
    page.write_text(
        page.read_text(encoding="utf-8") + '\n<img src="https://img.example.org/diagram.png">\n',
        encoding="utf-8",
    )
    result = project.kb("docs", "build")
    assert result.returncode == 2
    assert "architecture/index.html: <img src> loads https://img.example.org/diagram.png" in result.stderr


def test_a_mermaid_page_counts_as_a_cdn_load_unless_it_brings_its_own_copy(tmp_path):
    bare = tmp_path / "bare.html"
    bare.write_text('<div class="mermaid">graph TB; a-->b</div>')
    own = tmp_path / "own.html"
    own.write_text('<div class="mermaid">graph TB; a-->b</div><script src="../js/mermaid.min.js"></script>')
    cdn = tmp_path / "cdn.html"
    cdn.write_text(
        '<div class="mermaid">x</div><script src="https://cdn.example.org/mermaid.min.js"></script>'
    )
    assert [load.url for load in audit_file(bare)] == ["https://unpkg.com/mermaid@..."]
    assert audit_file(own) == []
    assert {load.url for load in audit_file(cdn)} == {
        "https://unpkg.com/mermaid@...",
        "https://cdn.example.org/mermaid.min.js",
    }
