"""Spark operator emulation: kubeflow/spark-operator v2.3+ as small handlers over the lab store.

Where this sits: the lab daemon builds an :class:`ObjectStore` (``platform_kb_lab.kubeapi``), a
:class:`SparkOperator` with :class:`OperatorSettings` (the Helm values of the scenario) and a driver
launcher (``platform_kb_lab.driver``), and starts it. The operator subscribes to the store, so a
SparkApplication created by anyone through the lab API (``kb lab submit``, a runbook, kubectl) is
handled; handlers run one at a time on the operator's own thread, kopf style: each is a frozen
:class:`Handler` record in a :class:`HandlerRegistry` that tests can replace.

What is reproduced from upstream (kubeflow/spark-operator):

* names ``<app>-ui-svc`` / ``<app>-ui-ingress`` with the >63-character rule
  (``pkg/util/sparkapplication.go``: ``generateName``, ``GetDefaultUIServiceName``,
  ``GetDefaultUIIngressName``), the driver pod name (``GetDriverPodName``) and labels
  (``GetResourceLabels``, ``pkg/common`` label constants);
* the UI Service (``internal/controller/sparkapplication/web_ui.go`` ports and port name,
  ``driveringress.go`` ``createDriverIngressService``: selector, labels, type) and the UI Ingress
  (``driveringress.go`` ``createDriverIngressV1``: ``<path>(/|$)(.*)``, ``rewrite-target: /$2``,
  ``pathType: ImplementationSpecific``, host from the URL) from ``urlFormat``
  (``getDriverIngressURL``: ``{{$appName}}``, ``{{$appNamespace}}``, ``{{$appId}}``, ``http://``
  prepended when there is no scheme);
* ``spark.ui.proxyBase`` / ``spark.ui.proxyRedirectUri`` from a ``urlFormat`` with a path (exactly
  ``/`` counts; no path at all injects nothing): v2.3.0+ sets them before submission only where the
  application does not set them (``configWebUI``, PR #2599); v2.2.1 alone set them after
  spark-submit, so they never reach the driver (the regression of issue #2597); up to v2.2.0 (and
  v1.x) they were set before submission over the application's own values (issue #1772);
* status: ``applicationState.state`` SUBMITTED → RUNNING → SUCCEEDING/FAILING → COMPLETED/FAILED,
  ``driverInfo`` web UI fields, ``submissionID``, ``sparkApplicationId``, ``terminationTime``
  (``controller.go`` ``submitSparkApplication``, ``updateDriverState``, ``GetDriverState``);
* on deletion the driver pod, UI Service and UI Ingress are deleted (``deleteSparkResources``).

Lab stand-ins (said so in ``docs/lab.md``): the driver is a local ``local[1]`` pyspark process on the
node address instead of a pod; an endpoints-controller handler fills ``Endpoints`` and
``EndpointSlice`` of every selector Service from Running+Ready pods; because every lab "pod" shares
the node address, a pod's annotation ``lab.platform-kb/ports`` maps its container ports to the real
ports on the node (the Spark UI port is picked free per driver).
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from platform_kb.processes import ProcessRecord, save_records

from .driver import DriverHandle, DriverLauncher, DriverRequest
from .kubeapi import AlreadyExists, NotFound

log = logging.getLogger(__name__)

# pkg/common (kubeflow/spark-operator): label keys and defaults
LABEL_APP_NAME = "sparkoperator.k8s.io/app-name"
LABEL_SUBMISSION_ID = "sparkoperator.k8s.io/submission-id"
LABEL_LAUNCHED_BY_OPERATOR = "sparkoperator.k8s.io/launched-by-spark-operator"
LABEL_SPARK_ROLE = "spark-role"
LABEL_SPARK_APP_SELECTOR = "spark-app-selector"  # set by Spark on its pods: the application id
SPARK_ROLE_DRIVER = "driver"
DRIVER_CONTAINER = "spark-kubernetes-driver"
DEFAULT_UI_PORT = 4040
DEFAULT_UI_PORT_NAME = "spark-driver-ui-port"
SPARK_UI_PORT_KEY = "spark.ui.port"
PROXY_BASE_KEY = "spark.ui.proxyBase"
PROXY_REDIRECT_KEY = "spark.ui.proxyRedirectUri"
DRIVER_POD_NAME_KEY = "spark.kubernetes.driver.pod.name"
REWRITE_TARGET = "nginx.ingress.kubernetes.io/rewrite-target"
# lab stand-in for pod networking: container port -> real port on the node address
PORTS_ANNOTATION = "lab.platform-kb/ports"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

# v1beta2 ApplicationStateType values
NEW, SUBMITTED, RUNNING, SUCCEEDING, COMPLETED = "", "SUBMITTED", "RUNNING", "SUCCEEDING", "COMPLETED"
FAILING, FAILED, SUBMISSION_FAILED = "FAILING", "FAILED", "SUBMISSION_FAILED"
TERMINAL_STATES = (COMPLETED, FAILED)

_APP_NAME_RE = re.compile(r"{{\s*[$]appName\s*}}")
_APP_NAMESPACE_RE = re.compile(r"{{\s*[$]appNamespace\s*}}")
_APP_ID_RE = re.compile(r"{{\s*[$]appId\s*}}")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class OperatorSettings:
    """The operator's Helm values that matter here (``charts/spark-operator-chart/values.yaml``).

    ``url_format`` is ``controller.uiIngress.urlFormat`` (the ingress is created only when it is
    set), ``ingress_class_name`` ``controller.uiIngress.ingressClassName``, ``ingress_annotations``
    ``controller.uiIngress.annotations`` (v2.3.0+), ``ui_service_enable``
    ``controller.uiService.enable``. ``version`` selects the behaviour that differs between
    releases (:attr:`proxy_conf_mode`): in 2.2.1 only the operator-set ``spark.ui.proxyBase``/
    ``proxyRedirectUri`` never reach the driver; before it they overwrite the application's values.
    """

    url_format: str = ""
    ingress_class_name: str = ""
    ingress_annotations: Mapping[str, str] = field(default_factory=dict)
    ui_service_enable: bool = True
    version: str = "2.3.0"

    @property
    def proxy_conf_mode(self) -> str:
        """How the operator's proxyBase/proxyRedirectUri meet the app's own: ``keep-user`` (v2.3.0+,
        PR #2599), ``lost`` (v2.2.1, issue #2597), ``overwrite`` (v2.2.0 and older, issue #1772)."""
        version = _version_tuple(self.version)
        if version >= (2, 3):
            return "keep-user"
        return "lost" if version >= (2, 2, 1) else "overwrite"

    @property
    def proxy_conf_reaches_driver(self) -> bool:
        return self.proxy_conf_mode != "lost"

    def to_json(self) -> dict[str, Any]:
        return {
            "url_format": self.url_format,
            "ingress_class_name": self.ingress_class_name,
            "ingress_annotations": dict(self.ingress_annotations),
            "ui_service_enable": self.ui_service_enable,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OperatorSettings:
        return cls(
            url_format=str(data.get("url_format", "")),
            ingress_class_name=str(data.get("ingress_class_name", "")),
            ingress_annotations=dict(data.get("ingress_annotations") or {}),
            ui_service_enable=bool(data.get("ui_service_enable", True)),
            version=str(data.get("version", "2.3.0")),
        )


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.lstrip("v").split("."):
        digits = re.match(r"\d+", piece)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts)


# ---------------------------------------------------------------------------- names and labels


def generate_name(name: str, suffix: str) -> str:
    """``<name>-<suffix>``; above 63 characters the name is cut and an 8-character md5 inserted.

    Reproduces ``generateName`` in kubeflow/spark-operator ``pkg/util/sparkapplication.go``:
    the hash is the md5 of the untruncated ``<name>-<suffix>``, the name keeps
    ``63 - len(suffix) - 10`` characters.
    """
    preferred = f"{name}-{suffix}"
    if len(preferred) <= 63:
        return preferred
    max_name_length = 63 - len(suffix) - 10  # 8 for the hash, 2 for the dashes
    digest = hashlib.md5(preferred.encode()).hexdigest()
    return f"{name[:max_name_length]}-{digest[:8]}-{suffix}"


def ui_service_name(app_name: str) -> str:
    return generate_name(app_name, "ui-svc")


def ui_ingress_name(app_name: str) -> str:
    return generate_name(app_name, "ui-ingress")


def _spec(app: Mapping[str, Any]) -> dict[str, Any]:
    return app.get("spec") or {}


def _conf(app: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (_spec(app).get("sparkConf") or {}).items()}


def _ui_options(app: Mapping[str, Any]) -> dict[str, Any] | None:
    return _spec(app).get("sparkUIOptions")


def driver_pod_name(app: Mapping[str, Any]) -> str:
    """``spec.driver.podName``, else ``spark.kubernetes.driver.pod.name``, else ``<app>-driver``."""
    explicit = (_spec(app).get("driver") or {}).get("podName")
    if explicit:
        return str(explicit)
    conf_name = _conf(app).get(DRIVER_POD_NAME_KEY)
    if conf_name:
        return conf_name
    return f"{app['metadata']['name']}-driver"


def resource_labels(app_name: str, submission_id: str = "") -> dict[str, str]:
    """Labels on the UI Service and Ingress (``GetResourceLabels``)."""
    labels = {LABEL_APP_NAME: app_name}
    if submission_id:
        labels[LABEL_SUBMISSION_ID] = submission_id
    return labels


def ui_target_port(app: Mapping[str, Any]) -> int:
    """``spark.ui.port`` from ``spec.sparkConf`` when it parses, else 4040 (``getWebUITargetPort``)."""
    raw = _conf(app).get(SPARK_UI_PORT_KEY)
    try:
        return int(raw) if raw is not None else DEFAULT_UI_PORT
    except ValueError:
        return DEFAULT_UI_PORT


def ui_service_port(app: Mapping[str, Any]) -> int:
    """``getWebUIServicePort``: no sparkUIOptions → the target port; else servicePort or 4040."""
    options = _ui_options(app)
    if options is None:
        return ui_target_port(app)
    port = options.get("servicePort")
    return int(port) if port is not None else DEFAULT_UI_PORT


def ui_service_port_name(app: Mapping[str, Any]) -> str:
    options = _ui_options(app) or {}
    return str(options.get("servicePortName") or DEFAULT_UI_PORT_NAME)


def owner_reference(app: Mapping[str, Any]) -> dict[str, Any]:
    meta = app.get("metadata") or {}
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "name": meta.get("name"),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


# ---------------------------------------------------------------------------- ingress URL


@dataclass(frozen=True)
class IngressURL:
    """The parsed ingress URL (Go ``net/url`` fields the operator uses)."""

    scheme: str
    host: str
    path: str

    def __str__(self) -> str:
        return urlunsplit((self.scheme, self.host, self.path, "", ""))

    @property
    def has_subpath(self) -> bool:
        return self.path not in ("", "/")


def ingress_url(url_format: str, app_name: str, namespace: str, app_id: str = "") -> IngressURL:
    """``getDriverIngressURL``: fill the template, then prepend ``http://`` when there is no scheme."""
    text = _APP_NAME_RE.sub(app_name, url_format)
    text = _APP_NAMESPACE_RE.sub(namespace, text)
    text = _APP_ID_RE.sub(app_id, text)
    parts = urlsplit(text)
    if not parts.scheme:
        parts = urlsplit("http://" + text)
    return IngressURL(parts.scheme, parts.netloc, parts.path)


def operator_spark_conf(app: Mapping[str, Any], settings: OperatorSettings) -> dict[str, str]:
    """What ``configWebUI`` adds to the driver's conf: proxyBase=URL path, proxyRedirectUri=/.

    Only with the UI service and an ``urlFormat`` whose path is not empty (a path of ``/`` counts),
    and (v2.3.0+) only for keys the application does not set itself; up to v2.2.0 over them.
    """
    if not settings.ui_service_enable or not settings.url_format:
        return {}
    meta = app["metadata"]
    url = ingress_url(settings.url_format, meta["name"], meta.get("namespace", "default"))
    if url.path == "":
        return {}
    conf = _conf(app)
    overwrite = settings.proxy_conf_mode == "overwrite"
    added: dict[str, str] = {}
    if overwrite or PROXY_BASE_KEY not in conf:
        added[PROXY_BASE_KEY] = url.path
    if overwrite or PROXY_REDIRECT_KEY not in conf:
        added[PROXY_REDIRECT_KEY] = "/"
    return added


# ---------------------------------------------------------------------------- objects


def build_ui_service(app: Mapping[str, Any], submission_id: str) -> dict[str, Any]:
    """The UI Service (``createWebUIService`` → ``createDriverIngressService``)."""
    meta = app["metadata"]
    options = _ui_options(app) or {}
    labels = resource_labels(meta["name"], submission_id)
    if options.get("serviceLabels"):
        labels = dict(options["serviceLabels"])  # upstream replaces, it does not merge
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": ui_service_name(meta["name"]),
            "namespace": meta.get("namespace", "default"),
            "labels": labels,
            "ownerReferences": [owner_reference(app)],
        },
        "spec": {
            "ports": [
                {
                    "name": ui_service_port_name(app),
                    "port": ui_service_port(app),
                    "targetPort": ui_target_port(app),
                }
            ],
            "selector": {LABEL_APP_NAME: meta["name"], LABEL_SPARK_ROLE: SPARK_ROLE_DRIVER},
            "type": str(options.get("serviceType") or "ClusterIP"),
        },
    }
    if options.get("serviceAnnotations"):
        service["metadata"]["annotations"] = dict(options["serviceAnnotations"])
    return service


