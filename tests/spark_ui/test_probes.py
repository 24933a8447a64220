"""HTTP probes: browser-exact resolution, nothing sent off loopback, bounded waits, real wire results."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from platform_kb.probes import (
    HttpResult,
    Prober,
    extract_assets,
    is_loopback_host,
    resolve,
    why_not_requested,
)

HTTP = Path(__file__).parent / "data" / "http"


def _refuse_all() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a request was sent: {request.url}")

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("//jobs/", "http://jobs/"),  # protocol-relative: the HOST "jobs"
        ("//static/bootstrap.min.css", "http://static/bootstrap.min.css"),
        (
            "/spark-ui/spark/long-test/static/webui.js",
            "http://127.0.0.1:8080/spark-ui/spark/long-test/static/webui.js",
        ),
        ("static/webui.js", "http://127.0.0.1:8080/spark-ui/spark/long-test/jobs/static/webui.js"),
        ("../static/webui.js", "http://127.0.0.1:8080/spark-ui/spark/long-test/static/webui.js"),
        ("https://cdn.example.com/x.js", "https://cdn.example.com/x.js"),
    ],
)
def test_resolution_is_the_browsers(ref, expected):
    assert resolve("http://127.0.0.1:8080/spark-ui/spark/long-test/jobs/", ref) == expected


def test_base_href_is_honoured():
    html = '<html><head><base href="/p/"><link rel="stylesheet" href="a.css"></head></html>'
    refs, base = extract_assets(html)
    assert base == "/p/"
    assert resolve("http://127.0.0.1:8080/x/y/", refs[0].ref, base) == "http://127.0.0.1:8080/p/a.css"


def test_extracts_every_stylesheet_and_script_from_a_real_spark_page():
    refs, base = extract_assets((HTTP / "jobs-proxybase-root.html").read_text(encoding="utf-8"))
    assert base is None
    kinds = [r.kind for r in refs]
    assert kinds.count("css") == 4 and kinds.count("js") == 10
    assert all(r.ref.startswith("//static/") for r in refs)
    assert "//static/spark-logo.svg" not in {r.ref for r in refs}  # rel="shortcut icon" is not CSS/JS


def test_rel_tokens_and_inline_scripts():
    html = (
        '<link rel="Alternate StyleSheet" href="/a.css"><link rel="icon" href="/i.svg">'
        '<script>inline()</script><script src="/b.js"/><script src="/b.js"></script>'
    )
    refs, _ = extract_assets(html)
    assert [(r.kind, r.ref) for r in refs] == [("css", "/a.css"), ("js", "/b.js")]


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.0.0.7", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("jobs", False),
        ("static", False),
        ("10.0.0.1", False),
        ("example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_loopback_only(host, ok):
    assert is_loopback_host(host) is ok


def test_off_loopback_urls_are_broken_without_any_traffic():
    with Prober(transport=_refuse_all()) as prober:
        for url in (
            "http://jobs/",
            "http://static/bootstrap.min.css",
            "https://cdn.example.com/x.js",
            "ftp://127.0.0.1/x",
        ):
            result = prober.get(url)
            assert result.status is None and result.error
            assert result.status_line.startswith("(응답 없음:")
        assert prober.requests == []
    assert "호스트 `jobs`" in (why_not_requested("http://jobs/") or "")


def test_assets_of_a_proxybase_root_page_are_all_broken_and_never_requested():
    page = HttpResult(
        url="http://127.0.0.1:8080/jobs/",
        status=200,
        reason="OK",
        body=(HTTP / "jobs-proxybase-root.html").read_text(encoding="utf-8"),
    )
    with Prober(transport=_refuse_all()) as prober:
        assets = prober.assets(page)
        assert prober.requests == []
    assert len(assets) == 14 and all(a.broken and a.result is None for a in assets)
    assert {a.url.split("/")[2] for a in assets} == {"static"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        status, headers, body = self.routes.get(self.path, (404, {}, b"nope"))
        self.send_response(status)
        for k, v in {
            **headers,
            "Content-Length": str(len(body)),
            "X-Seen-Host": self.headers.get("Host", ""),
        }.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.routes = {
        "/p/": (302, {"Location": "/p/jobs/"}, b""),
        "/p/jobs/": (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            (HTTP / "jobs-proxybase-prefix.html").read_bytes().replace(b"/spark-ui/spark/long-test/", b"/p/"),
        ),
        "/p/static/bootstrap.min.css": (200, {"Content-Type": "text/css"}, b"body{}"),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_real_wire_status_line_location_and_host(server):
    with Prober() as prober:
        r = prober.get(server + "/p/", host="spark.homelab")
        assert r.status_line == "HTTP/1.1 302 Found"
        assert r.location == "/p/jobs/"
        assert r.evidence() == "HTTP/1.1 302 Found; Location: /p/jobs/"
        page = prober.get(server + "/p/jobs/", host="spark.homelab")
        assert page.ok and "<html" in page.body
        assets = prober.assets(page)
    ok = [a for a in assets if not a.broken]
    assert [a.asset.ref for a in ok] == ["/p/static/bootstrap.min.css"]
    assert all(a.result is not None and a.result.host_header == "spark.homelab" for a in assets)
    assert {a.result.status for a in assets if a.broken} == {404}


def test_connection_refused_is_a_result_not_an_exception():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Prober() as prober:
        r = prober.get(f"http://127.0.0.1:{port}/")
    assert r.status is None and "ConnectError" in (r.error or "")


def test_a_silent_server_is_cut_off_by_the_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        started = time.monotonic()
        with Prober(timeout=httpx.Timeout(0.5, connect=0.5)) as prober:
            r = prober.get(f"http://127.0.0.1:{port}/")
        assert time.monotonic() - started < 3
    assert r.status is None and "Timeout" in (r.error or "")


def _routes(routes: dict[str, tuple[int, dict[str, str], str]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "127.0.0.1", f"left loopback: {request.url}"
        status, headers, body = routes.get(request.url.path, (404, {"Content-Type": "text/html"}, "nope"))
        return httpx.Response(status, headers=headers, text=body)

    return httpx.MockTransport(handler)


BASE = "http://127.0.0.1:8080"
PAGE = '<html><head><base href="/p/"><link rel="stylesheet" href="static/a.css"></head></html>'


def test_navigate_follows_redirects_and_stops_on_a_repeated_url():
    transport = _routes(
        {"/p/": (302, {"Location": "/p/jobs/"}, ""), "/p/jobs/": (302, {"Location": "/p/jobs/"}, "")}
    )
    with Prober(transport=transport) as prober:
        nav = prober.navigate(BASE + "/p/")
        assert prober.requests == [BASE + "/p/", BASE + "/p/jobs/"]  # the repeat is not requested again
    assert nav.outcome == "loop" and nav.repeated == BASE + "/p/jobs/"
    assert "무한 리다이렉트" in nav.evidence()


def test_navigate_gives_up_after_ten_hops():
    routes = {f"/h{i}": (302, {"Location": f"/h{i + 1}"}, "") for i in range(30)}
    with Prober(transport=_routes(routes)) as prober:
        nav = prober.navigate(BASE + "/h0")
        assert len(prober.requests) == 11
    assert nav.outcome == "too-many-redirects"


def test_navigate_never_follows_a_location_off_the_tunnel():
    with Prober(transport=_routes({"/": (302, {"Location": "//jobs/"}, "")})) as prober:
        nav = prober.navigate(BASE + "/")
        assert prober.requests == [BASE + "/"]
    assert nav.outcome == "left-host" and nav.left_to == "http://jobs/"


def test_check_page_works_only_with_every_asset_loaded():
    routes = {
        "/p/": (302, {"Location": "/p/jobs/"}, ""),
        "/p/jobs/": (200, {"Content-Type": "text/html;charset=utf-8"}, PAGE),
        "/p/static/a.css": (200, {"Content-Type": "text/css"}, "body{}"),
    }
    with Prober(transport=_routes(routes)) as prober:
        ok = prober.check_page(BASE + "/p/", inside="/p/")
    assert ok.works and [a.url for a in ok.assets] == [BASE + "/p/static/a.css"]  # <base href> honoured
    # the same page outside the prefix, a CSS answered with HTML, a CSS behind a redirect loop
    with Prober(transport=_routes(routes)) as prober:
        assert "밖" in (prober.check_page(BASE + "/p/", inside="/q/").problem or "")
    html_css = {**routes, "/p/static/a.css": (200, {"Content-Type": "text/html"}, "<html></html>")}
    with Prober(transport=_routes(html_css)) as prober:
        page = prober.check_page(BASE + "/p/", inside="/p/")
    assert not page.works and "HTML" in (page.assets[0].problem or "")
    looping_css = {**routes, "/p/static/a.css": (302, {"Location": "/p/static/a.css"}, "")}
    with Prober(transport=_routes(looping_css)) as prober:
        page = prober.check_page(BASE + "/p/", inside="/p/")
    assert not page.works and page.assets[0].result.status == 302 and "무한" in (page.assets[0].problem or "")


def test_an_asset_redirect_is_followed_like_a_browser():
    routes = {
        "/p/": (200, {"Content-Type": "text/html"}, PAGE),
        "/p/static/a.css": (301, {"Location": "/p/static/a2.css"}, ""),
        "/p/static/a2.css": (200, {"Content-Type": "text/css"}, "body{}"),
    }
    with Prober(transport=_routes(routes)) as prober:
        page = prober.check_page(BASE + "/p/", inside="/p/")
    assert (
        page.works
        and page.assets[0].redirects == 1
        and page.assets[0].result.url == BASE + "/p/static/a2.css"
    )


def test_an_absolute_location_on_the_ingress_host_stays_on_the_tunnel():
    routes = {
        "/p/": (302, {"Location": "http://spark.homelab:8080/p/jobs/"}, ""),
        "/p/jobs/": (200, {"Content-Type": "text/html"}, PAGE),
        "/p/static/a.css": (200, {"Content-Type": "text/css"}, "body{}"),
    }
    with Prober(transport=_routes(routes)) as prober:
        page = prober.check_page(BASE + "/p/", host="spark.homelab", inside="/p/")
    assert page.works and page.page.url == BASE + "/p/jobs/" and page.page.host_header == "spark.homelab"
    with Prober(transport=_routes(routes)) as prober:  # without the Host rule it is another host
        assert prober.navigate(BASE + "/p/").outcome == "left-host"
