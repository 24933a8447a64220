"""The Spark UI diagnosis's facts: read the cluster and probe HTTP through the tunnel into :class:`Observations`.

Where this sits in the flow: the ``spark-ui-ingress`` runbook opens the tunnel, then

1. :func:`find_applications` — one LIST of SparkApplications, filtered to ``<app>`` or
   ``<app>-xxxxxxxx`` (the Airflow suffix), newest first;
2. :func:`collect_kube` — the chosen app's UI Service, Ingress, endpoints and driver pod, found by the
   label ``sparkoperator.k8s.io/app-name`` (never by rebuilding names, which the operator truncates);
   a fixed number of API calls however many applications the namespace holds;
3. :func:`read_driver_conf`, :func:`probe_ui`, :func:`lookup_history` — HTTP through the tunnel
   (:class:`platform_kb.probes.Prober`): the driver's real ``spark.ui.*`` conf, the prefix URL and its
   ``Location``, the jobs page and every CSS/JS it references, the History Server when the driver is
   gone.

The kube API is read with the official client (:mod:`platform_kb.kube`); :mod:`.diagnose` then
turns the observations into findings.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, urlsplit

from ...errors import KbError
from ...probes import HttpResult, PageCheck, Prober, is_loopback_host, resolve
from .model import (
    APP_LABEL,
    ROLE_LABEL,
    SERVICE_NAME_LABEL,
    ApiCall,
    AppInfo,
    EndpointsInfo,
    HistoryInfo,
    IngressInfo,
    Observations,
    PodInfo,
    ServiceInfo,
    UiConf,
    conf_from_environment,
    select_applications,
)

REST_TIMEOUT = 20.0  # seconds: Spark's REST API and the History Server's app UI load on first use

# --- collection: kube API --------------------------------------------------------------------------


def api_client_through(kubeconfig: str, address: tuple[str, int]) -> Any:
    """An official client for ``kubeconfig``'s cluster, reached at the tunnel's local ``address``."""
    from ...kube import api_client_via  # lazy: importing the kubernetes client takes seconds

    return api_client_via(kubeconfig, address)


# The LIST endpoints the collection reads (the REST paths of the official API).
LIST_PATHS = {
    "sparkapplications": "/apis/sparkoperator.k8s.io/v1beta2/namespaces/{namespace}/sparkapplications",
    "services": "/api/v1/namespaces/{namespace}/services",
    "pods": "/api/v1/namespaces/{namespace}/pods",
    "endpoints": "/api/v1/namespaces/{namespace}/endpoints",
    "endpointslices": "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
    "ingresses": "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses",
}


class KubeReader:
    """Read-only LIST calls through the official client's ``ApiClient``, each one counted (:class:`ApiCall`).

    Requests go through ``ApiClient.param_serialize``/``call_api`` (auth, TLS and the tunnel's server
    address from the kubeconfig) rather than the generated ``CoreV1Api`` & co., whose import alone
    takes seconds; answers are read raw into plain dicts — the shape of ``kubectl get -o json`` and of
    the test fixtures — with no model deserialization.
    """

    def __init__(self, api_client: Any, timeout: float = 15.0) -> None:
        self.api = api_client
        self.timeout = timeout
        self.calls: list[ApiCall] = []

    def list(
        self, kind: str, namespace: str, label_selector: str = "", field_selector: str = ""
    ) -> list[dict[str, Any]]:
        query = [
            (k, v) for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector)) if v
        ]
        started = time.monotonic()
        try:
            request = self.api.param_serialize(
                method="GET",
                resource_path=LIST_PATHS[kind],
                path_params={"namespace": namespace},
                query_params=query,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(*request, _request_timeout=self.timeout)
            body = response.read()
        except Exception as exc:  # urllib3/ssl/socket errors of the client
            raise KbError(f"kube API: list {kind} in {namespace}: {exc}") from exc
        if response.status != 200:
            raise KbError(f"kube API: list {kind} in {namespace}: {response.status} {response.reason}")
        try:
            items = json.loads(body).get("items") or []
        except (ValueError, AttributeError) as exc:
            raise KbError(f"kube API: list {kind} in {namespace}: not a JSON list: {exc}") from exc
        selector = ",".join(s for s in (label_selector, field_selector) if s)
        self.calls.append(ApiCall(kind, selector, round(time.monotonic() - started, 4), len(items)))
        return items


def find_applications(reader: KubeReader, obs: Observations) -> list[AppInfo]:
    """ONE list call for all SparkApplications of the namespace, filtered here by name pattern.

    No label marks Airflow's runs and field selectors cannot match a prefix, so the suffixed names
    are found client-side; the call count stays 1 whatever the number of applications.
    """
    obs.apps = select_applications(reader.list("sparkapplications", obs.namespace), obs.app_name)
    obs.app = obs.apps[0] if obs.apps else None
    return obs.apps


def collect_kube(reader: KubeReader, obs: Observations) -> None:
    """The chosen app's UI objects and what runs behind them (4–5 calls, whatever the namespace holds)."""
    collect_ui_objects(reader, obs)
    collect_backends(reader, obs)


