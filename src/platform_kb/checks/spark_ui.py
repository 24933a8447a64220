"""Spark UI behind ingress-nginx (#3-10): collect what is there, diagnose, and say which URL works.

Where this sits in the flow: the ``spark-ui-ingress`` runbook opens the tunnel, then

1. :func:`find_applications` — one LIST of SparkApplications, filtered to ``<app>`` or
   ``<app>-xxxxxxxx`` (the Airflow suffix), newest first;
2. :func:`collect_kube` — the chosen app's UI Service, Ingress, endpoints and driver pod, found by the
   label ``sparkoperator.k8s.io/app-name`` (never by rebuilding names, which the operator truncates);
   a fixed number of API calls however many applications the namespace holds;
3. :func:`read_driver_conf`, :func:`probe_ui`, :func:`lookup_history` — HTTP through the tunnel
   (:class:`platform_kb.probes.Prober`): the driver's real ``spark.ui.*`` conf, the prefix URL and its
   ``Location``, the jobs page and every CSS/JS it references, the History Server when the driver is
   gone;
4. :func:`diagnose` — pure: :class:`Observations` -> :class:`~platform_kb.checks.Finding` list with
   stable ids, each only when its evidence holds; :func:`working_url` — the URL that works now.

Upstream behaviour reproduced here (cited where used):
kubeflow/spark-operator ``internal/controller/sparkapplication/driveringress.go`` and
``controller.go`` (v2.3.0+), apache/spark ``core/src/main/scala/org/apache/spark/ui/UIUtils.scala``
and ``JettyUtils.scala``, apache/airflow ``providers/cncf/kubernetes/.../kubernetes_helper_functions.py``
(``add_unique_suffix``), kubernetes/ingress-nginx ``internal/ingress/controller/template/template.go``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import KbError
from ..probes import AssetResult, HttpResult, PageCheck, Prober, is_loopback_host, resolve
from ..remedies import Remedy
from . import Finding, has_errors

APP_LABEL = "sparkoperator.k8s.io/app-name"
ROLE_LABEL = "spark-role"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
UI_PORT_NAME = "spark-driver-ui-port"
REWRITE_ANNOTATION = "nginx.ingress.kubernetes.io/rewrite-target"
FORWARDED_PREFIX_ANNOTATION = "nginx.ingress.kubernetes.io/x-forwarded-prefix"
URL_FORMAT_VALUE = "controller.uiIngress.urlFormat"
OPERATOR_RELEASE = {"release": "spark-operator", "namespace": "spark-operator"}
USE_REGEX_ANNOTATION = "nginx.ingress.kubernetes.io/use-regex"
# driveringress.go: a URL path other than "" and "/" becomes "<path>(/|$)(.*)" with rewrite-target "/$2"
CAPTURE_SUFFIX = "(/|$)(.*)"
PROXY_BASE = "spark.ui.proxyBase"
PROXY_REDIRECT_URI = "spark.ui.proxyRedirectUri"
# airflow add_unique_suffix: "-" + 8 characters of [a-z0-9]
AIRFLOW_SUFFIX = r"-[a-z0-9]{8}"
TERMINAL_STATES = frozenset({"COMPLETED", "FAILED", "SUBMISSION_FAILED"})
SUGGESTED_URL_PATH = "/spark-ui/{{$appNamespace}}/{{$appName}}"
REST_TIMEOUT = 20.0  # seconds: Spark's REST API and the History Server's app UI load on first use


# --- records built from API objects ---------------------------------------------------------------


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


@dataclass(frozen=True)
class AppInfo:
    """A SparkApplication as far as the UI is concerned."""

    name: str
    namespace: str
    created: str = ""
    state: str = ""
    spark_app_id: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    ui_service_name: str | None = None
    ui_ingress_name: str | None = None
    ui_ingress_address: str | None = None
    error_message: str | None = None
    ingress_annotations: dict[str, str] = field(default_factory=dict)  # spec.sparkUIOptions

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> AppInfo:
        meta, spec, status = _meta(obj), obj.get("spec") or {}, obj.get("status") or {}
        driver = status.get("driverInfo") or {}
        app_state = status.get("applicationState") or {}
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            created=str(meta.get("creationTimestamp") or ""),
            state=str(app_state.get("state") or ""),
            spark_app_id=status.get("sparkApplicationId") or None,
            spark_conf={str(k): str(v) for k, v in (spec.get("sparkConf") or {}).items()},
            ui_service_name=driver.get("webUIServiceName") or None,
            ui_ingress_name=driver.get("webUIIngressName") or None,
            ui_ingress_address=driver.get("webUIIngressAddress") or None,
            error_message=app_state.get("errorMessage") or None,
            ingress_annotations={
                str(k): str(v)
                for k, v in ((spec.get("sparkUIOptions") or {}).get("ingressAnnotations") or {}).items()
            },
        )

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def row(self, app_name: str) -> dict[str, Any]:
        return {
            "이름": self.name,
            "상태": self.state or "(없음)",
            "생성": self.created,
            "Airflow 접미사": "예" if self.name != app_name else "아니오",
            "sparkApplicationId": self.spark_app_id or "",
        }


def app_name_pattern(app_name: str) -> re.Pattern[str]:
    """``^<app_name>(-[a-z0-9]{8})?$`` — the DAG's name with or without the Airflow suffix."""
    return re.compile(rf"^{re.escape(app_name)}({AIRFLOW_SUFFIX})?$")


def select_applications(objects: list[dict[str, Any]], app_name: str) -> list[AppInfo]:
    """The SparkApplications named ``app_name`` or ``app_name``-xxxxxxxx, newest first."""
    pattern = app_name_pattern(app_name)
    apps = [AppInfo.from_object(o) for o in objects if pattern.match(str(_meta(o).get("name", "")))]
    return sorted(apps, key=lambda a: (a.created, a.name), reverse=True)


@dataclass(frozen=True)
class IngressPath:
    host: str
    path: str
    path_type: str
    service: str
    port: str


