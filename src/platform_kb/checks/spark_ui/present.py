"""The Spark UI diagnosis as the runbook and the site show it: Korean table rows and short texts.

Each function takes the records of :mod:`.model` (or the whole :class:`Observations`) and returns
rows for ``rb.table`` or a line of text; nothing here reads the cluster or decides a finding. The
findings quote a few of these texts as evidence (:func:`shown`, :func:`endpoints_summary`,
:func:`annotations_text`), so a value reads the same in a table and in a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .model import (
    PROXY_BASE,
    PROXY_REDIRECT_URI,
    ApiCall,
    AppInfo,
    EndpointsInfo,
    HistoryInfo,
    IngressInfo,
    Observations,
    PodInfo,
    ServiceInfo,
    UiConf,
)

if TYPE_CHECKING:
    from ...tunnel import Tunnel

Row = dict[str, Any]

# --- texts the findings quote too ------------------------------------------------------------------


def shown(value: str | None) -> str:
    """A conf value as the tables and findings print it: unset, empty and set read differently."""
    if value is None:
        return "(설정 안 됨)"
    return f"`{value}`" if value else '`""` (빈 값)'


def annotations_text(annotations: Mapping[str, str]) -> str:
    """``key: value, ...`` sorted by key, ``(없음)`` when there is none."""
    return ", ".join(f"{k}: {v}" for k, v in sorted(annotations.items())) or "(없음)"


def endpoints_summary(endpoints: EndpointsInfo) -> str:
    return f"준비됨 {len(endpoints.ready)}개, 준비 안 됨 {len(endpoints.not_ready)}개 ({endpoints.source})"


def describe_ingress(ingress: IngressInfo, endpoints: EndpointsInfo | None = None) -> str:
    """The Ingress as ``kubectl describe ingress`` prints it (pathType added to each path)."""
    labels = [f"{k}={v}" for k, v in sorted(ingress.labels.items())] or ["<none>"]
    lines = [f"Name:             {ingress.name}", f"Labels:           {labels[0]}"]
    lines += [f"                  {label}" for label in labels[1:]]
    lines += [
        f"Namespace:        {ingress.namespace}",
        f"Ingress Class:    {ingress.class_name or '<none>'}",
        "Default backend:  <default>",
        "Rules:",
        "  Host        Path  Backends",
        "  ----        ----  --------",
    ]
    backends = ", ".join(endpoints.ready) if endpoints and endpoints.ready else "<none>"
    for p in ingress.paths:
        lines.append(f"  {p.host or '*'}")
        lines.append(f"              {p.path} ({p.path_type or '-'})   {p.service}:{p.port} ({backends})")
    notes = [f"{k}: {v}" for k, v in sorted(ingress.annotations.items())] or ["<none>"]
    lines.append(f"Annotations:      {notes[0]}")
    lines += [f"                  {n}" for n in notes[1:]]
    return "\n".join(lines)


# --- one row per record ------------------------------------------------------------------------------


def app_row(app: AppInfo, app_name: str) -> Row:
    return {
        "이름": app.name,
        "상태": app.state or "(없음)",
        "생성": app.created,
        "Airflow 접미사": "예" if app.name != app_name else "아니오",
        "sparkApplicationId": app.spark_app_id or "",
    }


def ingress_row(ingress: IngressInfo) -> Row:
    rule = ingress.main
    return {
        "이름": ingress.name,
        "host": rule.host or "*",
        "path": rule.path,
        "pathType": rule.path_type,
        "backend": f"{rule.service}:{rule.port}",
        "annotations": annotations_text(ingress.annotations),
    }


def service_row(service: ServiceInfo) -> Row:
    return {
        "이름": service.name,
        "type": service.type,
        "clusterIP": service.cluster_ip,
        "ports": ", ".join(service.ports),
        "selector": ", ".join(f"{k}={v}" for k, v in sorted(service.selector.items())),
    }


def pod_row(pod: PodInfo) -> Row:
    return {
        "이름": pod.name,
        "phase": pod.phase,
        "Ready": "예" if pod.ready else "아니오",
        "podIP": pod.pod_ip,
    }


def conf_row(conf: UiConf) -> Row:
    return {
        "출처": conf.source,
        PROXY_BASE: shown(conf.proxy_base),
        PROXY_REDIRECT_URI: shown(conf.proxy_redirect_uri),
    }


# --- the runbook's tables, step by step ----------------------------------------------------------------


def forward_rows(tunnel: Tunnel) -> list[Row]:
    """Step 1: each forward of the tunnel, local end to remote end."""
    return [{"포워드": name, "로컬 → 원격": tunnel.describe(name)} for name in tunnel.addresses]


def app_rows(obs: Observations) -> list[Row]:
    """Step 2: the candidate SparkApplications, newest first."""
    return [app_row(a, obs.app_name) for a in obs.apps]


def service_rows(obs: Observations) -> list[Row]:
    """Step 3: the UI Service (none: an empty table)."""
    return [service_row(obs.service)] if obs.service else []


def ingress_rows(obs: Observations) -> list[Row]:
    """Step 3: the UI Ingress (none: an empty table)."""
    return [ingress_row(obs.ingress)] if obs.ingress else []


def endpoint_rows(obs: Observations) -> list[Row]:
    """Step 4: the UI Service's endpoints."""
    return [
        {
            "Service": obs.service.name if obs.service else "(없음)",
            "엔드포인트": endpoints_summary(obs.endpoints) if obs.endpoints else "(Service 없음)",
            "준비된 주소": ", ".join(obs.endpoints.ready) if obs.endpoints else "",
        }
    ]


