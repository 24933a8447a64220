"""The project's own checks of what a runbook rendered — the shared pieces every component's checks use.

Between a component's ``render`` and ``plan.py``: every check returns failed
:class:`~platform_kb.results.Check` records (``title`` is the message; :func:`error`/:func:`warning`);
:func:`ensure_ok` raises one :class:`~platform_kb.errors.UsageProblem` listing every error, so a
broken value stops the run before a single command is executed. Warnings are reported as
findings and do not stop the run.

Shared here (beyond ``helm template``, which applies a chart's ``values.schema.json`` when helm is
available — the Airflow chart has one, the Spark Operator and kube-prometheus-stack charts have none):
unknown or misspelt keys against a component's known-key tree, with the closest key; required values;
credentials given as literals instead of ``env:``/``file:`` references. Each component's
``check.py`` adds what is particular to it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

from ..errors import UsageProblem
from ..results import ERROR, WARNING, Check
from .chart import OPEN
from .secrets import parse_ref


def error(id: str, message: str, fix: str = "") -> Check:
    """A check that failed and stops the run (``message`` is its title)."""
    return Check.failed(id, message, severity=ERROR, fix=fix)


def warning(id: str, message: str, fix: str = "") -> Check:
    """A check that failed and is reported as a finding; the run goes on."""
    return Check.failed(id, message, severity=WARNING, fix=fix)


def ensure_ok(problems: Iterable[Check], what: str) -> list[Check]:
    """Raise a UsageProblem naming every error; return the warnings."""
    problems = list(problems)
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        lines = "\n".join(f"  - [{p.id}] {p.text()}" for p in errors)
        raise UsageProblem(f"{what}: {len(errors)} problem(s) found before any change was made:\n{lines}")
    return [p for p in problems if p.severity != ERROR]


# --- keys ----------------------------------------------------------------------------------------
def unknown_keys(values: Mapping[str, Any], tree: dict, chart: str, prefix: str = "") -> Iterator[Check]:
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
                    yield error("unknown-key", f"{chart} values: unknown key `{path}`",
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
            yield error("unknown-key", f"{chart} values: unknown key `{path}`", hint)
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


def literal_secrets(values: Any, path: str = "") -> Iterator[Check]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            sub = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _SECRET_VALUE_KEYS and isinstance(value, str) and value:
                yield error(
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


def refs(params: Any, names: Iterable[str], required: Iterable[str] = ()) -> Iterator[Check]:
    """Every credential parameter must be an ``env:``/``file:`` reference (or empty when optional)."""
    required = set(required)
    for name in names:
        value = getattr(params, name)
        if not value and name not in required:
            continue
        try:
            parse_ref(value, name)
        except UsageProblem as exc:
            yield error("secret-literal" if value else "secret-missing", str(exc))


def get(values: Mapping[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def required(values: Mapping[str, Any], chart: str, paths: Iterable[str]) -> Iterator[Check]:
    for path in paths:
        value = get(values, path)
        if value in (None, "", [], {}):
            yield error("required", f"{chart} values: `{path}` is required")


def s3_endpoint_problems(endpoint: str) -> list[Check]:
    if endpoint.startswith(("http://", "https://")) and urlparse(endpoint).hostname:
        return []
    return [error("s3-endpoint", f"s3_endpoint {endpoint!r} must be a URL like http://minio.minio.svc:9000")]
