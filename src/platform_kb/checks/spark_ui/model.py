"""The Spark UI diagnosis's records: API objects reduced to what the UI needs, and the observations.

Pure data, no I/O: :mod:`.facts` fills an :class:`Observations` from the kube API and HTTP through
the tunnel, :mod:`.diagnose` reads it, :mod:`.present` turns it into the runbook's Korean tables.

Upstream behaviour reproduced here (cited where used): kubeflow/spark-operator
``internal/controller/sparkapplication/driveringress.go`` and ``controller.go`` (v2.3.0+),
apache/airflow ``providers/cncf/kubernetes/.../kubernetes_helper_functions.py`` (``add_unique_suffix``),
kubernetes/ingress-nginx ``internal/ingress/controller/template/template.go``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...probes import AssetResult, HttpResult, PageCheck

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


@dataclass(frozen=True)
class UiConf:
    """``spark.ui.proxyBase`` / ``spark.ui.proxyRedirectUri`` and where the values come from."""

    proxy_base: str | None
    proxy_redirect_uri: str | None
    source: str


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


# --- the observations ---------------------------------------------------------------------------------


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