@dataclass(frozen=True)
class IngressInfo:
    """A networking.k8s.io/v1 Ingress, reduced to what ingress-nginx routes on."""

    name: str
    namespace: str = ""
    class_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    paths: tuple[IngressPath, ...] = ()

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> IngressInfo:
        meta, spec = _meta(obj), obj.get("spec") or {}
        paths = []
        for rule in spec.get("rules") or []:
            for p in ((rule.get("http") or {}).get("paths")) or []:
                svc = ((p.get("backend") or {}).get("service")) or {}
                port = svc.get("port") or {}
                paths.append(
                    IngressPath(
                        host=str(rule.get("host") or ""),
                        path=str(p.get("path") or ""),
                        path_type=str(p.get("pathType") or ""),
                        service=str(svc.get("name") or ""),
                        port=str(port.get("number") or port.get("name") or ""),
                    )
                )
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            class_name=str(
                spec.get("ingressClassName")
                or (meta.get("annotations") or {}).get("kubernetes.io/ingress.class")
                or ""
            ),
            labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}),
            paths=tuple(paths),
        )

    @property
    def main(self) -> IngressPath:
        return self.paths[0] if self.paths else IngressPath("", "", "", "", "")

    @property
    def host(self) -> str:
        return self.main.host

    @property
    def path(self) -> str:
        return self.main.path

    @property
    def rewrite_target(self) -> str | None:
        return self.annotations.get(REWRITE_ANNOTATION)

    @property
    def uses_regex(self) -> bool:
        """ingress-nginx treats paths as regexes with rewrite-target or use-regex (template.go)."""
        return (
            self.rewrite_target is not None
            or self.annotations.get(USE_REGEX_ANNOTATION, "").lower() == "true"
        )

    @property
    def url_path(self) -> str:
        """The urlFormat's path: the Ingress path without the operator's capture groups."""
        path = self.path
        if path.endswith(CAPTURE_SUFFIX):
            path = path[: -len(CAPTURE_SUFFIX)]
        return path

    @property
    def prefix(self) -> str:
        """The URL prefix the UI lives under, ending in ``/`` (``/`` for a host-only rule)."""
        return self.url_path.rstrip("/") + "/"

    @property
    def has_prefix(self) -> bool:
        return self.prefix != "/"

    def matches(self, path: str, host: str | None = None) -> bool:
        """Would ingress-nginx route ``path`` (on ``host``) to this Ingress's main rule?"""
        if self.host and (host or "").lower() != self.host.lower():
            return False
        rule = self.main
        if self.uses_regex:
            # ingress-nginx: location ~* "^<path>" (case-insensitive regex, anchored at the start)
            try:
                return re.match(rule.path or "/", path, re.IGNORECASE) is not None
            except re.error:
                return False
        if rule.path_type == "Exact":
            return path == rule.path
        if rule.path_type == "Prefix":
            base = rule.path.rstrip("/")
            return not base or path == base or path.startswith(base + "/")
        return path.startswith(rule.path or "/")

    def describe(self, endpoints: EndpointsInfo | None = None) -> str:
        """The Ingress as ``kubectl describe ingress`` prints it (pathType added to each path)."""
        labels = [f"{k}={v}" for k, v in sorted(self.labels.items())] or ["<none>"]
        lines = [f"Name:             {self.name}", f"Labels:           {labels[0]}"]
        lines += [f"                  {label}" for label in labels[1:]]
        lines += [
            f"Namespace:        {self.namespace}",
            f"Ingress Class:    {self.class_name or '<none>'}",
            "Default backend:  <default>",
            "Rules:",
            "  Host        Path  Backends",
            "  ----        ----  --------",
        ]
        backends = ", ".join(endpoints.ready) if endpoints and endpoints.ready else "<none>"
        for p in self.paths:
            lines.append(f"  {p.host or '*'}")
            lines.append(f"              {p.path} ({p.path_type or '-'})   {p.service}:{p.port} ({backends})")
        notes = [f"{k}: {v}" for k, v in sorted(self.annotations.items())] or ["<none>"]
        lines.append(f"Annotations:      {notes[0]}")
        lines += [f"                  {n}" for n in notes[1:]]
        return "\n".join(lines)

    def row(self) -> dict[str, Any]:
        rule = self.main
        return {
            "이름": self.name,
            "host": rule.host or "*",
            "path": rule.path,
            "pathType": rule.path_type,
            "backend": f"{rule.service}:{rule.port}",
            "annotations": ", ".join(f"{k}: {v}" for k, v in sorted(self.annotations.items())) or "(없음)",
        }


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    type: str = "ClusterIP"
    cluster_ip: str = ""
    ports: tuple[str, ...] = ()
    selector: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> ServiceInfo:
        meta, spec = _meta(obj), obj.get("spec") or {}
        ports = tuple(
            f"{p.get('name') or '-'} {p.get('port')}->{p.get('targetPort', p.get('port'))}"
            for p in spec.get("ports") or []
        )
        return cls(
            name=str(meta.get("name", "")),
            type=str(spec.get("type") or "ClusterIP"),
            cluster_ip=str(spec.get("clusterIP") or ""),
            ports=ports,
            selector=dict(spec.get("selector") or {}),
        )

    @property
    def is_ui(self) -> bool:
        return any(p.startswith(UI_PORT_NAME + " ") for p in self.ports)

    def row(self) -> dict[str, Any]:
        return {
            "이름": self.name,
            "type": self.type,
            "clusterIP": self.cluster_ip,
            "ports": ", ".join(self.ports),
            "selector": ", ".join(f"{k}={v}" for k, v in sorted(self.selector.items())),
        }


@dataclass(frozen=True)
class EndpointsInfo:
    """Ready and not-ready addresses behind a Service (from EndpointSlices, else Endpoints)."""

    ready: tuple[str, ...] = ()
    not_ready: tuple[str, ...] = ()
    source: str = "EndpointSlice"

    @classmethod
    def from_slices(cls, slices: list[dict[str, Any]]) -> EndpointsInfo:
        ready, not_ready = [], []
        for s in slices:
            ports = [str(p.get("port")) for p in s.get("ports") or [] if p.get("port") is not None]
            for ep in s.get("endpoints") or []:
                # discovery.k8s.io/v1: a nil "ready" condition means ready
                is_ready = (ep.get("conditions") or {}).get("ready") is not False
                for addr in ep.get("addresses") or []:
                    text = f"{addr}:{ports[0]}" if ports else str(addr)
                    (ready if is_ready else not_ready).append(text)
        return cls(tuple(ready), tuple(not_ready), "EndpointSlice")

    @classmethod
    def from_endpoints(cls, objects: list[dict[str, Any]]) -> EndpointsInfo:
        ready, not_ready = [], []
        for obj in objects:
            for subset in obj.get("subsets") or []:
                ports = [str(p.get("port")) for p in subset.get("ports") or [] if p.get("port") is not None]
                suffix = f":{ports[0]}" if ports else ""
                ready += [f"{a.get('ip')}{suffix}" for a in subset.get("addresses") or []]
                not_ready += [f"{a.get('ip')}{suffix}" for a in subset.get("notReadyAddresses") or []]
        return cls(tuple(ready), tuple(not_ready), "Endpoints")

    def summary(self) -> str:
        return f"준비됨 {len(self.ready)}개, 준비 안 됨 {len(self.not_ready)}개 ({self.source})"


@dataclass(frozen=True)
class PodInfo:
    name: str
    phase: str = ""
    ready: bool = False
    pod_ip: str = ""
    created: str = ""

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> PodInfo:
        meta, status = _meta(obj), obj.get("status") or {}
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        return cls(
            name=str(meta.get("name", "")),
            phase=str(status.get("phase") or ""),
            ready=conditions.get("Ready") == "True",
            pod_ip=str(status.get("podIP") or ""),
            created=str(meta.get("creationTimestamp") or ""),
        )

    def row(self) -> dict[str, Any]:
        return {
            "이름": self.name,
            "phase": self.phase,
            "Ready": "예" if self.ready else "아니오",
            "podIP": self.pod_ip,
        }


@dataclass(frozen=True)
class UiConf:
    """``spark.ui.proxyBase`` / ``spark.ui.proxyRedirectUri`` and where the values come from."""

    proxy_base: str | None
    proxy_redirect_uri: str | None
    source: str

    def row(self) -> dict[str, Any]:
        return {
            "출처": self.source,
            PROXY_BASE: _shown(self.proxy_base),
            PROXY_REDIRECT_URI: _shown(self.proxy_redirect_uri),
        }


def _shown(value: str | None) -> str:
    if value is None:
        return "(설정 안 됨)"
    return f"`{value}`" if value else '`""` (빈 값)'


