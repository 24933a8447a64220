"""check_grafana_subpath against the stand-in, one process per grafana.ini configuration.

The ingress (path /grafana, Prefix, no rewrite) passes paths unchanged, so these hit the stand-in
directly; the rewrite cases go through the prefix-stripping client transport (see conftest).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from platform_kb.checks.grafana import check_grafana_subpath, origin_of

from .conftest import DEFAULT_ROOT_URL, SUB_ROOT_URL, StandIn


def ids(checks: list) -> list[str]:
    return [c.id for c in checks]


def test_a_sub_path_in_root_url_and_served_passes(
    grafana: Callable[..., StandIn], http: httpx.Client
) -> None:
    standin = grafana(SUB_ROOT_URL, True)
    checks = check_grafana_subpath(http, standin.base_url, "/grafana")
    assert ids(checks) == ["grafana-ui", "grafana-health"]
    assert all(c.ok for c in checks), [c.detail for c in checks]
    ui = checks[0]
    assert ui.evidence["base_href"] == "/grafana/" and ui.evidence["assets"] == "3"
    assert "302 /grafana/login" in ui.evidence["redirects"]


def test_b_default_root_url_is_diagnosed(grafana: Callable[..., StandIn], http: httpx.Client) -> None:
    standin = grafana(DEFAULT_ROOT_URL, True)
    ui, health = check_grafana_subpath(http, standin.base_url, "/grafana")
    assert (ui.id, ui.ok) == ("grafana-root-url", False)
    assert "/login" in ui.detail
    # the fix names the address the browser uses through the tunnel, not %(http_port)s (3000)
    assert f'server.root_url: "{origin_of(standin.base_url)}/grafana/"' in ui.fix
    assert "serve_from_sub_path: true" in ui.fix and "grafana.ingress.path: /grafana" in ui.fix
    assert (health.id, health.ok) == ("grafana-root-url", False)


def test_c_sub_path_not_served_behind_a_passing_ingress(
    grafana: Callable[..., StandIn], http: httpx.Client
) -> None:
    standin = grafana(SUB_ROOT_URL, False)
    ui, health = check_grafana_subpath(http, standin.base_url, "/grafana")
    assert (ui.id, ui.ok) == ("grafana-subpath-not-served", False)
    assert ui.evidence["redirects"].count("/grafana/login") >= 2
    assert 'grafana."grafana.ini".server.serve_from_sub_path: true' in ui.fix
    assert (health.id, health.ok) == ("grafana-subpath-not-served", False)


def test_c_before_11_5_loops_too(grafana: Callable[..., StandIn], http: httpx.Client) -> None:
    standin = grafana(SUB_ROOT_URL, False, "11.4.0")
    assert ids(check_grafana_subpath(http, standin.base_url)) == ["grafana-subpath-not-served"] * 2


def test_d_served_sub_path_behind_a_stripping_ingress(
    grafana: Callable[..., StandIn], stripping_http: httpx.Client
) -> None:
    standin = grafana(SUB_ROOT_URL, True)
    ui, health = check_grafana_subpath(stripping_http, standin.base_url, "/grafana")
    assert (ui.id, ui.ok) == ("grafana-prefix-stripped", False)
    assert "301 http://localhost:3000/grafana/" in ui.evidence["redirects"]
    assert "rewrite-target" in ui.fix
    assert health.ok  # /api/health is exempt from SubPathRedirect


def test_e_not_served_behind_a_stripping_ingress_works(
    grafana: Callable[..., StandIn], stripping_http: httpx.Client
) -> None:
    standin = grafana(SUB_ROOT_URL, False)
    checks = check_grafana_subpath(stripping_http, standin.base_url, "/grafana")
    assert [(c.id, c.ok) for c in checks] == [("grafana-ui", True), ("grafana-health", True)]


def test_default_root_url_behind_a_stripping_ingress(
    grafana: Callable[..., StandIn], stripping_http: httpx.Client
) -> None:
    standin = grafana(DEFAULT_ROOT_URL, False)
    ui, _health = check_grafana_subpath(stripping_http, standin.base_url, "/grafana")
    assert ui.id == "grafana-root-url"
