"""What an install runbook wants to exist: the records every component's rendering returns.

A component's ``render`` turns its typed ``Params`` into an :class:`InstallSpec` — the chart
:class:`Release` with its values, plus the objects the runbook itself creates (namespaces, Secrets
built from ``env:``/``file:`` references as :class:`DesiredSecret`, plain manifests). Nothing here
talks to a cluster; the component's checks look at the result and ``plan.py`` compares it with
what is running.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import UsageProblem
from ..secrets import MIN_SECRET_LENGTH
from .chart import ChartRef
from .secrets import Resolver, try_resolve

MANAGED_BY = {"app.kubernetes.io/managed-by": "platform-kb"}


@dataclass(frozen=True)
class DesiredSecret:
    """A Secret built at plan time from credential references (never from literals)."""

    name: str
    namespace: str
    refs: Mapping[str, str]  # parameter name -> "env:X" / "file:/p"
    compose: Callable[[dict[str, str]], dict[str, str]] = field(repr=False, compare=False)
    purpose: str = ""

    def placeholder_manifest(self) -> dict[str, Any]:
        return self._manifest(dict.fromkeys(self.compose(dict.fromkeys(self.refs, "***")), "***"))

    def _manifest(self, string_data: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": dict(MANAGED_BY)},
            "type": "Opaque",
            "stringData": string_data,
        }

    def materialize(self, resolver: Resolver) -> tuple[dict[str, Any], tuple[str, ...]] | None:
        """(manifest, secret values) with every reference resolved; None if one cannot be resolved here.

        A value too short to be masked in what the run shows is refused (a UsageProblem naming the
        parameter), as ``kb run`` refuses such a secret parameter."""
        values: dict[str, str] = {}
        for param, ref in self.refs.items():
            value = try_resolve(ref, resolver, param)
            if value is None:
                return None
            if len(value) < MIN_SECRET_LENGTH:
                raise UsageProblem(
                    f"{param}: the credential {ref} points to is shorter than {MIN_SECRET_LENGTH} characters "
                    "and cannot be masked in what the run shows; nothing was run (use a longer one)"
                )
            values[param] = value
        data = self.compose(values)
        resolved = tuple(v for v in values.values() if v)
        # a composed value that carries a resolved secret (a connection string) is masked whole;
        # a plain value next to them (a user name) is not, or every occurrence of it would be masked
        composed = tuple(
            d for d in data.values() if d and d not in resolved and any(v in d for v in resolved)
        )
        secrets = resolved + composed
        return self._manifest(data), secrets


@dataclass(frozen=True)
class Release:
    """One Helm release: chart, name, namespace and the values the runbook rendered."""

    name: str
    namespace: str
    chart: ChartRef
    values: dict[str, Any]
    values_file: str

    @property
    def values_yaml(self) -> str:
        return to_yaml(self.values)


@dataclass(frozen=True)
class InstallSpec:
    """Everything one runbook wants to exist, in apply order: objects first, then the release."""

    component: str
    objects: tuple[dict[str, Any] | DesiredSecret, ...]
    release: Release | None = None
    notes: tuple[str, ...] = ()

    def manifests_shown(self) -> list[dict[str, Any]]:
        """The objects as they may be shown (Secrets with ``***`` values)."""
        return [o.placeholder_manifest() if isinstance(o, DesiredSecret) else o for o in self.objects]


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` merged over ``base`` (mappings recursively, everything else replaced)."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_extra_values(
    text: str | Mapping[str, Any] | None, parameter: str = "extra_values"
) -> dict[str, Any]:
    """A YAML/JSON mapping given as a parameter (``""`` -> ``{}``)."""
    if not text:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    try:
        data = yaml.safe_load(str(text))
    except yaml.YAMLError as exc:
        raise UsageProblem(f"{parameter}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageProblem(f"{parameter}: expected a mapping of Helm values, got {type(data).__name__}")
    return data


def ns_manifest(name: str) -> dict[str, Any]:
    # no labels: a namespace such as `spark` may be shared, and an existing one must count as "matches"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
