"""Spark Operator's own checks: the chart version and the ``urlFormat`` the UI Ingress paths come from.

Chart < 2.3.0 (2.2.1 never passes proxyBase to the driver, kubeflow/spark-operator #2597 / PR #2599;
up to 2.2.0 it overwrites the app's own proxyBase/proxyRedirectUri, #1772), a ``urlFormat`` without a
path, a path that would make ``proxyBase=/`` (protocol-relative ``//jobs/`` links, upstream-facts §1),
unknown template variables.
"""

from __future__ import annotations

import difflib
import re

from ...errors import UsageProblem
from ...results import Check
from ..chart import parse_version
from ..checking import error, get, literal_secrets, unknown_keys, warning
from ..spec import InstallSpec
from ..verify import url_format_path
from .chart import CHART, KNOWN_KEYS, MIN_VERSION
from .params import Params

URL_VARIABLES = ("{{$appName}}", "{{$appNamespace}}", "{{$appId}}")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def check_url_format(url_format: str, chart_version: str) -> list[Check]:
    problems: list[Check] = []
    if not url_format:
        return [error("urlformat-empty", "controller.uiIngress.urlFormat is empty but uiIngress is enabled")]
    for var in _TEMPLATE.findall(url_format):
        if var not in URL_VARIABLES:
            close = difflib.get_close_matches(var, URL_VARIABLES, n=1, cutoff=0.5)
            problems.append(
                error("urlformat-variable", f"urlFormat variable {var} is not one the operator knows",
                       f"did you mean {close[0]}?" if close else f"known: {', '.join(URL_VARIABLES)}")
            )  # fmt: skip
    if "{{$appId}}" in url_format and parse_version(chart_version) < (2, 3, 0):
        problems.append(error("urlformat-appid", "{{$appId}} in urlFormat needs spark-operator >= 2.3.0"))
    path = url_format_path(url_format)
    if path == "":
        problems.append(
            error("urlformat-no-path", f"urlFormat {url_format!r} has no path: every UI would sit at the host root "
                   "and the operator would not set a usable proxyBase",
                   "use a path such as /spark-ui/{{$appNamespace}}/{{$appName}}")
        )  # fmt: skip
    elif path == "/":
        problems.append(
            error("proxybase-root", f"urlFormat {url_format!r} has the path `/`: the operator would set "
                   "spark.ui.proxyBase=/ and proxyRedirectUri=/, giving `Location: //jobs/` and "
                   "protocol-relative CSS/JS links (the #3-10 symptom)",
                   "use a path such as /spark-ui/{{$appNamespace}}/{{$appName}}")
        )  # fmt: skip
    elif "{{$appName}}" not in path and "{{$appId}}" not in path:
        problems.append(
            error("urlformat-not-unique", f"urlFormat path {path!r} names no application: every app would get the same path",
                   "include {{$appName}}")
        )  # fmt: skip
    return problems


def check(params: Params, spec: InstallSpec) -> list[Check]:
    assert spec.release is not None
    values = spec.release.values
    problems: list[Check] = list(unknown_keys(values, KNOWN_KEYS, "spark-operator"))
    problems += literal_secrets(values)
    try:
        version = parse_version(params.chart_version)
    except UsageProblem as exc:
        return [*problems, error("chart-version", str(exc))]
    if version < MIN_VERSION:
        problems.append(
            error("operator-too-old", f"spark-operator chart {params.chart_version} is older than 2.3.0: operator 2.2.1 "
                   "sets spark.ui.proxyBase after spark-submit, so the driver never sees it and the UI behind the "
                   "ingress loses its CSS/JS (kubeflow/spark-operator #2597, fixed by PR #2599 in 2.3.0); up to "
                   "2.2.0 it overwrites a proxyBase/proxyRedirectUri the app sets itself (#1772)",
                   f"use chart_version {CHART.version}")
        )  # fmt: skip
    ingress_on = get(values, "controller.uiIngress.enable")
    if ingress_on is not True:
        problems.append(
            error("ui-ingress-off", "controller.uiIngress.enable must be true (#3-10 exposes driver UIs)")
        )
    if get(values, "controller.uiService.enable") is False:
        problems.append(error("ui-service-off", "controller.uiService.enable must stay true for uiIngress"))
    url_format = str(get(values, "controller.uiIngress.urlFormat") or "")
    if ingress_on:
        problems += check_url_format(url_format, params.chart_version)
    if not get(values, "controller.uiIngress.ingressClassName"):
        problems.append(
            warning(
                "ingress-class",
                "controller.uiIngress.ingressClassName is empty: the cluster default class is used",
            )
        )
    if not params.namespaces:
        problems.append(error("job-namespaces", "job_namespaces is empty"))
    return problems