def build_ui_ingress(
    app: Mapping[str, Any],
    submission_id: str,
    service_name: str,
    service_port: int,
    url: IngressURL,
    settings: OperatorSettings,
) -> dict[str, Any]:
    """The UI Ingress (``createDriverIngressV1``)."""
    meta = app["metadata"]
    options = _ui_options(app) or {}
    path = url.path + "(/|$)(.*)" if url.has_subpath else url.path
    annotations = {**dict(settings.ingress_annotations), **dict(options.get("ingressAnnotations") or {})}
    if url.has_subpath:
        annotations[REWRITE_TARGET] = "/$2"
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": "ImplementationSpecific",
                    "backend": {"service": {"name": service_name, "port": {"number": service_port}}},
                }
            ]
        }
    }
    if url.host:
        rule = {"host": url.host, **rule}
    ingress: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": ui_ingress_name(meta["name"]),
            "namespace": meta.get("namespace", "default"),
            "labels": resource_labels(meta["name"], submission_id),
            "ownerReferences": [owner_reference(app)],
        },
        "spec": {"rules": [rule]},
    }
    if annotations:
        ingress["metadata"]["annotations"] = annotations
    if options.get("ingressTLS"):
        ingress["spec"]["tls"] = list(options["ingressTLS"])
    if settings.ingress_class_name:
        ingress["spec"]["ingressClassName"] = settings.ingress_class_name
    return ingress


