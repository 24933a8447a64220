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
* Spark Operator: chart < 2.3.0 (proxyBase not passed to the driver, kubeflow/spark-operator
  #2597 / PR #2599), a ``urlFormat`` without a path, a path that would make ``proxyBase=/``
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
from . import charts
from .charts import OPEN
from .secrets import parse_ref
from .values import AirflowParams, HistoryServerParams, InstallSpec, SparkOperatorParams


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
            close = difflib.get_close_matches(str(key), [str(k) for k in tree], n=1, cutoff=0.6)
            if not close:  # case-only differences (subpath vs subPath) score low in difflib
                close = [k for k in tree if str(k).lower() == str(key).lower()][:1]
            hint = (
                f"did you mean `{prefix}{close[0]}`?"
                if close
                else f"known keys here: {', '.join(sorted(map(str, tree)))}"
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
            _error("operator-too-old", f"spark-operator chart {params.chart_version} is older than 2.3.0: its operator "
                   "sets spark.ui.proxyBase after spark-submit, so the driver never sees it and the UI behind the "
                   "ingress loses its CSS/JS (kubeflow/spark-operator #2597, fixed by PR #2599 in 2.3.0)",
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
