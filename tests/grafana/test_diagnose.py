"""Diagnoses that need an ingress answer the stand-in cannot give (503, 404, nothing, a failing DB)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from platform_kb.checks.grafana import base_href, check_grafana_subpath, under
from platform_kb_lab.grafana import GrafanaSettings, route

BASE = "http://127.0.0.1:8080"
NGINX_404 = "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center></body></html>"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_503_without_endpoints() -> None:
    with client(
        lambda r: httpx.Response(503, text="<html>503 Service Temporarily Unavailable</html>")
    ) as http:
        ui, health = check_grafana_subpath(http, BASE)
    assert (ui.id, health.id) == ("grafana-no-endpoints", "grafana-no-endpoints")
    assert "kubectl" in ui.fix


def test_404_without_an_ingress_rule() -> None:
    with client(lambda r: httpx.Response(404, text=NGINX_404)) as http:
        ui, health = check_grafana_subpath(http, BASE)
    assert (ui.id, health.id) == ("grafana-ingress-path", "grafana-health")
    assert "grafana.ingress.hosts: []" in ui.fix


def test_connection_refused() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with client(refuse) as http:
        checks = check_grafana_subpath(http, BASE)
    assert [c.id for c in checks] == ["grafana-unreachable", "grafana-unreachable"]
    assert "kb tunnel up" in checks[0].fix


def test_failing_database() -> None:
    settings = GrafanaSettings("%(protocol)s://%(domain)s:%(http_port)s/grafana/", True)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/grafana/api/health":
            return httpx.Response(503, json={"database": "failing", "version": "12.2.0"})
        reply = route(settings, "GET", request.url.raw_path.decode())
        return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body)

    with client(answer) as http:
        ui, health = check_grafana_subpath(http, BASE)
    assert ui.ok and (health.id, health.ok) == ("grafana-database", False)
    assert health.evidence["database"] == "failing" and "PVC" in health.fix


def test_base_href_outside_the_prefix_is_caught_even_when_the_page_url_is_inside() -> None:
    # root_url without the sub-path but a login page reached under /grafana (e.g. a bookmark):
    # resolving public/build/... against the page URL (ignoring <base href>) would pass.
    page = '<html><head><base href="/" /><link rel="stylesheet" href="public/build/a.css"></head></html>'

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/grafana/":
            return httpx.Response(200, text=page)
        return httpx.Response(200, json={"database": "ok"})

    with client(answer) as http:
        ui, _ = check_grafana_subpath(http, BASE)
    assert ui.id == "grafana-root-url" and '<base href="/">' in ui.detail


def test_helpers() -> None:
    assert base_href('<base href="/grafana/"><base href="/x/">') == "/grafana/"
    assert base_href("<p>none</p>") is None
    assert under("/grafana", "/grafana") and under("/grafana/x", "/grafana/")
    assert not under("/grafanax", "/grafana") and not under("/login", "/grafana")