def build_driver_pod(app: Mapping[str, Any], submission_id: str) -> dict[str, Any]:
    """The driver pod as Spark on Kubernetes names and labels it (phase Pending until the UI is up)."""
    meta = app["metadata"]
    spec = _spec(app)
    driver = spec.get("driver") or {}
    labels = {
        **dict(driver.get("labels") or {}),
        LABEL_SPARK_ROLE: SPARK_ROLE_DRIVER,
        LABEL_APP_NAME: meta["name"],
        LABEL_SUBMISSION_ID: submission_id,
        LABEL_LAUNCHED_BY_OPERATOR: "true",
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": driver_pod_name(app),
            "namespace": meta.get("namespace", "default"),
            "labels": labels,
            "annotations": dict(driver.get("annotations") or {}),
            "ownerReferences": [owner_reference(app)],
        },
        "spec": {
            "serviceAccountName": str(driver.get("serviceAccount") or "default"),
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": DRIVER_CONTAINER,
                    "image": str(spec.get("image") or "spark:4.3.0"),
                    "args": ["driver", "--properties-file", "/opt/spark/conf/spark.properties"],
                    "ports": [
                        {"name": "driver-rpc-port", "containerPort": 7078, "protocol": "TCP"},
                        {"name": "blockmanager", "containerPort": 7079, "protocol": "TCP"},
                        {"name": "spark-ui", "containerPort": ui_target_port(app), "protocol": "TCP"},
                    ],
                }
            ],
        },
        "status": {"phase": "Pending"},
    }