def collect_ui_objects(reader: KubeReader, obs: Observations) -> None:
    """UI Ingress and Service by the label ``sparkoperator.k8s.io/app-name=<app>`` (2 calls)."""
    if obs.app is None:
        return
    selector = f"{APP_LABEL}={obs.app.name}"
    ingresses = [IngressInfo.from_object(o) for o in reader.list("ingresses", obs.namespace, selector)]
    services = [ServiceInfo.from_object(o) for o in reader.list("services", obs.namespace, selector)]
    obs.ingress = _pick_ingress(ingresses, obs.app)
    obs.service = _pick_service(services, obs.app, obs.ingress)


def collect_backends(reader: KubeReader, obs: Observations) -> None:
    """The driver pod (labels app-name + ``spark-role=driver``) and the UI Service's endpoints (2–3 calls)."""
    if obs.app is None:
        return
    selector = f"{APP_LABEL}={obs.app.name},{ROLE_LABEL}=driver"
    pods = [PodInfo.from_object(o) for o in reader.list("pods", obs.namespace, selector)]
    obs.driver = max(pods, key=lambda p: p.created) if pods else None
    obs.endpoints = read_endpoints(reader, obs.namespace, obs.service.name) if obs.service else None


def _pick_ingress(ingresses: list[IngressInfo], app: AppInfo) -> IngressInfo | None:
    named = [i for i in ingresses if app.ui_ingress_name and i.name == app.ui_ingress_name]
    return (named or ingresses or [None])[0]


def _pick_service(
    services: list[ServiceInfo], app: AppInfo, ingress: IngressInfo | None
) -> ServiceInfo | None:
    """The service the Ingress points at, else the one with the UI port name, else status' webUIServiceName."""
    for wanted in (ingress.main.service if ingress else None, app.ui_service_name):
        match = [s for s in services if wanted and s.name == wanted]
        if match:
            return match[0]
    ui = [s for s in services if s.is_ui]
    return (ui or services or [None])[0]


def read_endpoints(reader: KubeReader, namespace: str, service: str) -> EndpointsInfo:
    """EndpointSlices labelled ``kubernetes.io/service-name=<service>``; Endpoints when there are none."""
    try:
        slices = reader.list("endpointslices", namespace, f"{SERVICE_NAME_LABEL}={service}")
    except KbError:
        slices = []
    if slices:
        return EndpointsInfo.from_slices(slices)
    return EndpointsInfo.from_endpoints(
        reader.list("endpoints", namespace, field_selector=f"metadata.name={service}")
    )


# --- collection: HTTP through the tunnel -------------------------------------------------------------