def driver_rows(obs: Observations) -> list[Row]:
    """Step 4: the driver pod, or a row saying there is none."""
    return [pod_row(obs.driver)] if obs.driver else [{"이름": "(드라이버 파드 없음)"}]


def api_call_rows(calls: Iterable[ApiCall]) -> list[Row]:
    """Step 4: the kube API calls this run made (what, selector, items, seconds)."""
    return [{"API 호출": c.what, "셀렉터": c.selector, "항목": c.items, "초": c.seconds} for c in calls]


def conf_rows(obs: Observations) -> list[Row]:
    """Step 5: the expected ``spark.ui.*`` values, and the driver's and the History Server's when read."""
    rows = []
    if obs.expected is not None:
        rows.append({"구분": "기대값", **conf_row(obs.expected)})
    if obs.driver_conf is not None:
        rows.append({"구분": "드라이버 실제값", **conf_row(obs.driver_conf)})
    if obs.history is not None and obs.history.conf is not None:
        rows.append({"구분": "History Server 기록", **conf_row(obs.history.conf)})
    return rows


def page_rows(obs: Observations) -> list[Row]:
    """Step 6: the page probe as the runbook shows it: the hops, the verdict, the CSS/JS count."""
    if obs.page is None:
        return []
    rows = [{"확인": k, "결과": v} for k, v in obs.page.evidence().items()]
    if obs.page.works:
        rows.append({"확인": "판정", "결과": "동작함 (200 HTML, 접두사 안, CSS/JS 모두 로드)"})
    return rows


def probe_rows(obs: Observations) -> list[Row]:
    """Step 6: each request the findings quote, with its answer."""
    rows = []
    for label, result in (
        ("접두사 주소", obs.prefix),
        ("Location 한 번 따라가기", obs.location),
        ("jobs 페이지", obs.jobs),
        ("DAG 이름으로 만든 주소", obs.unsuffixed),
        ("시도한 주소", obs.tried),
    ):
        if result is not None:
            rows.append({"확인": label, **result.row()})
    return rows


def assets_title(obs: Observations) -> str:
    """Step 6: the title of the CSS/JS table (how many of them are broken)."""
    broken = sum(a.broken for a in obs.assets)
    return f"jobs 페이지의 CSS/JS: {len(obs.assets)}개 중 {broken}개 깨짐"


def asset_rows(obs: Observations) -> list[Row]:
    """Step 6: each CSS/JS the jobs page references, where a browser fetches it and what came back."""
    return [a.row() for a in obs.assets]


def history_rows(history: HistoryInfo) -> list[Row]:
    """Step 7: the app as the History Server lists it, and its UI's answer."""
    return [
        {
            "History Server": history.base_url,
            "목록": history.listing.evidence() if history.listing else "",
            "앱 id": history.app_id or "(없음)",
            "completed": history.completed,
            "UI 주소": history.ui_url or "",
            "UI 응답": history.ui_probe.status_line if history.ui_probe else "",
        }
    ]
