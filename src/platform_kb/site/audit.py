"""Closed-network audit of a built site: does any page load something from another host?

Where it sits: the last step of ``kb docs build`` (after MkDocs wrote ``site/``), and the check the
site tests use. A *load* is anything the browser fetches by itself: ``<script src>``, ``<img src>``,
``<link href>`` (stylesheets, icons, preconnect, ...), ``<iframe>``, ``<source>``, SVG ``<use>``/
``<image>``, CSS ``url()``/``@import`` (in files, ``<style>`` and ``style=""``), and URL literals
in JavaScript code. Links a reader clicks (``<a href>``, ``rel=canonical``...) are not loads.

Material's JavaScript bundle carries a few URLs it loads only under a condition; each is listed in
:data:`CONDITIONAL_LOADERS` with the page marker that triggers it, and a page with that marker is
reported. Any other absolute URL in JavaScript code is reported. A page that loads the site's own
Mermaid (:mod:`platform_kb.site.vendor`) does not trigger Material's Mermaid loader. Vendored files
are recognised by their pinned sha256 and not scanned (Mermaid's bundle names XML namespaces such
as ``http://www.w3.org/2000/svg``, which nothing fetches); that they load nothing from elsewhere is
shown by a real browser (``tests/site/test_mermaid.py``: Chromium with every other host unresolvable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .vendor import VENDORED, sha256_of

_VENDORED_SHA256 = frozenset(script.sha256 for script in VENDORED)
_EXTERNAL = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
_LOCAL_SCHEMES = ("data:", "blob:", "about:", "javascript:", "mailto:", "tel:")
_CSS_URL = re.compile(r"url\(\s*(?:'([^']*)'|\"([^\"]*)\"|([^)'\"\s]+))\s*\)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:'([^']*)'|\"([^\"]*)\")", re.IGNORECASE)
# A URL literal used as code: an argument, an assignment or a returned value (not a comment).
_JS_URL = re.compile(
    r"(?:[A-Za-z0-9_$]\(|[=:,?]|\breturn|importScripts\()\s*[\"'`]((?:https?:)?//[^\"'`\s]*)"
)

# <link rel=...> values that are navigation, not something the browser fetches.
_NAVIGATION_RELS = {"canonical", "alternate", "prev", "next", "author", "license", "help", "me", "search"}
_LOAD_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "use": ("href", "xlink:href"),
    "image": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
}


@dataclass(frozen=True)
class ConditionalLoader:
    """An external URL in Material's JavaScript that is fetched only when ``trigger`` holds."""

    prefix: str
    trigger: str
    page_marker: re.Pattern[str] | None  # present in a page's HTML when the condition holds there
    provided_by: re.Pattern[str] | None = None  # present when the page brings its own copy instead

    def fires_on(self, page: str) -> bool:
        if self.page_marker is None or not self.page_marker.search(page):
            return False
        return self.provided_by is None or not self.provided_by.search(page)


_SOURCE_MARKER = re.compile(r"data-md-component=[\"']source[\"']")
CONDITIONAL_LOADERS: tuple[ConditionalLoader, ...] = (
    # material/templates/assets/javascripts/bundle.*.min.js: loads Mermaid for class="mermaid" blocks
    ConditionalLoader(
        "https://unpkg.com/mermaid@",
        "a Mermaid diagram on the page",
        re.compile(r"class=[\"'][^\"']*\bmermaid\b"),
        re.compile(r"<script[^>]+src=[\"'](?![a-z]+:|//)[^\"']*/mermaid\.min\.js[\"']"),
    ),
    # ...a polyfill, only in browsers without ResizeObserver (every current browser has it)
    ConditionalLoader("https://unpkg.com/resize-observer-polyfill", "a browser without ResizeObserver", None),
    # ...repository facts, only when repo_url points to GitHub or GitLab
    ConditionalLoader("https://api.github.com/", "repo_url on GitHub", _SOURCE_MARKER),
    ConditionalLoader("https://${", "repo_url on GitLab", _SOURCE_MARKER),
)


@dataclass(frozen=True)
class ExternalLoad:
    """One thing a built file would fetch from another host."""

    file: Path
    what: str
    url: str

    def format(self, root: Path) -> str:
        where = self.file.relative_to(root) if self.file.is_relative_to(root) else self.file
        return f"{where}: {self.what} loads {self.url}"


def is_external_url(value: str) -> bool:
    value = value.strip()
    return bool(_EXTERNAL.match(value)) and not value.lower().startswith(_LOCAL_SCHEMES)


def css_loads(text: str) -> list[str]:
    urls = [next(g for g in m.groups() if g is not None) for m in _CSS_URL.finditer(text)]
    urls += [next(g for g in m.groups() if g is not None) for m in _CSS_IMPORT.finditer(text)]
    return [u for u in urls if is_external_url(u)]


def js_loads(text: str) -> list[str]:
    known = tuple(loader.prefix for loader in CONDITIONAL_LOADERS)
    return [m.group(1) for m in _JS_URL.finditer(text) if not m.group(1).startswith(known)]


class _PageScanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        for name in _LOAD_ATTRIBUTES.get(tag, ()):
            for url in _split_srcset(values.get(name, ""), name):
                if is_external_url(url):
                    self.found.append((f"<{tag} {name}>", url))
        if tag == "link" and is_external_url(values.get("href", "")):
            rels = set(values.get("rel", "").lower().split())
            if not rels or not rels <= _NAVIGATION_RELS:
                self.found.append((f"<link rel={values.get('rel', '')}>", values["href"]))
        if "style" in values:
            self.found += [(f"<{tag} style>", url) for url in css_loads(values["style"])]
        if tag in ("style", "script") and not values.get("src"):
            self._inside = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inside:
            self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "style":
            self.found += [("<style>", url) for url in css_loads(data)]
        elif self._inside == "script":
            self.found += [("inline <script>", url) for url in js_loads(data)]


def _split_srcset(value: str, attribute: str) -> list[str]:
    if attribute != "srcset":
        return [value] if value else []
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def audit_file(path: Path) -> list[ExternalLoad]:
    """External loads of one built file (HTML, CSS, JS or SVG; other files load nothing)."""
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".css", ".js", ".svg"):
        return []
    if suffix == ".js" and sha256_of(path) in _VENDORED_SHA256:
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    if suffix == ".css":
        return [ExternalLoad(path, "CSS url()/@import", url) for url in css_loads(text)]
    if suffix == ".js":
        return [ExternalLoad(path, "JavaScript URL literal", url) for url in js_loads(text)]
    scanner = _PageScanner()
    scanner.feed(text)
    scanner.close()
    loads = [ExternalLoad(path, what, url) for what, url in scanner.found]
    for loader in CONDITIONAL_LOADERS:
        if loader.fires_on(text):
            loads.append(ExternalLoad(path, f"Material's script ({loader.trigger})", loader.prefix + "..."))
    return loads


def audit_site(site_dir: Path) -> list[ExternalLoad]:
    """Every external load in every file of a built site."""
    loads: list[ExternalLoad] = []
    for path in sorted(site_dir.rglob("*")):
        if path.is_file():
            loads += audit_file(path)
    return loads
