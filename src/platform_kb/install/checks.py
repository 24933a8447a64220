"""The project's own checks of what a runbook rendered — run before any change.

Sits between ``values.py`` (render) and ``plan.py``: every check returns :class:`Problem` records;
:func:`ensure_ok` raises one :class:`~platform_kb.errors.UsageProblem` listing every error, so a
broken value stops the run before a single command is executed. Warnings are reported as
findings and do not stop the run.

What is checked (beyond ``helm template``, which applies a chart's ``values.schema.json`` when
helm is available — the Airflow chart has one, the Spark Operator chart has none):

* unknown or misspelt keys the project knows of (``charts.KNOWN_KEYS``), with the closest key;
* required fields (git-sync repository, remote log folder, connection id, ...);
* credentials given as literals instead of ``env:``/``file:`` references;
* Spark Operator: chart < 2.3.0 (2.2.1 never passes proxyBase to the driver, kubeflow/spark-operator
  #2597 / PR #2599; up to 2.2.0 it overwrites the app's own proxyBase/proxyRedirectUri, #1772), a ``urlFormat`` without a path, a path that would make ``proxyBase=/``
  (protocol-relative ``//jobs/`` links, upstream-facts §1), unknown template variables;
* History Server: ``s3a://`` log directory, path-style access, the jar pair matching the image.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ..errors import UsageProblem
from ..inventory import Inventory
from . import charts
from .charts import OPEN
from .secrets import parse_ref
from .values import (
    AirflowParams,
    HistoryServerParams,
    InstallSpec,
    MonitoringParams,
    SparkOperatorParams,
    grafana_ini_origin,
    grafana_ini_path,
    load_monitoring_inventory,
)


@dataclass(frozen=True)
class Problem:
    id: str
    severity: str  # "error" | "warning"
    message: str
    fix: str = ""

    def text(self) -> str:
        return self.message + (f" — {self.fix}" if self.fix else "")


def _error(id: str, message: str, fix: str = "") -> Problem:
    return Problem(id, "error", message, fix)


def _warning(id: str, message: str, fix: str = "") -> Problem:
    return Problem(id, "warning", message, fix)


def ensure_ok(problems: Iterable[Problem], what: str) -> list[Problem]:
    """Raise a UsageProblem naming every error; return the warnings."""
    problems = list(problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        lines = "\n".join(f"  - [{p.id}] {p.text()}" for p in errors)
        raise UsageProblem(f"{what}: {len(errors)} problem(s) found before any change was made:\n{lines}")
    return [p for p in problems if p.severity != "error"]


# --- keys ----------------------------------------------------------------------------------------
def unknown_keys(values: Mapping[str, Any], tree: dict, chart: str, prefix: str = "") -> Iterator[Problem]:
    """Every key in ``values`` that ``tree`` (a closed node) does not know, with the closest known key."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if key not in tree:
            listed = [str(k) for k in tree if k != OPEN]
            if OPEN in tree:
                # a partly open node: keys it does not list are free-form, unless one is a near miss
                # of a listed key (`ingres` for `ingress`, `servr` for `server`)
                near = difflib.get_close_matches(str(key), listed, n=1, cutoff=0.85)
                if near:
                    yield _error("unknown-key", f"{chart} values: unknown key `{path}`",
                                 f"did you mean `{prefix}{near[0]}`?")  # fmt: skip
                continue
            close = difflib.get_close_matches(str(key), listed, n=1, cutoff=0.6)
            if not close:  # case-only differences (subpath vs subPath) score low in difflib
                close = [k for k in tree if str(k).lower() == str(key).lower()][:1]
            hint = (
                f"did you mean `{prefix}{close[0]}`?"
                if close
                else f"known keys here: {', '.join(sorted(listed))}"
            )
            yield _error("unknown-key", f"{chart} values: unknown key `{path}`", hint)
            continue
        node = tree[key]
        if isinstance(node, dict) and isinstance(value, Mapping):
            yield from unknown_keys(value, node, chart, f"{path}.")
        elif node is OPEN or node is None:
            continue


# literal credentials in Helm values: these keys hold secret *values* (the *SecretName keys hold names)
_SECRET_VALUE_KEYS = {
    "password", "pass", "postgrespassword", "fernetkey", "apisecretkey", "jwtsecret", "webserversecretkey",
    "sshkey", "keytabbase64content", "brokerurl",
}  # fmt: skip