def read_driver_conf(prober: Prober, obs: Observations, timeout: float = REST_TIMEOUT) -> UiConf | None:
    """The driver's own ``spark.ui.*`` via the Spark REST API behind the Ingress (None if unreachable).

    Spark starts its REST (Jersey) servlet on the first request, which takes seconds on a busy
    machine: hence a longer ``timeout`` than the page probes.
    """
    if obs.ingress is None or obs.app is None:
        return None
    api = obs.ui_url(obs.ingress.prefix + "api/v1/applications")
    listing = prober.get(api, host=obs.host_header, timeout=timeout)
    apps = listing.json() if listing.ok else None
    if not isinstance(apps, list) or not apps:
        return None
    ids = [str(a.get("id")) for a in apps if isinstance(a, dict) and a.get("id")]
    app_id = obs.app.spark_app_id if obs.app.spark_app_id in ids else (ids[0] if ids else None)
    if app_id is None:
        return None
    env = prober.get(f"{api}/{quote(app_id, safe='')}/environment", host=obs.host_header, timeout=timeout)
    obs.driver_conf = conf_from_environment(env.json() if env.ok else None, "드라이버 REST API /environment")
    return obs.driver_conf


def probe_ui(prober: Prober, obs: Observations) -> None:
    """The browser-grade page probe of the prefix (the verdict), then the evidence the findings quote.

    :meth:`Prober.check_page` follows the prefix's redirects as a browser does and loads the page's
    CSS/JS: ``obs.page``. Its hops are reused as evidence — the prefix's own answer (``obs.prefix``),
    its first ``Location`` (``obs.location``) and, when the navigation passed it, the jobs page and
    its CSS/JS — so only what the navigation did not request is requested again: the jobs page (a
    finding quotes its links even when the prefix redirects off the host), the unsuffixed address,
    the tried URL.
    """
    if obs.ingress is not None:
        host = obs.host_header
        obs.page = prober.check_page(obs.ui_url(), host=host, inside=obs.ingress.prefix)
        hops = obs.page.navigation.hops
        obs.prefix = hops[0] if hops else prober.get(obs.ui_url(), host=host, keep_body=False)
        obs.location = _first_location(prober, obs.page, obs.prefix)
        jobs_url = obs.ui_url(obs.ingress.prefix + "jobs/")
        seen = next((h for h in hops if h.url == jobs_url), None)
        if seen is not None and seen is obs.page.page and obs.page.assets:
            obs.jobs, obs.assets = seen, list(obs.page.assets)
        else:
            obs.jobs = seen or prober.get(jobs_url, host=host)
            obs.assets = prober.assets(obs.jobs) if obs.jobs.ok else []
        unsuffixed = _unsuffixed_prefix(obs)
        obs.unsuffixed = (
            prober.get(obs.ui_url(unsuffixed), host=host, keep_body=False) if unsuffixed else None
        )
    if obs.url:
        obs.tried = _probe_tried(prober, obs)


def _first_location(prober: Prober, page: PageCheck, first: HttpResult) -> HttpResult | None:
    """Where the prefix's redirect leads: the navigation's second hop, or the refused URL off the tunnel."""
    if not first.redirect or not first.location:
        return None
    hops = page.navigation.hops
    if len(hops) > 1 and hops[0] is first:
        return hops[1]
    # not requested by the navigation (``//jobs/`` leaves the tunnel): get() refuses it without traffic
    return prober.get(resolve(first.url, first.location), host=first.host_header, keep_body=False)


def _unsuffixed_prefix(obs: Observations) -> str | None:
    """The prefix the user builds from the DAG name (the app's name in the path replaced by it)."""
    if obs.app is None or obs.ingress is None or obs.app.name == obs.app_name:
        return None
    prefix = obs.ingress.prefix
    segment = f"/{obs.app.name}/"
    if segment not in prefix:
        return None
    head, _, tail = prefix.rpartition(segment)
    return f"{head}/{obs.app_name}/{tail}"


