"""The Spark UI diagnosis: :class:`Observations` -> :class:`~platform_kb.results.Check` list.

Pure: each check returns a finding with a stable id only when its evidence holds. The causes live
by topic (:mod:`.routing`, :mod:`.proxybase`, :mod:`.rewrite`); here are the page's own
``static-assets-broken``, the order they run in (:data:`CHECKS`, then :data:`FOLLOW_UPS`) and the
catch-all ``ui-broken-unexplained``, so a broken UI never ends with no findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...probes import Prober
from ...results import Check
from .facts import KubeReader, collect_kube, find_applications, lookup_history, probe_ui, read_driver_conf
from .model import Observations
from .proxybase import check_proxybase_mismatch, check_proxybase_root
from .rewrite import (
    check_missing_rewrite,
    check_redirect_loop,
    check_rewrite_single_target,
    check_x_forwarded_prefix,
)
from .routing import (
    check_app_name_suffix,
    check_app_not_found,
    check_ingress_not_found,
    check_ingress_path_mismatch,
    check_no_ready_endpoints,
)
from .verdict import now_or_none

Rule = Callable[[Observations], Check | None]


def check_static_assets(obs: Observations) -> Check | None:
    if obs.jobs is None or not obs.jobs.ok:
        return None
    broken = [a for a in obs.assets if a.broken]
    if not broken:
        return None
    evidence: dict[str, Any] = {
        "페이지": f"{obs.jobs.url} → {obs.jobs.status_line}",
        "깨진 CSS/JS": f"{len(broken)}/{len(obs.assets)}",
    }
    for i, a in enumerate(broken[:4], 1):
        evidence[f"예 {i}"] = f"{a.asset.ref} → {a.url} : {a.problem}"
    protocol_relative = any(a.asset.ref.startswith("//") for a in broken)
    if protocol_relative:
        cause = "주소가 `//`로 시작해 브라우저가 다른 호스트(`static` 등)에서 찾습니다 — `proxybase-root`를 고치면 풀립니다."
    elif obs.ingress is not None and any(not a.url.startswith(obs.ui_url()) for a in broken):
        cause = f"주소가 Ingress 접두사 `{obs.ingress.prefix}` 밖을 가리킵니다 — proxyBase를 접두사와 같게 하세요."
    else:
        cause = "Ingress 접두사 안의 주소인데도 실패합니다 — rewrite-target과 드라이버 상태를 보세요."
    return Check(
        id="static-assets-broken",
        status="error",
        title=f"Spark UI 페이지가 참조하는 CSS/JS {len(broken)}/{len(obs.assets)}개가 터널로 로드되지 않습니다",
        detail=(
            "브라우저는 jobs 페이지의 `<link rel=stylesheet>`와 `<script src>`를 페이지 주소 기준으로 풀어서 요청합니다. "
            "그 요청이 Ingress를 거쳐 드라이버에 닿지 않으면 화면이 깨집니다. " + cause
        ),
        evidence=evidence,
        fix=cause + " " + now_or_none(obs),
    )


CHECKS: tuple[Rule, ...] = (
    check_app_name_suffix,
    check_ingress_not_found,
    check_ingress_path_mismatch,
    check_no_ready_endpoints,
    check_proxybase_root,
    check_proxybase_mismatch,
    check_missing_rewrite,
    check_static_assets,
    check_rewrite_single_target,
    check_x_forwarded_prefix,
)

# findings that explain why the prefix's page does not work (anything else: ui-broken-unexplained)
PAGE_CAUSES = frozenset(
    {
        "ingress-not-found",
        "no-ready-endpoints",
        "proxybase-root",
        "proxybase-mismatch",
        "missing-rewrite",
        "static-assets-broken",
        "rewrite-to-single-target",
        "redirect-loop",
    }
)


def check_unexplained(obs: Observations, found: list[Check]) -> Check | None:
    """The page probe did not see the UI work and no finding says why: never "no findings"."""
    page = obs.page
    if page is None or page.works or any(f.id in PAGE_CAUSES for f in found):
        return None
    evidence: dict[str, Any] = {"확인한 주소": page.navigation.start, **page.evidence()}
    if page.page is not None:
        evidence["마지막 응답"] = page.page.evidence() + (
            f"; Content-Type: {page.page.content_type}" if page.page.content_type else ""
        )
    return Check(
        id="ui-broken-unexplained",
        status="error",
        title="Spark UI가 브라우저가 보는 방식으로 동작하지 않는데, 알려진 원인에 해당하지 않습니다",
        detail=(
            "접두사 주소를 리다이렉트를 따라가 200 HTML 페이지(접두사 안)에 닿고, 그 페이지의 CSS/JS가 모두 200과 HTML이 "
            "아닌 형식으로 로드될 때만 정상으로 봅니다. 이번 확인은 그렇지 않았고, 이 런북이 아는 원인은 근거가 없습니다. "
            f"판정: {page.problem}"
        ),
        evidence=evidence,
        fix=(
            "증거의 마지막 응답과 깨진 CSS/JS를 드라이버 로그, ingress-nginx 로그와 맞춰 보세요. "
            "원인을 찾으면 #3-10 글과 이 런북에 새 발견 사항으로 더해 주세요. " + now_or_none(obs)
        ),
    )


FOLLOW_UPS: tuple[Callable[[Observations, list[Check]], Check | None], ...] = (
    check_redirect_loop,
    check_unexplained,
)


def diagnose(obs: Observations, app_name: str | None = None, url: str | None = None) -> list[Check]:
    """All findings whose evidence holds. ``app_name``/``url`` override obs.

    Known causes first (:data:`CHECKS`), then :data:`FOLLOW_UPS`: a loop no known cause explains,
    and — whenever the page probe did not see the UI work and nothing explains it —
    ``ui-broken-unexplained``. So a broken UI never ends with no findings.
    """
    if app_name is not None:
        obs.app_name = app_name
    if url is not None:
        obs.url = url
    missing = check_app_not_found(obs)
    if missing:
        return [missing]
    found = [f for f in (check(obs) for check in CHECKS) if f is not None]
    for follow_up in FOLLOW_UPS:
        extra = follow_up(obs, found)
        if extra is not None:
            found.append(extra)
    return found


def collect_and_diagnose(
    reader: KubeReader, prober: Prober, obs: Observations, history_server_url: str = ""
) -> list[Check]:
    """The whole flow without narration (benchmarks and tests; the runbook calls the steps itself)."""
    find_applications(reader, obs)
    collect_kube(reader, obs)
    if not obs.driver_gone:
        read_driver_conf(prober, obs)
    probe_ui(prober, obs)
    if obs.driver_gone:
        lookup_history(prober, obs, history_server_url)
    return diagnose(obs)