# ---------------------------------------------------------------------------- handler registry


@dataclass(frozen=True)
class Handler:
    """One reaction: call ``fn(context, event_type, obj)`` for these events on this resource."""

    id: str
    plural: str
    events: frozenset[str]
    fn: Callable[[OperatorContext, str, dict[str, Any]], None]


class HandlerRegistry:
    """Handlers in registration order; build your own in tests, or start from :func:`default_registry`."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def register(self, handler: Handler) -> Handler:
        if any(h.id == handler.id for h in self._handlers):
            raise ValueError(f"handler id {handler.id!r} is already registered")
        self._handlers.append(handler)
        return handler

    def on(self, plural: str, *events: str, id: str | None = None) -> Callable:
        """Decorator form: ``@registry.on("sparkapplications", "ADDED")``."""

        def decorate(fn: Callable[[OperatorContext, str, dict[str, Any]], None]) -> Callable:
            self.register(Handler(id or fn.__name__, plural, frozenset(events), fn))
            return fn

        return decorate

    def handlers_for(self, event_type: str, plural: str) -> list[Handler]:
        return [h for h in self._handlers if h.plural == plural and event_type in h.events]

    @property
    def plurals(self) -> set[str]:
        return {h.plural for h in self._handlers}

    def __iter__(self) -> Iterator[Handler]:
        return iter(list(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)


@dataclass
class DriverRun:
    """A driver the operator launched for one submission of one application."""

    namespace: str
    app_name: str
    app_uid: str
    submission_id: str
    pod_name: str
    handle: DriverHandle
    ui_target_port: int = DEFAULT_UI_PORT  # the container port the Service targets
    image: str = "spark:4.3.0"
    phase: str = "pending"  # pending -> running -> done


@dataclass
class OperatorContext:
    """What handlers get: the store, the settings, the launcher and the drivers in flight."""

    store: Any
    settings: OperatorSettings
    launcher: DriverLauncher
    node: str
    drivers: dict[tuple[str, str], DriverRun] = field(default_factory=dict)
    records_path: Any = None  # Path for the drivers' process records (read by `kb lab down`)

    # -- small store helpers -------------------------------------------------------------

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> dict | None:
        try:
            return self.store.patch(plural, namespace, name, {"status": status}, subresource="status")
        except NotFound:
            return None

    def create_or_replace(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        try:
            return self.store.create(plural, meta.get("namespace"), obj)
        except AlreadyExists:
            current = self.store.get(plural, meta.get("namespace"), meta["name"])
            replacement = json.loads(json.dumps(obj))
            replacement["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return self.store.replace(plural, meta.get("namespace"), meta["name"], replacement)

    def delete_quietly(self, plural: str, namespace: str, name: str) -> None:
        try:
            self.store.delete(plural, namespace, name)
        except NotFound:
            pass

    def record_event(self, app: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """A core/v1 Event on the SparkApplication, as the operator's recorder writes them."""
        meta = app["metadata"]
        now = _now()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{uuid.uuid4().hex[:16]}",
                "namespace": meta.get("namespace"),
            },
            "involvedObject": {
                "apiVersion": "sparkoperator.k8s.io/v1beta2",
                "kind": "SparkApplication",
                "name": meta["name"],
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid", ""),
            },
            "type": type_,
            "reason": reason,
            "message": message,
            "source": {"component": "spark-operator"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self.store.create("events", meta.get("namespace"), event)
        except Exception:  # events are best effort, as in client-go's recorder
            log.debug("could not record event %s for %s", reason, meta["name"], exc_info=True)

    def save_records(self) -> None:
        if self.records_path is None:
            return
        records: list[ProcessRecord] = [r.handle.record for r in self.drivers.values() if r.handle.record]
        save_records(self.records_path, records)


# ---------------------------------------------------------------------------- handlers


def submit_application(ctx: OperatorContext, event_type: str, app: dict[str, Any]) -> None:
    """New SparkApplication: launch the driver, create its pod, UI Service and Ingress, set status."""
    meta = app["metadata"]
    state = ((app.get("status") or {}).get("applicationState") or {}).get("state", NEW)
    if state != NEW:
        return
    key = (meta.get("namespace", "default"), meta["name"])
    running = ctx.drivers.get(key)
    if running is not None and running.app_uid == meta.get("uid"):
        return
    namespace, name = key
    submission_id = str(uuid.uuid4())
    pod_name = driver_pod_name(app)
    web_conf = operator_spark_conf(app, ctx.settings)
    driver_conf = {**_conf(app), **(web_conf if ctx.settings.proxy_conf_reaches_driver else {})}
    spec = _spec(app)
    request = DriverRequest(
        namespace=namespace,
        app_name=name,
        pod_name=pod_name,
        submission_id=submission_id,
        main_application_file=str(spec.get("mainApplicationFile") or ""),
        arguments=tuple(str(a) for a in spec.get("arguments") or ()),
        spark_conf=driver_conf,
    )
    attempt = {
        "submissionID": submission_id,
        "lastSubmissionAttemptTime": _now(),
        "submissionAttempts": int((app.get("status") or {}).get("submissionAttempts") or 0) + 1,
    }
    try:
        handle = ctx.launcher.launch(request)
    except Exception as exc:  # spark-submit failed: SUBMISSION_FAILED, as upstream
        log.exception("could not launch the driver of %s/%s", namespace, name)
        ctx.patch_status(
            "sparkapplications",
            namespace,
            name,
            {**attempt, "applicationState": {"state": SUBMISSION_FAILED, "errorMessage": str(exc)}},
        )
        ctx.record_event(
            app,
            "Warning",
            "SparkApplicationSubmissionFailed",
            f"failed to submit SparkApplication {name}: {exc}",
        )
        return
    image = str(spec.get("image") or "spark:4.3.0")
    ctx.drivers[key] = DriverRun(
        namespace, name, meta.get("uid", ""), submission_id, pod_name, handle, ui_target_port(app), image
    )
    ctx.save_records()
    ctx.delete_quietly("pods", namespace, pod_name)  # a leftover of an earlier run with the same name
    ctx.store.create("pods", namespace, build_driver_pod(app, submission_id))
    driver_info: dict[str, Any] = {"podName": pod_name}
    ctx.patch_status(
        "sparkapplications",
        namespace,
        name,
        {
            **attempt,
            "applicationState": {"state": SUBMITTED},
            "executionAttempts": int((app.get("status") or {}).get("executionAttempts") or 0) + 1,
            "driverInfo": driver_info,
        },
    )
    ctx.record_event(
        app, "Normal", "SparkApplicationSubmitted", f"SparkApplication {name} was submitted successfully"
    )
    driver_info.update(_create_web_ui(ctx, app, submission_id))
    ctx.patch_status("sparkapplications", namespace, name, {"driverInfo": driver_info})


def _create_web_ui(ctx: OperatorContext, app: dict[str, Any], submission_id: str) -> dict[str, Any]:
    """The Submitted-state part of ``controller.go``: UI Service, then the UI Ingress when urlFormat is set."""
    if not ctx.settings.ui_service_enable:
        return {}
    meta = app["metadata"]
    service = ctx.create_or_replace("services", build_ui_service(app, submission_id))
    port = service["spec"]["ports"][0]["port"]
    info: dict[str, Any] = {
        "webUIServiceName": service["metadata"]["name"],
        "webUIPort": port,
        "webUIAddress": f"{service['spec'].get('clusterIP', '')}:{port}",
    }
    if ctx.settings.url_format:
        url = ingress_url(ctx.settings.url_format, meta["name"], meta.get("namespace", "default"))
        ingress = ctx.create_or_replace(
            "ingresses",
            build_ui_ingress(app, submission_id, service["metadata"]["name"], port, url, ctx.settings),
        )
        info["webUIIngressName"] = ingress["metadata"]["name"]
        info["webUIIngressAddress"] = str(url)
    return info


def cleanup_application(ctx: OperatorContext, event_type: str, app: dict[str, Any]) -> None:
    """Deleted SparkApplication: stop the driver; delete its pod, UI Service and UI Ingress."""
    meta = app["metadata"]
    namespace, name = meta.get("namespace", "default"), meta["name"]
    run = ctx.drivers.pop((namespace, name), None)
    if run is not None:
        run.handle.stop()
        ctx.save_records()
    info = (app.get("status") or {}).get("driverInfo") or {}
    ctx.delete_quietly("pods", namespace, info.get("podName") or driver_pod_name(app))
    if info.get("webUIServiceName"):
        ctx.delete_quietly("services", namespace, info["webUIServiceName"])
    if info.get("webUIIngressName"):
        ctx.delete_quietly("ingresses", namespace, info["webUIIngressName"])


def driver_started(ctx: OperatorContext, run: DriverRun) -> None:
    """The driver's UI answers: pod Running and Ready on the node address, app RUNNING."""
    address = run.handle.ui_address()
    if address is None:
        return
    host, port = address
    now = _now()
    app_id = run.handle.application_id() or ""
    annotations = {PORTS_ANNOTATION: json.dumps({str(run.ui_target_port): port})}
    try:
        ctx.store.patch(
            "pods",
            run.namespace,
            run.pod_name,
            {"metadata": {"labels": {LABEL_SPARK_APP_SELECTOR: app_id}, "annotations": annotations}},
        )
    except NotFound:
        return
    ctx.patch_status(
        "pods",
        run.namespace,
        run.pod_name,
        {
            "phase": "Running",
            "podIP": host,
            "podIPs": [{"ip": host}],
            "hostIP": host,
            "startTime": now,
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                {"type": "Ready", "status": "True", "lastTransitionTime": now},
            ],
            "containerStatuses": [
                {
                    "name": DRIVER_CONTAINER,
                    "image": run.image,
                    "imageID": f"lab://{run.image}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                }
            ],
        },
    )
    app = ctx.patch_status(
        "sparkapplications",
        run.namespace,
        run.app_name,
        {"applicationState": {"state": RUNNING}, "sparkApplicationId": app_id},
    )
    run.phase = "running"
    if app is not None:
        ctx.record_event(app, "Normal", "SparkDriverRunning", f"Driver {run.pod_name} is running")


def driver_ended(ctx: OperatorContext, run: DriverRun, exit_code: int) -> None:
    """The driver process exited: pod Succeeded/Failed, app COMPLETED/FAILED (via SUCCEEDING/FAILING)."""
    run.phase = "done"
    now = _now()
    succeeded = exit_code == 0
    reason = "Completed" if succeeded else "Error"
    ctx.patch_status(
        "pods",
        run.namespace,
        run.pod_name,
        {
            "phase": "Succeeded" if succeeded else "Failed",
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": now},
                {
                    "type": "ContainersReady",
                    "status": "False",
                    "reason": "PodCompleted",
                    "lastTransitionTime": now,
                },
            ],
            "containerStatuses": [
                {
                    "name": DRIVER_CONTAINER,
                    "image": run.image,
                    "imageID": f"lab://{run.image}",
                    "ready": False,
                    "started": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": exit_code, "reason": reason, "finishedAt": now}},
                }
            ],
        },
    )
    passing, final = (SUCCEEDING, COMPLETED) if succeeded else (FAILING, FAILED)
    state: dict[str, Any] = {"state": passing}
    if not succeeded:
        state["errorMessage"] = f"driver container failed with ExitCode: {exit_code}, Reason: {reason}"
    patch = {"applicationState": state, "terminationTime": now}
    if run.handle.application_id():
        patch["sparkApplicationId"] = run.handle.application_id()
    if ctx.patch_status("sparkapplications", run.namespace, run.app_name, patch) is None:
        return
    app = ctx.patch_status(
        "sparkapplications", run.namespace, run.app_name, {"applicationState": {**state, "state": final}}
    )
    if app is not None:
        if succeeded:
            ctx.record_event(app, "Normal", "SparkDriverCompleted", f"Driver {run.pod_name} completed")
            ctx.record_event(
                app, "Normal", "SparkApplicationCompleted", f"SparkApplication {run.app_name} completed"
            )
        else:
            ctx.record_event(app, "Warning", "SparkDriverFailed", f"Driver {run.pod_name} failed")
            ctx.record_event(
                app,
                "Warning",
                "SparkApplicationFailed",
                f"SparkApplication {run.app_name} failed: {state['errorMessage']}",
            )