def _probe_tried(prober: Prober, obs: Observations) -> HttpResult:
    """The user's URL: its path (and query) through the tunnel, its Host if it named one off loopback."""
    url = obs.url if "://" in obs.url or obs.url.startswith("/") else "http://" + obs.url
    parts = urlsplit(url)
    host = parts.hostname if parts.hostname and not is_loopback_host(parts.hostname) else None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return prober.get(obs.ui_url(path), host=host, keep_body=False)


def history_location(base_url: str, history_server_url: str) -> tuple[str, str | None]:
    """(URL to request through the tunnel, Host header) for the History Server.

    Empty: ``<tunnel>/spark-history/`` (exposed through the ingress, as in the homelab). A path: on the
    tunnel. A loopback URL: as is. Any other URL: its path on the tunnel with its host as ``Host``.
    """
    tunnel = base_url.rstrip("/")
    text = history_server_url.strip() or "/spark-history/"
    if text.startswith("/"):
        return tunnel + "/" + text.strip("/") + "/", None
    parts = urlsplit(text if "://" in text else "http://" + text)
    path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
    if is_loopback_host(parts.hostname):
        return f"{parts.scheme}://{parts.netloc}{path}", None
    return tunnel + path, parts.hostname


def lookup_history(
    prober: Prober, obs: Observations, history_server_url: str = "", timeout: float = REST_TIMEOUT
) -> HistoryInfo:
    """Find the app in the History Server's REST API and probe its UI page there."""
    base, host = history_location(obs.base_url, history_server_url)
    info = HistoryInfo(base_url=base)
    obs.history = info
    info.listing = prober.get(base + "api/v1/applications", host=host, timeout=timeout)
    apps = info.listing.json() if info.listing.ok else None
    if not isinstance(apps, list) or obs.app is None:
        return info
    match = _match_history_app(apps, obs.app)
    if match is None:
        return info
    attempts = match.get("attempts") or [{}]
    latest = attempts[0] if isinstance(attempts[0], dict) else {}
    info.app_id = str(match.get("id"))
    info.attempt_id = str(latest["attemptId"]) if latest.get("attemptId") else None
    info.completed = bool(latest.get("completed")) if "completed" in latest else None
    app_path = (
        quote(info.app_id, safe="") + "/" + (quote(info.attempt_id, safe="") + "/" if info.attempt_id else "")
    )
    ui_url = base + "history/" + app_path + "jobs/"
    info.ui_probe = _get_within(prober, ui_url, base, host, timeout)
    info.ui_url = ui_url if host is None else ui_url.replace(urlsplit(ui_url).hostname or "", host, 1)
    env_url = base + "api/v1/applications/" + app_path + "environment"
    env = prober.get(env_url, host=host, timeout=timeout)
    info.conf = conf_from_environment(env.json() if env.ok else None, "History Server REST API /environment")
    return info


def _get_within(
    prober: Prober, url: str, base: str, host: str | None, timeout: float, hops: int = 3
) -> HttpResult:
    """GET, following redirects only while they stay under ``base`` (the History Server answers the
    first request for an application with a redirect to the same URL once it has loaded it)."""
    result = prober.get(url, host=host, keep_body=False, timeout=timeout)
    for _ in range(hops):
        if not (result.redirect and result.location):
            break
        target = resolve(result.url, result.location)
        if not target.startswith(base):
            break
        result = prober.get(target, host=host, keep_body=False, timeout=timeout)
    return result


def _match_history_app(apps: list[Any], app: AppInfo) -> dict[str, Any] | None:
    entries = [a for a in apps if isinstance(a, dict)]
    by_id = [a for a in entries if app.spark_app_id and a.get("id") == app.spark_app_id]
    if by_id:
        return by_id[0]
    by_name = [a for a in entries if a.get("name") == app.name]
    return max(by_name, key=_last_updated) if by_name else None


def _last_updated(entry: dict[str, Any]) -> int:
    attempts = entry.get("attempts") or [{}]
    first = attempts[0] if isinstance(attempts[0], dict) else {}
    return int(first.get("lastUpdatedEpoch") or first.get("startTimeEpoch") or 0)