def conf_from_environment(env: Any, source: str) -> UiConf | None:
    """The ``spark.ui.*`` values from a Spark REST ``/environment`` answer (None if it is not one)."""
    if not isinstance(env, dict) or not isinstance(env.get("sparkProperties"), list):
        return None
    props = {
        str(p[0]): str(p[1]) for p in env["sparkProperties"] if isinstance(p, list | tuple) and len(p) == 2
    }
    return UiConf(props.get(PROXY_BASE), props.get(PROXY_REDIRECT_URI), source)


def expected_conf(app: AppInfo, ingress: IngressInfo | None) -> UiConf:
    """What the driver should get: the app's sparkConf plus what spark-operator v2.3+ adds.

    kubeflow/spark-operator ``internal/controller/sparkapplication/controller.go`` (``configWebUI``,
    v2.3.0+, PR #2599): when the ingress URL's path is not empty, ``spark.ui.proxyBase=<path>`` and
    ``spark.ui.proxyRedirectUri=/`` are set before submission, each only if the app does not set it
    already (a path of exactly ``/`` is not excluded; a urlFormat without any path injects nothing).
    Version history: up to v2.2.0 the operator set both before submission and overwrote the app's
    own values (issue #1772); only v2.2.1 set them after spark-submit, so they never reached the
    driver (the regression of issue #2597, fixed by PR #2599 in v2.3.0).
    """
    base = app.spark_conf.get(PROXY_BASE)
    redirect = app.spark_conf.get(PROXY_REDIRECT_URI)
    url_path = _ingress_url_path(app, ingress)
    added = []
    if url_path:
        if base is None:
            base = url_path
            added.append(PROXY_BASE)
        if redirect is None:
            redirect = "/"
            added.append(PROXY_REDIRECT_URI)
    source = "SparkApplication sparkConf"
    if added:
        source += " + spark-operator v2.3+ 규칙(" + ", ".join(added) + ")"
    return UiConf(base, redirect, source)


def _ingress_url_path(app: AppInfo, ingress: IngressInfo | None) -> str:
    if app.ui_ingress_address:
        address = app.ui_ingress_address
        return urlsplit(address if "://" in address else "http://" + address).path
    return ingress.url_path if ingress else ""


# --- the observations and the findings ---------------------------------------------------------------


@dataclass
class HistoryInfo:
    """The app as the Spark History Server REST API lists it."""

    base_url: str
    listing: HttpResult | None = None
    app_id: str | None = None
    attempt_id: str | None = None
    completed: bool | None = None
    ui_url: str | None = None
    ui_probe: HttpResult | None = None
    conf: UiConf | None = None

    @property
    def found(self) -> bool:
        return self.app_id is not None

    @property
    def ui_ok(self) -> bool:
        return self.ui_probe is not None and self.ui_probe.ok


@dataclass
class ApiCall:
    """One request to the kube API (the benchmark counts these)."""

    what: str
    selector: str
    seconds: float
    items: int


@dataclass
class Observations:
    """Everything the diagnosis looks at; filled step by step by the runbook (or by a test)."""

    namespace: str
    app_name: str
    url: str = ""
    base_url: str = "http://127.0.0.1:8080"
    apps: list[AppInfo] = field(default_factory=list)
    app: AppInfo | None = None
    service: ServiceInfo | None = None
    ingress: IngressInfo | None = None
    endpoints: EndpointsInfo | None = None
    driver: PodInfo | None = None
    driver_conf: UiConf | None = None
    prefix: HttpResult | None = None
    location: HttpResult | None = None
    jobs: HttpResult | None = None
    assets: list[AssetResult] = field(default_factory=list)
    tried: HttpResult | None = None
    unsuffixed: HttpResult | None = None
    history: HistoryInfo | None = None
    page: PageCheck | None = None  # the browser-grade probe of the prefix: the one source of "works"

    @property
    def expected(self) -> UiConf | None:
        return expected_conf(self.app, self.ingress) if self.app else None

    @property
    def conf(self) -> UiConf | None:
        """The effective conf: the driver's own (REST API) if read, else the History Server's, else expected."""
        if self.driver_conf is not None:
            return self.driver_conf
        if self.history is not None and self.history.conf is not None:
            return self.history.conf
        return self.expected

    @property
    def host_header(self) -> str | None:
        return self.ingress.host if self.ingress and self.ingress.host else None

    @property
    def driver_gone(self) -> bool:
        no_endpoints = self.endpoints is not None and not self.endpoints.ready
        return bool(self.app and (self.app.terminal or no_endpoints or self.service is None))

    def ui_url(self, path: str | None = None) -> str:
        """The URL through the tunnel for ``path`` (default: the Ingress prefix)."""
        path = path if path is not None else (self.ingress.prefix if self.ingress else "/")
        return self.base_url.rstrip("/") + path

    def browser_url(self, path: str | None = None) -> str:
        """What to type in a browser: the tunnel URL, with the Ingress host in place of 127.0.0.1 if it has one."""
        url = self.ui_url(path)
        if not self.host_header:
            return url
        parts = urlsplit(url)
        return url.replace(
            parts.netloc, f"{self.host_header}:{parts.port}" if parts.port else self.host_header, 1
        )

    def ui_works(self) -> bool:
        """The browser-grade page probe saw the UI work (:meth:`platform_kb.probes.Prober.check_page`):
        redirects followed to a 200 HTML page inside the prefix, every CSS/JS loaded. Never probed: False."""
        return self.page is not None and self.page.works


def working_url(obs: Observations) -> str | None:
    """The URL verified to work now through the tunnel: the live UI, else the History Server's UI."""
    if obs.ui_works():
        return obs.browser_url()
    if obs.history and obs.history.ui_ok and obs.history.ui_url:
        return obs.history.ui_url
    return None


def fixed_url(obs: Observations) -> str:
    """The URL that will work once the findings are fixed (same prefix rule as the operator)."""
    if obs.ingress and obs.ingress.has_prefix:
        return obs.browser_url()
    app = obs.app.name if obs.app else obs.app_name
    return obs.ui_url(f"/spark-ui/{obs.namespace}/{app}/")


def _now_or_none(obs: Observations) -> str:
    url = working_url(obs)
    if url:
        return f"지금 터널로 동작하는 주소: {url}"
    return f"지금은 터널로 온전히 동작하는 주소가 없습니다. 고친 뒤 주소: {fixed_url(obs)}"


Check = Callable[[Observations], Finding | None]


def check_app_not_found(obs: Observations) -> Finding | None:
    if obs.app is not None:
        return None
    return Finding(
        id="app-not-found",
        severity="error",
        title=f"`{obs.namespace}` 네임스페이스에 `{obs.app_name}`(또는 `{obs.app_name}-xxxxxxxx`) SparkApplication이 없습니다",
        detail=(
            "DAG에 적은 이름 그대로의 SparkApplication도, Airflow가 붙이는 8자리 접미사가 달린 것도 찾지 못했습니다. "
            "잡이 아직 제출되지 않았거나, 끝난 뒤 지워졌거나, 다른 네임스페이스에 있습니다."
        ),
        evidence={"네임스페이스": obs.namespace, "찾은 이름 규칙": app_name_pattern(obs.app_name).pattern},
        fix=(
            "Airflow 태스크 로그에서 실제로 만든 SparkApplication 이름과 네임스페이스를 확인하고 "
            "`-p namespace ...`/`-p app_name ...`으로 다시 실행하세요. 끝나서 지워진 잡은 History Server에서 봅니다."
        ),
    )


