"""The Grafana stand-in answers as Grafana does under a sub-path (status, Location, base href, assets)."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import httpx
import pytest

from platform_kb.checks.grafana import base_href
from platform_kb.probes import extract_assets
from platform_kb.processes import free_port, port_open, spawn, wait_for_port, wait_until
from platform_kb_lab.grafana import GrafanaSettings, main, parse_app_url, route

from .conftest import DEFAULT_ROOT_URL, HOST, SUB_ROOT_URL, standin_argv

SUB_TRUE = GrafanaSettings(SUB_ROOT_URL, True)
SUB_FALSE = GrafanaSettings(SUB_ROOT_URL, False)
NO_SUB = GrafanaSettings(DEFAULT_ROOT_URL, True)


def location(settings: GrafanaSettings, uri: str) -> tuple[int, str]:
    reply = route(settings, "GET", uri)
    return reply.status, dict(reply.headers).get("Location", "")


@pytest.mark.parametrize(
    ("root_url", "app_url", "sub"),
    [
        (DEFAULT_ROOT_URL, "http://localhost:3000/", ""),
        (SUB_ROOT_URL, "http://localhost:3000/grafana/", "/grafana"),
        ("http://127.0.0.1:8080/grafana", "http://127.0.0.1:8080/grafana/", "/grafana"),
    ],
)
def test_root_url_gives_app_url_and_sub_url(root_url: str, app_url: str, sub: str) -> None:
    settings = GrafanaSettings(root_url)
    assert (settings.app_url, settings.app_sub_url) == (app_url, sub)
    if "%(" not in root_url:
        assert parse_app_url(root_url) == (app_url, sub)


def test_sub_path_served_routes_prefixed_paths() -> None:
    assert location(SUB_TRUE, "/grafana/") == (302, "/grafana/login")
    login = route(SUB_TRUE, "GET", "/grafana/login")
    assert login.status == 200
    html = login.body.decode()
    assert base_href(html) == "/grafana/"
    assets = [a.ref for a in extract_assets(html)[0]]
    assert len(assets) == 3 and all(a.startswith("public/build/") for a in assets)
    for ref in assets:
        assert route(SUB_TRUE, "GET", "/grafana/" + ref).status == 200
    health = route(SUB_TRUE, "GET", "/grafana/api/health")
    assert health.status == 200 and json.loads(health.body)["database"] == "ok"


def test_sub_path_served_redirects_unprefixed_pages_to_app_url_but_not_api() -> None:
    assert location(SUB_TRUE, "/") == (301, "http://localhost:3000/grafana/")
    assert location(SUB_TRUE, "/login?x=1") == (301, "http://localhost:3000/grafana/login?x=1")
    assert route(SUB_TRUE, "GET", "/api/health").status == 200


def test_sub_path_not_served_loops_on_its_own_login_page() -> None:
    assert location(SUB_FALSE, "/grafana/") == (302, "/grafana/login")
    status, first = location(SUB_FALSE, "/grafana/login")
    assert (status, first) == (302, "/grafana/login?redirectTo=%2Flogin")
    assert location(SUB_FALSE, first)[1].startswith("/grafana/login?redirectTo=")
    assert location(SUB_FALSE, "/grafana/api/health") == (302, "/grafana/login?redirectTo=%2Fapi%2Fhealth")
    assert route(SUB_FALSE, "GET", "/login").status == 200  # a stripping proxy would work


def test_without_sub_path_redirects_and_assets_leave_the_prefix() -> None:
    assert location(NO_SUB, "/grafana/") == (302, "/login?redirectTo=%2Fgrafana%2F")
    html = route(NO_SUB, "GET", "/login").body.decode()
    assert base_href(html) == "/"
    assert route(NO_SUB, "GET", "/api/secret").status == 401


def test_before_11_5_the_redirect_target_goes_into_a_cookie() -> None:
    old = GrafanaSettings(SUB_ROOT_URL, False, "11.4.0")
    reply = route(old, "GET", "/grafana/api/health")
    headers = dict(reply.headers)
    assert (reply.status, headers["Location"]) == (302, "/grafana/login")
    assert headers["Set-Cookie"].startswith("redirect_to=%2Fgrafana%2Fapi%2Fhealth")


def test_before_10_unprefixed_paths_are_routed_too() -> None:
    assert route(GrafanaSettings(SUB_ROOT_URL, True, "9.5.0"), "GET", "/login").status == 200


def test_process_serves_over_http_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port(HOST)
    log = tmp_path / "grafana.log"
    proc, record = spawn("grafana-stand-in", standin_argv(port, SUB_ROOT_URL, True, "12.1.0"), log)
    try:
        wait_for_port(HOST, port, 20, proc, log)
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10, trust_env=False) as http:
            first = http.get("/grafana/", headers={"X-Forwarded-Prefix": "/other"})
            assert (first.status_code, first.headers["location"]) == (302, "/grafana/login")
            page = http.get("/grafana/login")
            assert page.status_code == 200 and 'base href="/grafana/"' in page.text
            assert http.get("/grafana/api/health").json()["version"] == "12.1.0"
            assert http.head("/grafana/login").status_code == 200
        os.kill(record.pid, signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        assert record.stop(timeout=10)
    assert wait_until(lambda: not port_open(HOST, port), 5)
    assert "stand-in, not Grafana" in log.read_text()


def test_cli_rejects_a_bad_flag_value_and_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--serve-from-sub-path", "yes"])
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        assert main(["--host", HOST, "--port", str(taken.getsockname()[1])]) == 2
    assert "cannot listen" in capsys.readouterr().err