def literal_secrets(values: Any, path: str = "") -> Iterator[Problem]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            sub = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _SECRET_VALUE_KEYS and isinstance(value, str) and value:
                yield _error(
                    "literal-secret",
                    f"values: `{sub}` carries a literal credential",
                    "put it in a Kubernetes Secret built from an env:/file: reference and name that Secret "
                    "(e.g. *SecretName keys), never the value itself",
                )
            else:
                yield from literal_secrets(value, sub)
    elif isinstance(values, list):
        for i, item in enumerate(values):
            yield from literal_secrets(item, f"{path}[{i}]")


def refs(params: Any, names: Iterable[str], required: Iterable[str] = ()) -> Iterator[Problem]:
    """Every credential parameter must be an ``env:``/``file:`` reference (or empty when optional)."""
    required = set(required)
    for name in names:
        value = getattr(params, name)
        if not value and name not in required:
            continue
        try:
            parse_ref(value, name)
        except UsageProblem as exc:
            yield _error("secret-literal" if value else "secret-missing", str(exc))


def _get(values: Mapping[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _required(values: Mapping[str, Any], chart: str, paths: Iterable[str]) -> Iterator[Problem]:
    for path in paths:
        value = _get(values, path)
        if value in (None, "", [], {}):
            yield _error("required", f"{chart} values: `{path}` is required")


# --- Airflow -------------------------------------------------------------------------------------
def check_airflow(params: AirflowParams, spec: InstallSpec) -> list[Problem]:
    assert spec.release is not None
    values = spec.release.values
    problems: list[Problem] = []
    problems += unknown_keys(values, charts.KNOWN_KEYS["airflow"], "airflow")
    problems += _required(
        values,
        "airflow",
        ["executor", "dags.gitSync.repo", "dags.gitSync.branch", "config.logging.remote_base_log_folder",
         "config.logging.remote_log_conn_id"],
    )  # fmt: skip
    problems += literal_secrets(values)
    problems += refs(
        params,
        ["s3_access_key_ref", "s3_secret_key_ref"],
        required=["s3_access_key_ref", "s3_secret_key_ref"],
    )
    problems += refs(params, ["git_username_ref", "git_password_ref", "git_ssh_key_ref"])
    executor = _get(values, "executor")
    if executor and "KubernetesExecutor" not in str(executor):
        problems.append(
            _error("executor", f"airflow values: executor is {executor!r}; #3-10 runs KubernetesExecutor")
        )
    if str(_get(values, "config.logging.remote_logging")) != "True":
        problems.append(
            _error("remote-logging", 'airflow values: config.logging.remote_logging must be "True"')
        )
    folder = str(_get(values, "config.logging.remote_base_log_folder") or "")
    if folder and not folder.startswith("s3://"):
        problems.append(
            _error("log-folder", f"airflow values: remote_base_log_folder {folder!r} must start with s3://")
        )
    conn_id = str(_get(values, "config.logging.remote_log_conn_id") or "")
    env_names = {str(s.get("envName")) for s in values.get("secret") or [] if isinstance(s, Mapping)}
    if conn_id and "AIRFLOW_CONN_" + conn_id.upper() not in env_names:
        problems.append(
            _error("log-connection", f"airflow values: no `secret` entry provides AIRFLOW_CONN_{conn_id.upper()}",
                   "the remote log connection must reach every Airflow container")
        )  # fmt: skip
    if params.git_uses_ssh and not params.git_ssh_key_ref:
        problems.append(
            _error("git-ssh-key", f"git_repo {params.git_repo!r} is an SSH URL but git_ssh_key_ref is empty")
        )
    if params.git_uses_ssh and not params.git_known_hosts:
        problems.append(
            _error("git-known-hosts", "git_known_hosts is empty: git-sync would not verify the git server's host key",
                   "give the git server's known_hosts line(s)")
        )  # fmt: skip
    if bool(params.git_username_ref) != bool(params.git_password_ref):
        problems.append(_error("git-credentials", "git_username_ref and git_password_ref go together"))
    if not params.ui_path.startswith("/"):
        problems.append(_error("ui-path", f"ui_path {params.ui_path!r} must start with /"))
    problems += _endpoint(params.s3_endpoint)
    return problems


# --- Spark Operator -------------------------------------------------------------------------------
URL_VARIABLES = ("{{$appName}}", "{{$appNamespace}}", "{{$appId}}")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def url_format_path(url_format: str) -> str:
    """The path the operator derives from ``urlFormat`` (``http://`` prepended when there is no scheme)."""
    text = url_format if "://" in url_format else "http://" + url_format
    return urlparse(text).path


def check_url_format(url_format: str, chart_version: str) -> list[Problem]:
    problems: list[Problem] = []
    if not url_format:
        return [_error("urlformat-empty", "controller.uiIngress.urlFormat is empty but uiIngress is enabled")]
    for var in _TEMPLATE.findall(url_format):
        if var not in URL_VARIABLES:
            close = difflib.get_close_matches(var, URL_VARIABLES, n=1, cutoff=0.5)
            problems.append(
                _error("urlformat-variable", f"urlFormat variable {var} is not one the operator knows",
                       f"did you mean {close[0]}?" if close else f"known: {', '.join(URL_VARIABLES)}")
            )  # fmt: skip
    if "{{$appId}}" in url_format and charts.parse_version(chart_version) < (2, 3, 0):
        problems.append(_error("urlformat-appid", "{{$appId}} in urlFormat needs spark-operator >= 2.3.0"))
    path = url_format_path(url_format)
    if path == "":
        problems.append(
            _error("urlformat-no-path", f"urlFormat {url_format!r} has no path: every UI would sit at the host root "
                   "and the operator would not set a usable proxyBase",
                   "use a path such as /spark-ui/{{$appNamespace}}/{{$appName}}")
        )  # fmt: skip
    elif path == "/":
        problems.append(
            _error("proxybase-root", f"urlFormat {url_format!r} has the path `/`: the operator would set "
                   "spark.ui.proxyBase=/ and proxyRedirectUri=/, giving `Location: //jobs/` and "
                   "protocol-relative CSS/JS links (the #3-10 symptom)",
                   "use a path such as /spark-ui/{{$appNamespace}}/{{$appName}}")
        )  # fmt: skip
    elif "{{$appName}}" not in path and "{{$appId}}" not in path:
        problems.append(
            _error("urlformat-not-unique", f"urlFormat path {path!r} names no application: every app would get the same path",
                   "include {{$appName}}")
        )  # fmt: skip
    return problems


def check_spark_operator(params: SparkOperatorParams, spec: InstallSpec) -> list[Problem]:
    assert spec.release is not None
    values = spec.release.values
    problems: list[Problem] = list(
        unknown_keys(values, charts.KNOWN_KEYS["spark-operator"], "spark-operator")
    )
    problems += literal_secrets(values)
    try:
        version = charts.parse_version(params.chart_version)
    except UsageProblem as exc:
        return [*problems, _error("chart-version", str(exc))]
    if version < charts.SPARK_OPERATOR_MIN_VERSION:
        problems.append(
            _error("operator-too-old", f"spark-operator chart {params.chart_version} is older than 2.3.0: operator 2.2.1 "
                   "sets spark.ui.proxyBase after spark-submit, so the driver never sees it and the UI behind the "
                   "ingress loses its CSS/JS (kubeflow/spark-operator #2597, fixed by PR #2599 in 2.3.0); up to "
                   "2.2.0 it overwrites a proxyBase/proxyRedirectUri the app sets itself (#1772)",
                   f"use chart_version {charts.SPARK_OPERATOR.version}")
        )  # fmt: skip
    ingress_on = _get(values, "controller.uiIngress.enable")
    if ingress_on is not True:
        problems.append(
            _error("ui-ingress-off", "controller.uiIngress.enable must be true (#3-10 exposes driver UIs)")
        )
    if _get(values, "controller.uiService.enable") is False:
        problems.append(_error("ui-service-off", "controller.uiService.enable must stay true for uiIngress"))
    url_format = str(_get(values, "controller.uiIngress.urlFormat") or "")
    if ingress_on:
        problems += check_url_format(url_format, params.chart_version)
    if not _get(values, "controller.uiIngress.ingressClassName"):
        problems.append(
            _warning(
                "ingress-class",
                "controller.uiIngress.ingressClassName is empty: the cluster default class is used",
            )
        )
    if not params.namespaces:
        problems.append(_error("job-namespaces", "job_namespaces is empty"))
    return problems


# --- History Server ------------------------------------------------------------------------------
def check_history_server(params: HistoryServerParams, spec: InstallSpec) -> list[Problem]:
    problems: list[Problem] = list(refs(params, ["s3_access_key_ref", "s3_secret_key_ref"],
                                        required=["s3_access_key_ref", "s3_secret_key_ref"]))  # fmt: skip
    try:
        charts.s3a_jars_for(params.spark_version)
    except UsageProblem as exc:
        problems.append(_error("spark-version", str(exc)))
    tag = params.image.rsplit(":", 1)[1] if ":" in params.image.rsplit("/", 1)[-1] else ""
    match = re.match(r"^v?(\d+\.\d+)", tag)
    if match and not params.spark_version.startswith(match.group(1)):
        problems.append(
            _error("image-spark-version", f"image {params.image!r} is Spark {match.group(1)} but spark_version is "
                   f"{params.spark_version}: the hadoop-aws/AWS SDK jars must match the image's Spark",
                   "set spark_version to the image's Spark version")
        )  # fmt: skip
    if not params.log_directory.startswith("s3a://"):
        problems.append(_error("log-directory", f"log directory {params.log_directory!r} must use s3a://"))
    if not params.s3_path_style:
        problems.append(
            _warning(
                "path-style",
                "s3_path_style is false: MinIO without wildcard DNS needs fs.s3a.path.style.access=true",
            )
        )
    if not params.ui_path.startswith("/") or params.ui_path.rstrip("/") == "":
        problems.append(
            _error("ui-path", f"ui_path {params.ui_path!r} must be a path below / (e.g. /spark-history)")
        )
    problems += _endpoint(params.s3_endpoint)
    return problems


def _endpoint(endpoint: str) -> list[Problem]:
    if endpoint.startswith(("http://", "https://")) and urlparse(endpoint).hostname:
        return []
    return [_error("s3-endpoint", f"s3_endpoint {endpoint!r} must be a URL like http://minio.minio.svc:9000")]


# --- kube-prometheus-stack ---------------------------------------------------------------------------
# prometheus-operator CRD patterns (Documentation/api-reference/api.md: Duration, ByteSize)
_DURATION = re.compile(
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
_BYTE_SIZE = re.compile(r"^(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$")
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
          "k": 10**3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}  # fmt: skip
# ports a Proxmox VE host already listens on (pve-docs: pveproxy 8006, spiceproxy 3128, pvedaemon 85,
# rpcbind 111, sshd 22, corosync 5405-5412) — an exporter there would not start
PROXMOX_PORTS = {22: "sshd", 85: "pvedaemon", 111: "rpcbind", 3128: "spiceproxy", 8006: "pveproxy",
                 **{p: "corosync" for p in range(5405, 5413)}}  # fmt: skip
CLUSTER_NODE_JOB = (
    "node-exporter"  # the DaemonSet's job label (values.yaml prometheus-node-exporter.podLabels)
)
_REWRITE = "nginx.ingress.kubernetes.io/rewrite-target"
_GRAFANA_PASSWORD_KEYS = {"adminpassword", "admin_password", "gf_security_admin_password"}


def _bytes(text: str) -> int | None:
    """``40GB`` (Prometheus ByteSize) or ``50Gi`` (Kubernetes quantity) -> bytes; None if not parseable."""
    match = re.match(r"^([0-9]*\.?[0-9]+)((K|M|G|T|E|P|k)?(i)?)B?$", text.strip())
    if not match:
        return None
    unit = match.group(2)
    unit = unit if unit in _UNITS else unit.upper() if unit.upper() in _UNITS else None
    return None if unit is None else int(float(match.group(1)) * _UNITS[unit])


def _grafana_literal_passwords(values: Any, path: str = "") -> Iterator[Problem]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            sub = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _GRAFANA_PASSWORD_KEYS and value not in (None, ""):
                yield _error("literal-secret", f"values: `{sub}` carries a literal Grafana admin password",
                             "remove it: the password comes from grafana_admin_password_ref through the Secret "
                             "named by grafana.admin.existingSecret")  # fmt: skip
            else:
                yield from _grafana_literal_passwords(value, sub)


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _grafana_problems(p: MonitoringParams, values: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    prefix = p.grafana_prefix
    server = (values.get("grafana") or {}).get("grafana.ini", {}).get("server", {}) or {}
    root_url = str(server.get("root_url") or "")
    sub_path = server.get("serve_from_sub_path")
    # the browser's address through the tunnel (grafana/grafana #15497, #10007; MonitoringParams.root_url)
    fix_url = f"grafana_root_url={p.external_url_base.rstrip('/')}{prefix}/ (or leave grafana_root_url empty)"
    if prefix == "/":
        problems.append(_error("grafana-path", "grafana_path must be a path below / (e.g. /grafana)"))
    if not root_url:
        problems.append(_error("grafana-root-url", "grafana.ini server.root_url is empty: Grafana would build "
                               "links and redirects for /", fix_url))  # fmt: skip
    elif grafana_ini_path(root_url).rstrip("/") != prefix.rstrip("/"):
        problems.append(
            _error("grafana-root-url", f"Grafana root_url {root_url!r} has the path "
                   f"{grafana_ini_path(root_url) or '/'!r} but the ingress serves Grafana under {prefix}: "
                   "redirects (login) and asset links would leave the prefix", fix_url)
        )  # fmt: skip
    elif grafana_ini_origin(root_url) != _origin(p.external_url_base):
        problems.append(
            _error("grafana-root-url-origin", f"Grafana root_url {root_url!r} is at "
                   f"{grafana_ini_origin(root_url)} but the browser reaches Grafana at {_origin(p.external_url_base)} "
                   "(external_url_base): absolute URLs Grafana builds (some redirects, alert and share links) "
                   "would leave the tunnel (grafana/grafana #15497, #10007)", fix_url)
        )  # fmt: skip
    if not isinstance(sub_path, bool):
        problems.append(
            _error("grafana-sub-path", "grafana.ini server.serve_from_sub_path must be true or false")
        )
    ingress = _get(values, "grafana.ingress") or {}
    annotations = ingress.get("annotations") or {}
    rewrite = annotations.get(_REWRITE)
    if sub_path is False and not rewrite:
        problems.append(
            _error("grafana-sub-path", f"serve_from_sub_path is false but the Grafana ingress does not strip {prefix}: "
                   f"Grafana would receive {prefix}/login and answer 404",
                   "set serve_from_sub_path=true (recommended), or add a rewrite-target annotation that strips the prefix")
        )  # fmt: skip
    if sub_path is True and rewrite:
        problems.append(
            _error("grafana-double-prefix", f"serve_from_sub_path is true and the ingress rewrites ({_REWRITE}: "
                   f"{rewrite}): Grafana expects {prefix} in the path it receives, the rewrite removes it "
                   "(redirect loop)", f"remove the {_REWRITE} annotation from grafana.ingress.annotations")
        )  # fmt: skip
    if ingress.get("enabled") is not True:
        problems.append(_error("grafana-ingress", "grafana.ingress.enabled must be true (Grafana is reached "
                               f"through ingress-nginx under {prefix})"))  # fmt: skip
    elif str(ingress.get("path") or "").rstrip("/") != prefix.rstrip("/"):
        problems.append(_error("grafana-ingress-path", f"grafana.ingress.path is {ingress.get('path')!r}, "
                               f"expected {prefix}", f"drop grafana.ingress.path from extra_values or set "
                               f"grafana_path={ingress.get('path')}"))  # fmt: skip
    admin = _get(values, "grafana.admin") or {}
    if admin.get("existingSecret") != p.grafana_admin_secret:
        problems.append(_error("grafana-admin-secret", "grafana.admin.existingSecret must name the Secret this "
                               f"runbook creates ({p.grafana_admin_secret}); otherwise the chart generates its "
                               "own admin password or uses the chart default prom-operator"))  # fmt: skip
    if sub_path is True:
        metrics = str(_get(values, "grafana.serviceMonitor.path") or "/metrics")
        if metrics.rstrip("/") != f"{prefix}/metrics":
            problems.append(_warning("grafana-metrics-path", f"grafana.serviceMonitor.path is {metrics!r} but Grafana "
                                     f"serves under {prefix}: its target would be down",
                                     f"set grafana.serviceMonitor.path to {prefix}/metrics "
                                     "(prometheus-community/helm-charts PR #364)"))  # fmt: skip
    problems += _grafana_literal_passwords(values)
    return problems


def _prometheus_problems(p: MonitoringParams, values: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    spec = _get(values, "prometheus.prometheusSpec") or {}
    route = str(spec.get("routePrefix") or "/")
    external = str(spec.get("externalUrl") or "")
    prefix = p.prometheus_prefix
    if prefix == "/":
        problems.append(
            _error("prometheus-path", "prometheus_path must be a path below / (e.g. /prometheus)")
        )
    if route.rstrip("/") != prefix.rstrip("/"):
        problems.append(_error("prometheus-route-prefix", f"prometheusSpec.routePrefix is {route!r} but Prometheus "
                               f"is exposed under {prefix}", f"set prometheus_path={route} or drop routePrefix "
                               "from extra_values"))  # fmt: skip
    parsed = urlparse(external)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        problems.append(_error("prometheus-external-url", f"prometheusSpec.externalUrl {external!r} is not an "
                               "absolute http(s) URL", "set external_url_base to the browser's origin, e.g. "
                               "http://localhost:8080"))  # fmt: skip
    elif parsed.path.rstrip("/") != route.rstrip("/"):
        problems.append(_error("prometheus-external-url", f"prometheusSpec.externalUrl path {parsed.path!r} differs "
                               f"from routePrefix {route!r}: the UI's links and redirects would point elsewhere",
                               "leave externalUrl to the runbook (external_url_base + prometheus_path)"))  # fmt: skip
    base = urlparse(p.external_url_base)
    if base.path not in ("", "/"):
        problems.append(_error("external-url-base", f"external_url_base {p.external_url_base!r} must be an origin "
                               "only (scheme://host:port), without a path"))  # fmt: skip
    ingress = _get(values, "prometheus.ingress") or {}
    paths = [str(x).rstrip("/") or "/" for x in (ingress.get("paths") or [route])]
    if ingress.get("enabled") is not True:
        problems.append(_error("prometheus-ingress", "prometheus.ingress.enabled must be true"))
    elif route.rstrip("/") not in paths:
        problems.append(_error("prometheus-ingress-path", f"prometheus.ingress.paths {paths} do not include the "
                               f"routePrefix {route}: the ingress would not route Prometheus's own paths",
                               "one path must match prometheusSpec.routePrefix (chart values.yaml)"))  # fmt: skip
    retention = str(spec.get("retention") or "")
    if not retention or not _DURATION.match(retention):
        problems.append(_error("retention", f"retention {retention!r} is not a Prometheus duration",
                               "use e.g. 15d, 12h, 2w (units y w d h m s ms)"))  # fmt: skip
    size = str(spec.get("retentionSize") or "")
    if size and not _BYTE_SIZE.match(size):
        problems.append(_error("retention-size", f"retentionSize {size!r} is not a Prometheus byte size",
                               "use e.g. 40GB or 40GiB (the unit ends in B)"))  # fmt: skip
    problems += _storage_problems(p, spec, size)
    return problems


def _storage_problems(p: MonitoringParams, spec: Mapping[str, Any], retention_size: str) -> list[Problem]:
    problems: list[Problem] = []
    if p.storage_class and not p.storage_size:
        problems.append(_error("storage", f"storage_class {p.storage_class!r} is set but storage_size is empty",
                               "give storage_size, e.g. 50Gi"))  # fmt: skip
    if p.storage_size and not _QUANTITY.match(p.storage_size):
        problems.append(_error("storage", f"storage_size {p.storage_size!r} is not a Kubernetes quantity",
                               "use e.g. 50Gi"))  # fmt: skip
    if not spec.get("storageSpec"):
        problems.append(_warning("storage-emptydir", "no storage_size: Prometheus keeps its TSDB in an emptyDir, "
                                 f"every restart loses up to {p.retention} of metrics",
                                 "set storage_size (and storage_class) for a PersistentVolumeClaim"))  # fmt: skip
    volume, keep = _bytes(p.storage_size or ""), _bytes(retention_size) if retention_size else None
    if volume and keep and keep > volume * 0.9:
        problems.append(_warning("retention-size", f"retentionSize {retention_size} leaves no headroom on a "
                                 f"{p.storage_size} volume (WAL and compaction need space beyond it)",
                                 "keep retentionSize at about 80-85% of storage_size"))  # fmt: skip
    return problems


def _scrape_problems(
    p: MonitoringParams, values: Mapping[str, Any], inventory: Inventory | None
) -> list[Problem]:
    problems: list[Problem] = []
    configs = _get(values, "prometheus.prometheusSpec.additionalScrapeConfigs") or []
    if isinstance(configs, list):
        names = [str(c.get("job_name")) for c in configs if isinstance(c, Mapping)]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(_error("scrape-job-duplicate", f"additionalScrapeConfigs repeat job_name {', '.join(twice)}: "
                                   "Prometheus rejects the whole configuration (the reload fails)"))  # fmt: skip
    if p.hosts_job == CLUSTER_NODE_JOB:
        problems.append(_error("hosts-job", f"hosts_job {p.hosts_job!r} is the job of the cluster's node-exporter "
                               "DaemonSet: the hosts would mix with the cluster nodes in dashboards and alerts",
                               "keep hosts_job=hosts"))  # fmt: skip
    if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_-]*$", p.hosts_job):
        problems.append(_error("hosts-job", f"hosts_job {p.hosts_job!r} is not a usable job name"))
    if p.hosts_scrape_interval and not _DURATION.match(p.hosts_scrape_interval):
        problems.append(_error("hosts-scrape-interval", f"hosts_scrape_interval {p.hosts_scrape_interval!r} is "
                               "not a Prometheus duration"))  # fmt: skip
    if inventory is None:
        problems.append(_warning("no-inventory", "no host inventory: node-exporter is not installed on the "
                                 "Proxmox hosts and the desktop, and they are not scraped",
                                 "set `inventory:` in the profile or -p inventory PATH"))  # fmt: skip
        return problems
    problems += host_port_problems(inventory)
    return problems


def host_port_problems(inventory: Inventory) -> list[Problem]:
    """Exporter ports that collide with the host's SSH port, a Proxmox service or another exporter on it."""
    problems: list[Problem] = []
    by_address: dict[str, list[str]] = {}
    for host in inventory.hosts:
        address = host.exporter_address or host.address
        if not host.lab:  # the lab's hosts are one machine on purpose (one exporter port each)
            by_address.setdefault(address, []).append(host.name)
        if host.exporter_port == host.ssh_port:
            problems.append(_error("exporter-port", f"host {host.name}: exporter_port {host.exporter_port} is its SSH port",
                                   "choose another exporter_port (9100 is node-exporter's registered port)"))  # fmt: skip
        elif host.role.lower() == "proxmox" and host.exporter_port in PROXMOX_PORTS:
            service = PROXMOX_PORTS[host.exporter_port]
            problems.append(_error("exporter-port", f"host {host.name}: exporter_port {host.exporter_port} is taken by "
                                   f"{service} on a Proxmox VE host", "use 9100"))  # fmt: skip
    for address, names in by_address.items():
        if len(names) > 1:
            problems.append(_warning("host-twice", f"hosts {', '.join(names)} share the address {address}: one "
                                     "machine scraped twice duplicates its series",
                                     "keep one inventory entry per machine"))  # fmt: skip
    return problems


def check_monitoring(
    params: MonitoringParams, spec: InstallSpec, inventory: Inventory | None = None
) -> list[Problem]:
    """kube-prometheus-stack values + the inventory: keys, paths under ingress-nginx, credentials, retention,
    storage, scrape jobs and exporter ports. ``inventory`` defaults to the file named by ``params.inventory``."""
    assert spec.release is not None
    values = spec.release.values
    problems: list[Problem] = list(
        unknown_keys(values, charts.KNOWN_KEYS["kube-prometheus-stack"], "kube-prometheus-stack")
    )
    problems += literal_secrets(values)
    problems += refs(params, ["grafana_admin_password_ref"], required=["grafana_admin_password_ref"])
    try:
        charts.parse_version(params.chart_version)
    except UsageProblem as exc:
        problems.append(_error("chart-version", str(exc)))
    problems += _grafana_problems(params, values)
    problems += _prometheus_problems(params, values)
    if params.grafana_prefix.rstrip("/") == params.prometheus_prefix.rstrip("/"):
        problems.append(
            _error("paths-collide", f"Grafana and Prometheus share the path {params.grafana_prefix}")
        )
    if not params.ingress_class:
        problems.append(
            _warning("ingress-class", "ingress_class is empty: the cluster's default class is used")
        )
    if _get(values, "nodeExporter.enabled") is False:
        problems.append(_warning("cluster-node-exporter", "nodeExporter.enabled is false: the cluster's own nodes "
                                 "are not monitored"))  # fmt: skip
    if inventory is None:
        inventory = load_monitoring_inventory(params)
    problems += _scrape_problems(params, values, inventory)
    return problems