def check_app_name_suffix(obs: Observations) -> Finding | None:
    if obs.app is None or obs.app.name == obs.app_name:
        return None
    exact_exists = any(a.name == obs.app_name for a in obs.apps)
    evidence: dict[str, Any] = {
        "DAG의 이름": obs.app_name,
        "실행 중인 SparkApplication": f"{obs.app.name} ({obs.app.state or '상태 없음'}, {obs.app.created})",
        f"`{obs.app_name}` 이름의 SparkApplication": "있음(더 오래됨)" if exact_exists else "없음",
    }
    if obs.ingress:
        evidence["실제 Ingress 경로"] = obs.ingress.path
    if obs.unsuffixed is not None:
        evidence[f"GET {obs.unsuffixed.path} (DAG 이름으로 만든 주소)"] = obs.unsuffixed.evidence()
    return Finding(
        id="app-name-suffix",
        severity="warning" if exact_exists else "error",
        title=f"`{obs.app_name}`가 아니라 `{obs.app.name}`가 실행 중입니다 (Airflow 난수 접미사)",
        detail=(
            "Airflow `SparkKubernetesOperator`가 이름 뒤에 "
            "`-` + 8자리 `[a-z0-9]` 접미사를 붙여 SparkApplication을 만들었습니다. spark-operator는 이 이름으로 "
            "UI Service·Ingress와 URL 경로를 만들기 때문에, DAG에 적은 이름으로 만든 주소는 어떤 Ingress 규칙에도 맞지 않습니다. "
            "접미사는 늘 붙었고, `apache-airflow-providers-cncf-kubernetes` 10.0.0(PR #43847)부터 "
            "`random_name_suffix=False`로 끌 수 있습니다(기본값 `True`; 그 전 버전은 이 인자를 무시)."
        ),
        evidence=evidence,
        fix=(
            "DAG에서 `SparkKubernetesOperator(..., random_name_suffix=False)`로 이름을 고정하거나(같은 이름의 이전 "
            "SparkApplication은 `delete_on_termination=True`(기본값)로 지워지게 두세요; provider 10.0.0 이상 필요), "
            "접미사가 붙은 이름을 쓰세요. " + _now_or_none(obs)
        ),
        remedies=(
            Remedy(
                "dag-operator-args",
                _app_target(obs),
                {"set": {"random_name_suffix": False}},
                "SparkKubernetesOperator(random_name_suffix=False) (provider >= 10.0.0), then resubmit",
            ),
        ),
    )


def check_ingress_not_found(obs: Observations) -> Finding | None:
    if obs.app is None or obs.ingress is not None:
        return None
    return Finding(
        id="ingress-not-found",
        severity="error",
        title=f"`{obs.app.name}`의 UI Ingress가 없습니다 (라벨 `{APP_LABEL}={obs.app.name}`)",
        detail=(
            "spark-operator는 Helm 값 `controller.uiIngress.enable=true`이고 `urlFormat`이 있을 때만 앱마다 UI Ingress를 "
            "만듭니다. Ingress가 없으면 NodePort 30998의 ingress-nginx에는 이 앱으로 가는 규칙이 없습니다."
        ),
        evidence={
            "라벨 셀렉터": f"{APP_LABEL}={obs.app.name}",
            "찾은 Ingress": "없음",
            "status.driverInfo.webUIIngressName": obs.app.ui_ingress_name or "(없음)",
        },
        fix=(
            "Helm 값 `controller.uiIngress.enable=true`, "
            f'`controller.uiIngress.urlFormat="{SUGGESTED_URL_PATH}"`로 spark-operator를 업그레이드하고 잡을 다시 '
            f"제출하세요. 고친 뒤 주소: {fixed_url(obs)}"
        ),
        remedies=(
            Remedy(
                "operator-values",
                dict(OPERATOR_RELEASE),
                {"set": {"controller.uiIngress.enable": True, URL_FORMAT_VALUE: SUGGESTED_URL_PATH}},
                "enable the operator's UI Ingress with a urlFormat that has a path, then resubmit",
            ),
        ),
    )


def check_ingress_path_mismatch(obs: Observations) -> Finding | None:
    if not obs.url or obs.ingress is None:
        return None
    tried = urlsplit(obs.url if "://" in obs.url or obs.url.startswith("/") else "http://" + obs.url)
    path = tried.path or "/"
    host = tried.hostname
    nginx_host = host if host and not is_loopback_host(host) else None
    if obs.ingress.matches(path, nginx_host):
        return None
    evidence: dict[str, Any] = {
        "시도한 주소": obs.url,
        "Ingress host": obs.ingress.host or "* (모든 호스트)",
        "Ingress 경로": f"{obs.ingress.path} ({obs.ingress.main.path_type or '-'})",
    }
    if obs.tried is not None:
        evidence[f"GET {obs.tried.path}"] = obs.tried.evidence()
    rule = "정규식 경로(대소문자 무시, 앞에서부터 일치)" if obs.ingress.uses_regex else "경로 접두사"
    return Finding(
        id="ingress-path-mismatch",
        severity="error",
        title=f"시도한 주소 `{path}`가 Ingress 경로 `{obs.ingress.path}`와 맞지 않습니다",
        detail=(
            f"ingress-nginx는 Ingress 규칙의 host와 {rule}에 맞는 요청만 Spark UI Service로 보냅니다. "
            "시도한 주소는 어떤 규칙에도 맞지 않아 드라이버까지 가지 못합니다(보통 404). "
            "`kubectl describe ingress`로 본 실제 경로와 주소를 100% 맞춰야 합니다."
        ),
        evidence=evidence,
        fix=f"Ingress 경로 `{obs.ingress.prefix}`로 접속하세요. " + _now_or_none(obs),
        remedies=(Remedy("use-url", {}, {"url": obs.browser_url()}, "open the Ingress prefix"),),
    )


def check_no_ready_endpoints(obs: Observations) -> Finding | None:
    if obs.app is None or obs.ingress is None:
        return None
    empty = obs.service is None or (obs.endpoints is not None and not obs.endpoints.ready)
    got_503 = obs.prefix is not None and obs.prefix.status == 503
    if not (empty or got_503):
        return None
    evidence: dict[str, Any] = {}
    if obs.prefix is not None:
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    backend = obs.ingress.main.service
    evidence["UI Service"] = obs.service.name if obs.service else f"없음 (Ingress backend `{backend}`)"
    if obs.endpoints is not None:
        evidence["엔드포인트"] = obs.endpoints.summary()
    evidence["드라이버 파드"] = f"{obs.driver.name} ({obs.driver.phase})" if obs.driver else "없음"
    evidence["SparkApplication 상태"] = obs.app.state or "(없음)"
    history = obs.history
    if history is not None and history.listing is not None:
        evidence["History Server"] = (
            f"{history.app_id} 있음 (completed={history.completed})"
            if history.found
            else f"앱 없음 ({history.listing.evidence()})"
        )
    if obs.app.terminal:
        why = f"드라이버가 끝나서(상태 {obs.app.state}) UI Service 뒤에 준비된 파드가 없습니다."
    else:
        why = "드라이버 파드가 없거나 아직 준비되지 않아 UI Service 뒤에 준비된 엔드포인트가 없습니다."
    if history is not None and history.ui_url and history.found:
        fix = f"끝난 앱의 UI는 History Server에서 보세요: {history.ui_url}"
        if not history.ui_ok and history.ui_probe is not None:
            fix += f" (지금 응답: {history.ui_probe.status_line})"
    elif obs.app.terminal:
        fix = (
            "History Server에 이 앱이 아직 없습니다: 앱의 sparkConf에 `spark.eventLog.enabled=true`와 History Server가 "
            "읽는 `spark.eventLog.dir`(예: `s3a://datalake/logs/spark-log/`)가 있는지, 갱신 주기(기본 10초)가 지났는지 확인하세요."
        )
    else:
        fix = (
            f"드라이버 파드 상태와 로그를 보세요: `kubectl -n {obs.namespace} get pods -l {APP_LABEL}={obs.app.name},"
            f"{ROLE_LABEL}=driver`, `kubectl -n {obs.namespace} describe sparkapplication {obs.app.name}`."
        )
    remedies: tuple[Remedy, ...] = ()
    if history is not None and history.ui_url and history.found:
        remedies = (Remedy("use-url", {}, {"url": history.ui_url}, "the finished app in the History Server"),)
    return Finding(
        id="no-ready-endpoints",
        severity="error",
        title=f"UI Service `{obs.service.name if obs.service else backend}`에 준비된 엔드포인트가 없습니다 (503)",
        detail=why
        + " ingress-nginx는 엔드포인트가 없는 백엔드에 `503 Service Temporarily Unavailable`을 돌려줍니다.",
        evidence=evidence,
        fix=fix,
        remedies=remedies,
    )


