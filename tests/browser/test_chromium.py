"""The browser oracle itself: headless Chromium tells a working page from each way of being broken.

A small in-process HTTP server on 127.0.0.1 serves a page with its stylesheet and script, a page
whose stylesheet is redirected to HTML (what ``rewrite-target: /`` does to assets), a redirect loop
and a redirect to ``//jobs/`` (host ``jobs``, the #3-10 symptom). The oracle must call only the
first one working.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ..prereq import unless
from .chromium import Chromium, find_chromium

pytestmark = unless(find_chromium(), "chromium (scripts/setup installs it)")

PAGE = (
    '<!doctype html><html><head><title>t</title><link rel="stylesheet" href="{css}">'
    '<script src="{js}"></script></head><body>hi</body></html>'
)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: str = "", ctype: str = "text/html", location: str = "") -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path
        if path == "/ok/":
            self._send(200, PAGE.format(css="static/a.css", js="static/a.js"))
        elif path == "/ok/static/a.css":
            self._send(200, "body { margin: 0 }", "text/css")
        elif path == "/ok/static/a.js":
            self._send(200, "window.jQuery = function () {};", "application/javascript")
        elif path == "/assets-html/":
            self._send(200, PAGE.format(css="/assets-html/x.css", js="/ok/static/a.js"))
        elif path == "/assets-html/x.css":
            self._send(302, location="/assets-html/")
        elif path == "/loop/":
            self._send(302, location="/loop/")
        elif path == "/leave/":
            self._send(302, location="//jobs/")
        else:
            self._send(404, "<html>not found</html>")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as chromium:
        yield chromium


def test_a_page_with_its_css_and_js_works(server: str, browser: Chromium) -> None:
    page = browser.load(server + "/ok/")
    assert page.works, page.problems()
    assert page.styles_applied() and page.jquery


def test_an_asset_redirected_to_html_is_broken(server: str, browser: Chromium) -> None:
    page = browser.load(server + "/assets-html/")
    assert not page.works
    assert any("CSS/JS broken" in p or "styles not applied" in p for p in page.problems())


def test_a_redirect_loop_is_seen(server: str, browser: Chromium) -> None:
    page = browser.load(server + "/loop/")
    assert page.loop()
    assert page.nav_error == "net::ERR_TOO_MANY_REDIRECTS"
    assert not page.works


def test_a_redirect_to_another_host_leaves_and_fails_without_dns(server: str, browser: Chromium) -> None:
    page = browser.load(server + "/leave/")
    assert page.left_host() == ["http://jobs/"]
    assert not page.works


def test_a_404_is_broken(server: str, browser: Chromium) -> None:
    page = browser.load(server + "/nothing/")
    assert not page.works