# -- endpoints controller (lab stand-in for kube-controller-manager's endpoints controllers) -------


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or not status.get("podIP"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _resolve_target_port(pod: Mapping[str, Any], target: Any) -> int | None:
    """A Service targetPort on one pod: a number, or a container port name; then the lab port map."""
    if isinstance(target, str) and not target.isdigit():
        ports = [p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
        found = next((p for p in ports if p.get("name") == target), None)
        if found is None:
            return None
        container_port = int(found["containerPort"])
    else:
        container_port = int(target)
    mapping_raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(PORTS_ANNOTATION)
    if mapping_raw:
        try:
            mapping = json.loads(mapping_raw)
            return int(mapping.get(str(container_port), container_port))
        except (ValueError, TypeError, AttributeError):
            return container_port
    return container_port


def _labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def endpoints_for(service: Mapping[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Endpoints ``subsets`` for a selector Service: ready pods grouped by their resolved ports."""
    groups: dict[tuple, dict[str, Any]] = {}
    for pod in pods:
        if not _pod_ready(pod):
            continue
        ports = []
        for sp in (service.get("spec") or {}).get("ports") or []:
            real = _resolve_target_port(pod, sp.get("targetPort", sp.get("port")))
            if real is None:
                continue
            entry = {"port": real, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                entry["name"] = sp["name"]
            ports.append(entry)
        if not ports:
            continue
        key = tuple(sorted(json.dumps(p, sort_keys=True) for p in ports))
        meta = pod["metadata"]
        address = {
            "ip": pod["status"]["podIP"],
            "targetRef": {
                "kind": "Pod",
                "name": meta["name"],
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid", ""),
            },
        }
        group = groups.setdefault(key, {"addresses": [], "ports": ports})
        group["addresses"].append(address)
    return list(groups.values())


def _slice_name(service_name: str) -> str:
    digest = hashlib.sha1(service_name.encode()).hexdigest()[:5]
    return f"{service_name[:57]}-{digest}"


def sync_endpoints(ctx: OperatorContext, service: Mapping[str, Any]) -> None:
    """Write the Service's Endpoints and EndpointSlice when they differ from what the pods say."""
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    if not selector:
        return  # a Service without selector keeps hand-made Endpoints
    meta = service["metadata"]
    namespace, name = meta.get("namespace", "default"), meta["name"]
    pods = [
        p
        for p in ctx.store.list("pods", namespace)
        if _labels_match(selector, (p.get("metadata") or {}).get("labels") or {})
    ]
    subsets = endpoints_for(service, pods)
    labels = dict(meta.get("labels") or {})
    try:
        current = ctx.store.get("endpoints", namespace, name)
    except NotFound:
        current = None
    if current is None or (current.get("subsets") or []) != subsets:
        ctx.create_or_replace(
            "endpoints",
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "subsets": subsets,
            },
        )
    slice_ports = (
        subsets[0]["ports"]
        if subsets
        else [
            {
                k: v
                for k, v in (
                    ("name", p.get("name")),
                    ("port", p.get("targetPort", p.get("port"))),
                    ("protocol", p.get("protocol", "TCP")),
                )
                if v is not None
            }
            for p in spec.get("ports") or []
        ]
    )
    endpoints = [
        {
            "addresses": [a["ip"]],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "targetRef": a["targetRef"],
        }
        for s in subsets
        for a in s["addresses"]
    ]
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": _slice_name(name),
            "namespace": namespace,
            "labels": {
                **labels,
                SERVICE_NAME_LABEL: name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": slice_ports,
    }
    try:
        existing = ctx.store.get("endpointslices", namespace, endpoint_slice["metadata"]["name"])
    except NotFound:
        existing = None
    if existing is None or existing.get("endpoints") != endpoints or existing.get("ports") != slice_ports:
        ctx.create_or_replace("endpointslices", endpoint_slice)


def on_service(ctx: OperatorContext, event_type: str, service: dict[str, Any]) -> None:
    meta = service["metadata"]
    namespace, name = meta.get("namespace", "default"), meta["name"]
    if event_type == "DELETED":
        if (service.get("spec") or {}).get("selector"):
            ctx.delete_quietly("endpoints", namespace, name)
        for found in ctx.store.list("endpointslices", namespace, label_selector={SERVICE_NAME_LABEL: name}):
            ctx.delete_quietly("endpointslices", namespace, found["metadata"]["name"])
        return
    sync_endpoints(ctx, service)


def on_pod(ctx: OperatorContext, event_type: str, pod: dict[str, Any]) -> None:
    namespace = pod["metadata"].get("namespace", "default")
    for service in ctx.store.list("services", namespace):
        if (service.get("spec") or {}).get("selector"):
            sync_endpoints(ctx, service)


def default_registry() -> HandlerRegistry:
    """The built-in handlers: submission, cleanup, and the endpoints controller stand-in."""
    registry = HandlerRegistry()
    registry.register(
        Handler("submit", "sparkapplications", frozenset({"ADDED", "MODIFIED"}), submit_application)
    )
    registry.register(Handler("cleanup", "sparkapplications", frozenset({"DELETED"}), cleanup_application))
    registry.register(
        Handler(
            "endpoints-from-services", "services", frozenset({"ADDED", "MODIFIED", "DELETED"}), on_service
        )
    )
    registry.register(
        Handler("endpoints-from-pods", "pods", frozenset({"ADDED", "MODIFIED", "DELETED"}), on_pod)
    )
    return registry


# ---------------------------------------------------------------------------- the operator


class SparkOperator:
    """Runs the registry's handlers for store events on one thread and watches the drivers."""

    def __init__(
        self,
        store: Any,
        settings: OperatorSettings,
        launcher: DriverLauncher,
        *,
        node: str = "127.0.0.2",
        registry: HandlerRegistry | None = None,
        records_path: Any = None,
        poll_interval: float = 0.2,
    ) -> None:
        self.registry = registry if registry is not None else default_registry()
        self.context = OperatorContext(store, settings, launcher, node, records_path=records_path)
        self.poll_interval = poll_interval
        self.errors: list[tuple[str, BaseException]] = []
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._idle = threading.Event()

    @property
    def drivers(self) -> dict[tuple[str, str], DriverRun]:
        return self.context.drivers

    def start(self) -> None:
        store = self.context.store
        self._unsubscribe = store.subscribe(self._on_store_event)
        for plural in sorted(self.registry.plurals):
            for obj in store.list(plural, None):
                self._queue.put(("ADDED", plural, obj))
        for target, name in ((self._work, "operator-handlers"), (self._watch_drivers, "operator-drivers")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop handling events and stop every driver still running (in parallel)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        with self._lock:
            runs = list(self.context.drivers.values())
        stoppers = [threading.Thread(target=r.handle.stop, daemon=True) for r in runs]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join(timeout)
        self.context.save_records()

    def pod_log(self, namespace: str, pod: str, params: Mapping[str, str]) -> str | None:
        """``kubectl logs`` for a driver pod: the driver process's output (``tailLines`` honoured)."""
        with self._lock:
            run = next(
                (r for r in self.context.drivers.values() if r.namespace == namespace and r.pod_name == pod),
                None,
            )
        path = getattr(run.handle, "log_path", None) if run else None
        if path is None:
            return None
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            return None
        tail = params.get("tailLines")
        if tail and str(tail).isdigit():
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :]) if int(tail) else ""
        return text

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the queue is empty, including events the handlers caused (for tests)."""
        self._idle.clear()
        self._queue.put(("__idle__", "", {}))
        return self._idle.wait(timeout)

    # -- internals -----------------------------------------------------------------------

    def _on_store_event(self, event_type: str, resource: Any, obj: dict[str, Any]) -> None:
        plural = getattr(resource, "plural", str(resource))
        if plural in self.registry.plurals:
            self._queue.put((event_type, plural, obj))

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                return
            event_type, plural, obj = item
            if event_type == "__idle__":  # quiet only when nothing was queued behind the marker
                if self._queue.empty():
                    self._idle.set()
                else:
                    self._queue.put(item)
                continue
            for handler in self.registry.handlers_for(event_type, plural):
                with self._lock:
                    try:
                        handler.fn(self.context, event_type, obj)
                    except Exception as exc:  # a handler failure must not stop the operator
                        log.exception("handler %s failed on %s %s", handler.id, event_type, plural)
                        self.errors.append((handler.id, exc))

    def _watch_drivers(self) -> None:
        while not self._stop.wait(self.poll_interval):
            with self._lock:
                for run in list(self.context.drivers.values()):
                    try:
                        self._check(run)
                    except Exception as exc:
                        log.exception("watching driver %s/%s failed", run.namespace, run.pod_name)
                        self.errors.append(("driver-watch", exc))

    def _check(self, run: DriverRun) -> None:
        if run.phase == "done":
            return
        exit_code = run.handle.poll()
        if run.phase == "pending" and run.handle.ui_address() is not None:
            driver_started(self.context, run)
        if exit_code is not None:
            driver_ended(self.context, run, exit_code)
            self.context.save_records()