def _app_target(obs: Observations) -> dict[str, str]:
    """A remedy's target for the SparkApplication the DAG submits (its name without Airflow's suffix)."""
    return {"namespace": obs.namespace, "application": obs.app_name}


def _conf_remedy(
    obs: Observations, summary: str, set_: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> Remedy:
    return Remedy("spark-conf", _app_target(obs), {"set": dict(set_ or {}), "unset": list(unset)}, summary)


def _url_format_remedy(obs: Observations) -> Remedy:
    host = obs.ingress.host if obs.ingress else ""
    return Remedy(
        "operator-values",
        dict(OPERATOR_RELEASE),
        {"set": {URL_FORMAT_VALUE: (host + SUGGESTED_URL_PATH) if host else SUGGESTED_URL_PATH}},
        "a urlFormat with a path (the operator then sets proxyBase to it), then resubmit",
    )


def _hand_set(obs: Observations, key: str) -> str | None:
    """The value the DAG's sparkConf (the SparkApplication's ``spec.sparkConf``) sets for ``key``."""
    return obs.app.spark_conf.get(key) if obs.app else None


VERSION_NOTE = (
    "spark-operator 버전별: v2.3.0+는 앱의 sparkConf에 이미 있는 값을 그대로 두고 없을 때만 넣습니다(PR #2599). "
    "v2.2.0까지는 제출 전에 넣으며 앱의 값을 덮어썼고(issue #1772), v2.2.1만 spark-submit 뒤에 넣어 드라이버가 "
    "그 값을 받지 못했습니다(issue #2597의 회귀, v2.3.0에서 고쳐짐). urlFormat에 경로가 전혀 없으면 아무것도 넣지 않고, "
    "경로가 정확히 `/`이면 `/`를 넣습니다."
)


def _root_evidence(obs: Observations) -> dict[str, Any]:
    evidence: dict[str, Any] = {}
    if obs.prefix is not None and obs.prefix.location and obs.prefix.location.startswith("//"):
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    root_refs = [a.asset.ref for a in obs.assets if a.asset.ref.startswith("//")]
    if root_refs:
        evidence["페이지의 CSS/JS 주소"] = ", ".join(root_refs[:3]) + (" …" if len(root_refs) > 3 else "")
    return evidence


def check_proxybase_root(obs: Observations) -> Finding | None:
    conf = obs.conf
    conf_root = conf is not None and conf.proxy_base is not None and conf.proxy_base.strip() == "/"
    http_evidence = _root_evidence(obs)
    if not (conf_root or http_evidence):
        return None
    evidence: dict[str, Any] = {}
    if conf is not None:
        evidence[f"{PROXY_BASE} ({conf.source})"] = _shown(conf.proxy_base)
        evidence[f"{PROXY_REDIRECT_URI} ({conf.source})"] = _shown(conf.proxy_redirect_uri)
    hand = _hand_set(obs, PROXY_BASE)
    evidence[f"DAG의 sparkConf `{PROXY_BASE}`"] = _shown(hand)
    if obs.ingress is not None:
        evidence["Ingress 경로"] = obs.ingress.path or "(없음)"
    evidence.update(http_evidence)
    prefix_path = obs.ingress.url_path if obs.ingress and obs.ingress.has_prefix else None
    remedies: list[Remedy] = []
    where = fix = ""
    if hand is not None:
        # set by hand in the DAG: v2.3.0+ keeps it, so only the DAG can change it
        where = (
            f"DAG의 sparkConf(Airflow `SparkKubernetesOperator`가 제출하는 SparkApplication의 `spec.sparkConf`)에 "
            f'`{PROXY_BASE}: "{hand}"`가 손으로 들어가 있고, spark-operator v2.3.0+는 앱이 정한 값을 그대로 둡니다.'
        )
        fix = (
            f"DAG의 sparkConf에서 `{PROXY_BASE}`를 지우세요"
            + (f'(또는 Ingress 접두사 `"{prefix_path}"`로 바꾸세요)' if prefix_path else "")
            + " — 그리고 잡을 다시 제출하세요. 오퍼레이터의 Helm 값을 바꿔도 이 값은 그대로입니다. "
        )
        remedies.append(
            _conf_remedy(
                obs,
                "drop the hand-set spark.ui.proxyBase from the DAG's sparkConf; resubmit",
                unset=(PROXY_BASE,),
            )
        )
    if prefix_path is None:
        # no path in urlFormat: the operator injects "/" (exactly "/"; no path at all injects nothing)
        host = obs.ingress.host if obs.ingress else ""
        url_format = (host + SUGGESTED_URL_PATH) if host else SUGGESTED_URL_PATH
        where = (where + " 또한 " if hand is not None else "") + (
            "urlFormat의 경로가 `/`라서 spark-operator v2.3+가 `spark.ui.proxyBase=/`와 `spark.ui.proxyRedirectUri=/`를 넣습니다."
        )
        fix = (fix if hand is not None else "") + (
            f'Helm 값 `{URL_FORMAT_VALUE}`에 경로를 넣으세요: `"{url_format}"` — 그러면 오퍼레이터가 '
            "Ingress에 `(/|$)(.*)` 경로와 `rewrite-target: /$2`를 만들고 proxyBase를 그 경로로 맞춥니다. "
        )
        remedies.append(_url_format_remedy(obs))
    elif hand is None:
        where = "DAG의 sparkConf에도 오퍼레이터 규칙에도 없는 값입니다(이미지의 `spark-defaults.conf`나 `APPLICATION_WEB_PROXY_BASE` 환경 변수)."
        fix = f'DAG의 sparkConf에 `{PROXY_BASE}: "{prefix_path}"`를 넣어 덮어쓰고 잡을 다시 제출하세요. '
        remedies.append(
            _conf_remedy(
                obs,
                "set spark.ui.proxyBase to the Ingress prefix in the DAG's sparkConf; resubmit",
                {PROXY_BASE: prefix_path, PROXY_REDIRECT_URI: "/"},
            )
        )
    return Finding(
        id="proxybase-root",
        severity="error",
        title="`spark.ui.proxyBase`가 `/`라서 링크와 리다이렉트가 `//jobs/`가 됩니다",
        detail=(
            where + " Spark는 모든 링크와 리다이렉트 앞에 proxyBase를 붙이므로 "
            "`/` + `/jobs/` = `//jobs/`가 되고, 브라우저는 이를 프로토콜 상대 주소로 읽어 **호스트 `jobs`**로 갑니다. "
            "CSS/JS(`//static/...`)도 호스트 `static`에서 찾다가 실패해 화면이 깨집니다. " + VERSION_NOTE
        ),
        evidence=evidence,
        fix=fix + _now_or_none(obs),
        remedies=tuple(remedies),
    )


def _norm(path: str | None) -> str | None:
    return None if path is None else "/" + path.strip("/")


def check_proxybase_mismatch(obs: Observations) -> Finding | None:
    conf, ingress = obs.conf, obs.ingress
    if conf is None or ingress is None or not ingress.has_prefix:
        return None
    if conf.proxy_base is not None and conf.proxy_base.strip() == "/":
        return None  # proxybase-root says it
    want = _norm(ingress.url_path)
    if conf.proxy_base is not None and _norm(conf.proxy_base) == want:
        return None
    if obs.ui_works():
        return None  # e.g. a proxy sends X-Forwarded-Context: the HTTP evidence says the UI is fine
    hand = _hand_set(obs, PROXY_BASE)
    evidence: dict[str, Any] = {
        f"{PROXY_BASE} ({conf.source})": _shown(conf.proxy_base),
        f"DAG의 sparkConf `{PROXY_BASE}`": _shown(hand),
        "Ingress 경로 접두사": ingress.url_path,
    }
    if obs.prefix is not None:
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    if obs.location is not None:
        evidence[f"GET {obs.location.path} (Location을 따라가면)"] = obs.location.evidence()
    outside = [a for a in obs.assets if a.broken and not a.asset.ref.startswith("//")]
    if outside:
        evidence["CSS/JS 예"] = f"{outside[0].asset.ref} → {outside[0].problem}"
    base_text = f"`{conf.proxy_base}`" if conf.proxy_base is not None else "설정 안 됨"
    if hand is not None:
        where = (
            f'이 값은 DAG의 sparkConf에 손으로 넣은 것이고(`{PROXY_BASE}: "{hand}"`), spark-operator v2.3.0+는 '
            "앱이 정한 값을 그대로 둡니다."
        )
        fix = (
            f"DAG의 sparkConf에서 손으로 넣은 `{PROXY_BASE}`를 지우세요(spark-operator v2.3.0+가 Ingress 경로로 넣어 줍니다) "
            f'또는 `{PROXY_BASE}: "{ingress.url_path}"`와 `{PROXY_REDIRECT_URI}: "/"`로 맞추고 잡을 다시 제출하세요. '
        )
        unset = (PROXY_BASE,) + (
            (PROXY_REDIRECT_URI,) if _hand_set(obs, PROXY_REDIRECT_URI) not in (None, "/") else ()
        )
        remedy = _conf_remedy(
            obs, "drop the hand-set proxyBase from the DAG's sparkConf; resubmit", unset=unset
        )
    else:
        where = (
            "DAG의 sparkConf에는 값이 없는데 드라이버에 Ingress 경로가 없습니다: spark-operator v2.2.1은 값을 "
            "spark-submit 뒤에 넣어 드라이버에 전달하지 못합니다(issue #2597, v2.3.0에서 고쳐짐)."
        )
        fix = (
            "spark-operator v2.2.1이면 v2.3.0 이상으로 올리거나, DAG의 sparkConf에 "
            f'`{PROXY_BASE}: "{ingress.url_path}"`와 `{PROXY_REDIRECT_URI}: "/"`를 직접 넣고 잡을 다시 제출하세요. '
        )
        remedy = _conf_remedy(
            obs,
            "set proxyBase to the Ingress prefix in the DAG's sparkConf (operator v2.2.1 never passes it); resubmit",
            {PROXY_BASE: ingress.url_path, PROXY_REDIRECT_URI: "/"},
        )
    return Finding(
        id="proxybase-mismatch",
        severity="error",
        title=f"`spark.ui.proxyBase`({base_text})가 Ingress 경로 접두사(`{ingress.url_path}`)와 다릅니다",
        detail=(
            "Spark는 페이지의 모든 링크·CSS/JS·리다이렉트 앞에 proxyBase를 붙입니다. 이 값이 Ingress 접두사와 다르면 "
            "브라우저가 요청하는 주소(예: `<proxyBase>/static/...`, `<proxyBase>/jobs/`)가 Ingress 규칙에 걸리지 않아 "
            "404가 되고 CSS/JS가 빠진 화면이 됩니다. " + where + " " + VERSION_NOTE
        ),
        evidence=evidence,
        fix=fix + _now_or_none(obs),
        remedies=(remedy,),
    )


def _annotation_source(obs: Observations, key: str) -> str:
    """Where an Ingress annotation is written: the app's ``sparkUIOptions.ingressAnnotations``, else by hand.

    (``controller.uiIngress.annotations`` of the operator's values cannot be told apart from a hand
    edit through the API; the Korean fix names both.)
    """
    return "application" if obs.app and key in obs.app.ingress_annotations else "hand-edit"


def _ingress_target(obs: Observations, key: str) -> dict[str, str]:
    name = obs.ingress.name if obs.ingress else ""
    return {"namespace": obs.namespace, "name": name, "source": _annotation_source(obs, key)}


def _jobs_loop_text(obs: Observations) -> str:
    if obs.jobs is None:
        return ""
    loop = (
        obs.jobs.redirect
        and obs.jobs.location
        and urlsplit(obs.jobs.location).path == urlsplit(obs.jobs.url).path
    )
    return obs.jobs.evidence() + (" (자기 자신으로 리다이렉트: 무한 반복)" if loop else "")


def check_missing_rewrite(obs: Observations) -> Finding | None:
    ingress = obs.ingress
    if ingress is None or not ingress.has_prefix or ingress.rewrite_target is not None:
        return None
    if obs.ui_works():
        return None
    evidence: dict[str, Any] = {
        "Ingress 경로": f"{ingress.path} ({ingress.main.path_type or '-'})",
        "Ingress annotations": ", ".join(f"{k}: {v}" for k, v in sorted(ingress.annotations.items()))
        or "(없음)",
        REWRITE_ANNOTATION: "(없음)",
    }
    if obs.prefix is not None:
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    if obs.jobs is not None:
        evidence[f"GET {obs.jobs.path}"] = _jobs_loop_text(obs)
    if obs.page is not None:
        evidence["브라우저처럼 따라간 경로"] = obs.page.navigation.evidence()
    prefix = ingress.url_path
    return Finding(
        id="missing-rewrite",
        severity="error",
        title=f"Ingress 경로 `{ingress.path}`에 접두사가 있는데 rewrite-target이 없습니다",
        detail=(
            "rewrite-target이 없으면 ingress-nginx는 `/spark-ui/...` 경로를 그대로 드라이버에 넘깁니다. Spark UI에는 그런 "
            "경로가 없어서 모르는 경로를 `<proxyBase>/jobs/`로 돌려보내고, 그 주소가 다시 같은 규칙으로 들어와 "
            "리다이렉트가 끝없이 반복됩니다(브라우저: 리디렉션 횟수가 너무 많음)."
        ),
        evidence=evidence,
        fix=(
            f"Ingress 경로를 `{prefix}{CAPTURE_SUFFIX}`로, annotation `{REWRITE_ANNOTATION}: /$2`를 두세요 — "
            "spark-operator v2.x는 urlFormat에 경로가 있으면 이렇게 만듭니다(손으로 만들었거나 바꾼 Ingress라면 "
            f"`kubectl -n {obs.namespace} annotate ingress {ingress.name} '{REWRITE_ANNOTATION}=/$2'`과 경로 수정, 또는 "
            "앱을 다시 제출해 오퍼레이터가 새로 만들게 하세요). `x-forwarded-prefix`는 rewrite가 있는 location에만 붙고 "
            "Spark는 `X-Forwarded-Prefix`를 읽지 않으니 proxyBase가 접두사와 같아야 합니다. "
            + _now_or_none(obs)
        ),
        remedies=(
            _rewrite_remedy(
                obs, "rewrite-target /$2 on the path <prefix>(/|$)(.*), as the operator writes it"
            ),
        ),
    )


def _rewrite_remedy(obs: Observations, summary: str) -> Remedy:
    """``rewrite-target: /$2`` on the Ingress; ``patch["path"]`` too when the path lacks the capture groups."""
    ingress = obs.ingress
    patch: dict[str, Any] = {"set": {REWRITE_ANNOTATION: "/$2"}, "unset": []}
    if ingress is not None and ingress.has_prefix and not ingress.path.endswith(CAPTURE_SUFFIX):
        patch["path"] = ingress.url_path + CAPTURE_SUFFIX  # /$2 needs the capture groups in the path
    return Remedy("ingress-annotations", _ingress_target(obs, REWRITE_ANNOTATION), patch, summary)


def _single_target(rewrite: str | None) -> bool:
    """A rewrite-target that names no capture group (``/``, ``/jobs/``): every path maps to it."""
    return rewrite is not None and re.search(r"\$\d", rewrite) is None


def check_rewrite_single_target(obs: Observations) -> Finding | None:
    """``rewrite-target: /`` (the #3-10 literal fix): ingress-nginx rewrites every path to ``/``.

    ingress-nginx ``template.go`` builds ``rewrite "(?i)<path>" <target> break;``: a target without
    ``$1``/``$2`` replaces the whole URI, so ``…/jobs/`` reaches Spark as ``/``, which redirects to
    ``<proxyBase>/jobs/`` — the same URL again.
    """
    ingress = obs.ingress
    if ingress is None or not _single_target(ingress.rewrite_target) or obs.ui_works():
        return None
    evidence: dict[str, Any] = {
        "Ingress 경로": f"{ingress.path} ({ingress.main.path_type or '-'})",
        REWRITE_ANNOTATION: ingress.rewrite_target,
    }
    if obs.page is not None:
        evidence["브라우저처럼 따라간 경로"] = obs.page.navigation.evidence()
    if obs.jobs is not None:
        evidence[f"GET {obs.jobs.path}"] = _jobs_loop_text(obs)
    source = _annotation_source(obs, REWRITE_ANNOTATION)
    where = (
        "앱의 `spec.sparkUIOptions.ingressAnnotations`"
        if source == "application"
        else f"Ingress `{ingress.name}`에 손으로 단 annotation(또는 Helm 값 `controller.uiIngress.annotations`)"
    )
    return Finding(
        id="rewrite-to-single-target",
        severity="error",
        title=f"`{REWRITE_ANNOTATION}: {ingress.rewrite_target}`가 접두사 아래 모든 경로를 한 주소로 보냅니다",
        detail=(
            f"rewrite-target에 캡처 그룹(`$2`)이 없으면 ingress-nginx는 `{ingress.prefix}jobs/`, `…/static/…` 등 모든 "
            f"경로를 `{ingress.rewrite_target}` 하나로 바꿔 드라이버에 넘깁니다. Spark는 `/`에 `302 Location: <proxyBase>/jobs/`로 "
            "답하고, 그 주소가 다시 `/`로 바뀌어 리다이렉트가 끝없이 반복됩니다(CSS/JS 요청도 모두 같은 302). "
            "#3-10에 적힌 `rewrite-target: /` + `x-forwarded-prefix` 수정이 이 경우입니다."
        ),
        evidence=evidence,
        fix=(
            f"{where}의 `{REWRITE_ANNOTATION}`를 `/$2`로 바꾸세요(경로는 `{ingress.url_path}{CAPTURE_SUFFIX}` — "
            "spark-operator가 urlFormat에 경로가 있으면 스스로 이렇게 만듭니다: 손으로 고친 Ingress라면 "
            f"`kubectl -n {obs.namespace} annotate ingress {ingress.name} --overwrite '{REWRITE_ANNOTATION}=/$2'`). "
            + _now_or_none(obs)
        ),
        remedies=(_rewrite_remedy(obs, "rewrite-target /$2 (capture group) instead of a single target"),),
    )


def check_x_forwarded_prefix(obs: Observations) -> Finding | None:
    """``x-forwarded-prefix`` is sent as ``X-Forwarded-Prefix``, which Spark never reads.

    apache/spark ``core/src/main/scala/org/apache/spark/ui/UIUtils.scala`` ``uiRoot``: the prefix is
    ``spark.ui.proxyBase``, else env ``APPLICATION_WEB_PROXY_BASE``, else the request header
    ``X-Forwarded-Context`` (SPARK-24209, PR #21268); ``JettyUtils.scala`` redirects with the same
    ``uiRoot``. Info when the UI works anyway (the annotation does nothing), warning when it does not.
    """
    ingress = obs.ingress
    if ingress is None or FORWARDED_PREFIX_ANNOTATION not in ingress.annotations:
        return None
    works = obs.ui_works()
    value = ingress.annotations[FORWARDED_PREFIX_ANNOTATION]
    evidence: dict[str, Any] = {
        FORWARDED_PREFIX_ANNOTATION: value,
        "Spark가 읽는 것": "`spark.ui.proxyBase` → `APPLICATION_WEB_PROXY_BASE` → 헤더 `X-Forwarded-Context` (UIUtils.uiRoot)",
        "UI 판정(브라우저처럼)": "동작함" if works else (obs.page.problem if obs.page else "확인 안 됨"),
    }
    conf = obs.conf
    if conf is not None:
        evidence[f"{PROXY_BASE} ({conf.source})"] = _shown(conf.proxy_base)
    return Finding(
        id="x-forwarded-prefix-ignored",
        severity="info" if works else "warning",
        title="`x-forwarded-prefix` annotation은 Spark UI에 아무 효과가 없습니다",
        detail=(
            "ingress-nginx는 이 annotation을 `X-Forwarded-Prefix` 헤더로 보내지만(rewrite-target이 있는 location에만), "
            "Spark는 링크와 리다이렉트의 접두사를 `spark.ui.proxyBase`, 환경 변수 `APPLICATION_WEB_PROXY_BASE`, "
            "헤더 `X-Forwarded-Context` 순으로만 정합니다(apache/spark `UIUtils.scala` `uiRoot`, `JettyUtils.scala`). "
            + (
                "UI는 proxyBase 덕분에 동작하고, 이 annotation은 지워도 됩니다."
                if works
                else "UI가 깨진 원인을 고치는 데 도움이 되지 않습니다."
            )
        ),
        evidence=evidence,
        fix=(
            f"`{FORWARDED_PREFIX_ANNOTATION}`를 지우고, 접두사는 proxyBase(spark-operator v2.3+가 urlFormat 경로로 넣음)로 맞추세요. "
            + _now_or_none(obs)
        ),
        remedies=(
            Remedy(
                "ingress-annotations",
                _ingress_target(obs, FORWARDED_PREFIX_ANNOTATION),
                {"set": {}, "unset": [FORWARDED_PREFIX_ANNOTATION]},
                "drop x-forwarded-prefix (Spark reads X-Forwarded-Context, not X-Forwarded-Prefix)",
            ),
        ),
    )


def check_static_assets(obs: Observations) -> Finding | None:
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
    return Finding(
        id="static-assets-broken",
        severity="error",
        title=f"Spark UI 페이지가 참조하는 CSS/JS {len(broken)}/{len(obs.assets)}개가 터널로 로드되지 않습니다",
        detail=(
            "브라우저는 jobs 페이지의 `<link rel=stylesheet>`와 `<script src>`를 페이지 주소 기준으로 풀어서 요청합니다. "
            "그 요청이 Ingress를 거쳐 드라이버에 닿지 않으면 화면이 깨집니다. " + cause
        ),
        evidence=evidence,
        fix=cause + " " + _now_or_none(obs),
    )


CHECKS: tuple[Check, ...] = (
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
LOOP_OUTCOMES = ("loop", "too-many-redirects")


def check_redirect_loop(obs: Observations, found: list[Finding]) -> Finding | None:
    """The page probe looped (a URL came back, or more than 10 redirects) and no known cause explains it."""
    page = obs.page
    if page is None or page.navigation.outcome not in LOOP_OUTCOMES:
        return None
    if any(f.id in ("missing-rewrite", "rewrite-to-single-target") for f in found):
        return None
    nav = page.navigation
    evidence: dict[str, Any] = {"브라우저처럼 따라간 경로": nav.evidence(limit=6)}
    if nav.repeated:
        evidence["다시 나온 주소"] = nav.repeated
    if obs.ingress is not None:
        evidence["Ingress 경로"] = obs.ingress.path
        evidence["Ingress annotations"] = (
            ", ".join(f"{k}: {v}" for k, v in sorted(obs.ingress.annotations.items())) or "(없음)"
        )
    return Finding(
        id="redirect-loop",
        severity="error",
        title="접두사 주소가 끝없이 리다이렉트됩니다",
        detail=(
            "브라우저처럼 Location을 따라가면 같은 주소가 다시 나오거나 리다이렉트가 10번을 넘습니다: 브라우저는 "
            "'리디렉션 횟수가 너무 많음'으로 멈춥니다. 알려진 원인(rewrite-target 누락, 모든 경로를 한 주소로 보내는 "
            "rewrite)에는 해당하지 않습니다."
        ),
        evidence=evidence,
        fix=(
            "리다이렉트마다 Ingress가 경로를 어떻게 바꾸는지 보세요: Ingress 경로는 `<접두사>(/|$)(.*)`, "
            "`rewrite-target: /$2`, proxyBase는 접두사, proxyRedirectUri는 `/`여야 합니다. "
            + _now_or_none(obs)
        ),
    )


def check_unexplained(obs: Observations, found: list[Finding]) -> Finding | None:
    """The page probe did not see the UI work and no finding says why: never "no findings"."""
    page = obs.page
    if page is None or page.works or any(f.id in PAGE_CAUSES for f in found):
        return None
    evidence: dict[str, Any] = {"확인한 주소": page.navigation.start, **page.evidence()}
    if page.page is not None:
        evidence["마지막 응답"] = page.page.evidence() + (
            f"; Content-Type: {page.page.content_type}" if page.page.content_type else ""
        )
    return Finding(
        id="ui-broken-unexplained",
        severity="error",
        title="Spark UI가 브라우저가 보는 방식으로 동작하지 않는데, 알려진 원인에 해당하지 않습니다",
        detail=(
            "접두사 주소를 리다이렉트를 따라가 200 HTML 페이지(접두사 안)에 닿고, 그 페이지의 CSS/JS가 모두 200과 HTML이 "
            "아닌 형식으로 로드될 때만 정상으로 봅니다. 이번 확인은 그렇지 않았고, 이 런북이 아는 원인은 근거가 없습니다. "
            f"판정: {page.problem}"
        ),
        evidence=evidence,
        fix=(
            "증거의 마지막 응답과 깨진 CSS/JS를 드라이버 로그, ingress-nginx 로그와 맞춰 보세요. "
            "원인을 찾으면 #3-10 글과 이 런북에 새 발견 사항으로 더해 주세요. " + _now_or_none(obs)
        ),
    )


FOLLOW_UPS: tuple[Callable[[Observations, list[Finding]], Finding | None], ...] = (
    check_redirect_loop,
    check_unexplained,
)


def diagnose(obs: Observations, app_name: str | None = None, url: str | None = None) -> list[Finding]:
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


@dataclass(frozen=True)
class Verdict:
    """The runbook's conclusion, from the same page probe as the findings' "address that works now"."""

    healthy: bool
    working_url: str | None
    fixed_url: str

    def lines(self) -> list[str]:
        if self.working_url:
            lines = [f"**지금 동작하는 주소:** {self.working_url}"]
        else:
            lines = [f"**지금은 터널로 온전히 동작하는 주소가 없습니다.** 고친 뒤 주소: {self.fixed_url}"]
        if self.healthy:
            lines.append(
                "Spark UI가 인그레스 뒤에서 정상입니다: 브라우저처럼 따라간 페이지와 CSS/JS가 모두 로드됐습니다."
            )
        return lines


def verdict(obs: Observations, findings: list[Finding]) -> Verdict:
    """Healthy only when the page probe saw the live UI work and no finding is an error."""
    return Verdict(
        healthy=obs.ui_works() and not has_errors(findings),
        working_url=working_url(obs),
        fixed_url=fixed_url(obs),
    )


# --- collection: kube API --------------------------------------------------------------------------


def api_client_through(kubeconfig: str, address: tuple[str, int]) -> Any:
    """An official client for ``kubeconfig``'s cluster, reached at the tunnel's local ``address``."""
    from ..kube import api_client_via

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


# --- rendering helpers for the runbook ---------------------------------------------------------------


def conf_rows(obs: Observations) -> list[dict[str, Any]]:
    rows = []
    if obs.expected is not None:
        rows.append({"구분": "기대값", **obs.expected.row()})
    if obs.driver_conf is not None:
        rows.append({"구분": "드라이버 실제값", **obs.driver_conf.row()})
    if obs.history is not None and obs.history.conf is not None:
        rows.append({"구분": "History Server 기록", **obs.history.conf.row()})
    return rows


def page_rows(obs: Observations) -> list[dict[str, Any]]:
    """The page probe as the runbook shows it: the hops, the verdict, the CSS/JS count."""
    if obs.page is None:
        return []
    rows = [{"확인": k, "결과": v} for k, v in obs.page.evidence().items()]
    if obs.page.works:
        rows.append({"확인": "판정", "결과": "동작함 (200 HTML, 접두사 안, CSS/JS 모두 로드)"})
    return rows


def probe_rows(obs: Observations) -> list[dict[str, Any]]:
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


def collect_and_diagnose(
    reader: KubeReader, prober: Prober, obs: Observations, history_server_url: str = ""
) -> list[Finding]:
    """The whole flow without narration (benchmarks and tests; the runbook calls the steps itself)."""
    find_applications(reader, obs)
    collect_kube(reader, obs)
    if not obs.driver_gone:
        read_driver_conf(prober, obs)
    probe_ui(prober, obs)
    if obs.driver_gone:
        lookup_history(prober, obs, history_server_url)
    return diagnose(obs)
