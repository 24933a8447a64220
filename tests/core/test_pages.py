"""checks.pages: the one UI page check (install verification and diagnosis), as a results.Check."""

from __future__ import annotations

import httpx

from platform_kb.checks.pages import ui_check
from platform_kb.probes import Prober

PAGE = '<html><head><base href="/ui/static/"><link rel="stylesheet" href="app.css"></head></html>'


def _prober(routes: dict[str, httpx.Response]) -> Prober:
    def handler(request: httpx.Request) -> httpx.Response:
        return routes.get(request.url.path, httpx.Response(404, text="not found"))

    return Prober(transport=httpx.MockTransport(handler))


def _html(text: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, text=text, headers={"content-type": "text/html"})


def test_a_page_whose_assets_load_under_its_base_href_passes() -> None:
    prober = _prober(
        {
            "/ui/": _html(PAGE),
            "/ui/static/app.css": httpx.Response(200, text="a{}", headers={"content-type": "text/css"}),
        }
    )
    result = ui_check("http://127.0.0.1:8080", "/ui/", "UI", prober=prober)
    assert (result.id, result.status) == ("ui", "ok")
    assert prober.requests == ["http://127.0.0.1:8080/ui/", "http://127.0.0.1:8080/ui/static/app.css"]


def test_an_asset_answered_with_html_fails_the_check() -> None:
    prober = _prober({"/ui/": _html(PAGE), "/ui/static/app.css": _html("<html>login</html>")})
    result = ui_check("http://127.0.0.1:8080", "/ui/", "UI", prober=prober)
    assert result.status == "error" and not result.ok
    assert result.evidence["url"] == "http://127.0.0.1:8080/ui/"


def test_a_redirect_to_a_protocol_relative_jobs_fails_without_a_request_off_loopback() -> None:
    prober = _prober({"/ui/": httpx.Response(302, headers={"location": "//jobs/"})})
    result = ui_check("http://127.0.0.1:8080", "/ui/", "UI", prober=prober)
    assert result.status == "error"
    assert prober.requests == ["http://127.0.0.1:8080/ui/"]


def test_a_page_outside_the_prefix_fails() -> None:
    prober = _prober({"/ui/": httpx.Response(302, headers={"location": "/login"}), "/login": _html(PAGE)})
    assert ui_check("http://127.0.0.1:8080", "/ui/", "UI", prober=prober).status == "error"
