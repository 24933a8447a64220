"""Names, labels, ports and URLs the operator derives from a SparkApplication, as upstream does.

Reproduces kubeflow/spark-operator ``pkg/util/sparkapplication.go`` (``generateName``,
``GetDefaultUIServiceName``, ``GetDefaultUIIngressName``, ``GetDriverPodName``,
``GetResourceLabels``), the ``pkg/common`` label constants, the UI ports of
``internal/controller/sparkapplication/web_ui.go`` and ``getDriverIngressURL`` and ``configWebUI``
of ``driveringress.go``/``controller.go``. Used by :mod:`.resources` (the objects it renders) and
:mod:`.handlers`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from platform_kb_lab.operator.model import OperatorSettings

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

_APP_NAME_RE = re.compile(r"{{\s*[$]appName\s*}}")
_APP_NAMESPACE_RE = re.compile(r"{{\s*[$]appNamespace\s*}}")
_APP_ID_RE = re.compile(r"{{\s*[$]appId\s*}}")


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


def app_spec(app: Mapping[str, Any]) -> dict[str, Any]:
    return app.get("spec") or {}


def app_conf(app: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (app_spec(app).get("sparkConf") or {}).items()}


def ui_options(app: Mapping[str, Any]) -> dict[str, Any] | None:
    return app_spec(app).get("sparkUIOptions")


def driver_pod_name(app: Mapping[str, Any]) -> str:
    """``spec.driver.podName``, else ``spark.kubernetes.driver.pod.name``, else ``<app>-driver``."""
    explicit = (app_spec(app).get("driver") or {}).get("podName")
    if explicit:
        return str(explicit)
    conf_name = app_conf(app).get(DRIVER_POD_NAME_KEY)
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
    raw = app_conf(app).get(SPARK_UI_PORT_KEY)
    try:
        return int(raw) if raw is not None else DEFAULT_UI_PORT
    except ValueError:
        return DEFAULT_UI_PORT


def ui_service_port(app: Mapping[str, Any]) -> int:
    """``getWebUIServicePort``: no sparkUIOptions → the target port; else servicePort or 4040."""
    options = ui_options(app)
    if options is None:
        return ui_target_port(app)
    port = options.get("servicePort")
    return int(port) if port is not None else DEFAULT_UI_PORT


def ui_service_port_name(app: Mapping[str, Any]) -> str:
    options = ui_options(app) or {}
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
    conf = app_conf(app)
    overwrite = settings.proxy_conf_mode == "overwrite"
    added: dict[str, str] = {}
    if overwrite or PROXY_BASE_KEY not in conf:
        added[PROXY_BASE_KEY] = url.path
    if overwrite or PROXY_REDIRECT_KEY not in conf:
        added[PROXY_REDIRECT_KEY] = "/"
    return added
