"""The Airflow knowledge against upstream data: the official chart's ``values.schema.json``.

The schema is reference data outside the project (``<repo>/../shared/reference/charts/``, apache/airflow
``chart/values.schema.json`` at commit 002e5532); it is read here only — the product never needs it.
The hand-typed key tree stays in the product (``install/airflow/chart.py``) because the runbook's own
check needs it at run time, where ``helm template`` may be missing and the schema's root is open.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from platform_kb.install import airflow
from platform_kb.install.chart import OPEN

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = Path("shared/reference/charts/airflow-values.schema.json")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """``../shared/reference/charts`` from the project root (a worktree: from the nearest ancestor that has it)."""
    for base in REPO.parents:
        if (base / SCHEMA_FILE).is_file():
            return json.loads((base / SCHEMA_FILE).read_text(encoding="utf-8"))
    pytest.fail(f"the upstream Airflow chart schema is missing: no {SCHEMA_FILE} above {REPO}")


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


def _known_paths(tree: dict, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, child in tree.items():
        if key == OPEN:
            continue
        path = (*prefix, key)
        yield path
        if isinstance(child, dict):
            yield from _known_paths(child, path)


def _accepts(schema: dict[str, Any], path: tuple[str, ...]) -> str | None:
    """Why the schema rejects the key ``path`` (None: it accepts it)."""
    node = _resolve(schema, schema)
    for depth, key in enumerate(path):
        where = ".".join(path[: depth + 1])
        if key in node.get("properties", {}):
            node = _resolve(node["properties"][key], schema)
        elif node.get("additionalProperties", True) is False:
            return f"{where}: not a key of the schema (additionalProperties false)"
        elif node.get("properties"):
            return f"{where}: not among the schema's keys here"
        else:  # a free-form mapping (config sections, labels, ...): any key is accepted
            return None
    return None


# The one divergence the upstream schema shows: at commit 002e5532 `ingress` declares `web` but not
# `apiServer` (the subtree the runbook renders for Airflow 3's API server UI). The chart's template does
# read it: apache/airflow chart/templates/api-server/api-server-ingress.yaml renders the Ingress when
# `.Values.ingress.apiServer.enabled` (Airflow >= 3.0.0) from `.Values.ingress.apiServer.{hosts,path,
# pathType,ingressClassName,annotations,tls}`. So the schema lags the template there (`ingress` is not
# closed, so the values validate); the key is right. Any other unknown key fails this test.
KNOWN_DIVERGENCE = {("ingress", "apiServer")}


def test_every_known_airflow_key_is_in_the_official_schema(schema: dict[str, Any]) -> None:
    paths = list(_known_paths(airflow.chart.KNOWN_KEYS))
    assert len(paths) > 100
    rejected = {path[:2] for path in paths if _accepts(schema, path)}
    assert rejected == KNOWN_DIVERGENCE


def test_a_misspelt_key_is_rejected_by_the_walk(schema: dict[str, Any]) -> None:
    assert _accepts(schema, ("dags", "gitSync", "subpath")) is not None
    assert _accepts(schema, ("config", "logging", "anything")) is None  # config.* is free-form upstream


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"git_ssh_key_ref": "env:GIT_KEY", "git_repo": "git@git.example.internal:homelab/dpc.git",
         "git_known_hosts": "git.example.internal ssh-ed25519 AAAA"},
        {"git_username_ref": "env:GIT_USER", "git_password_ref": "env:GIT_TOKEN", "ui_path": "/airflow"},
    ],
)  # fmt: skip
def test_rendered_airflow_values_validate_against_the_official_schema(
    schema: dict[str, Any], overrides: dict[str, str]
) -> None:
    params = airflow.Params(**{"git_repo": "https://git.example.internal/homelab/dpc.git", **overrides})
    values = airflow.render(params).release.values
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in
              jsonschema.Draft7Validator(schema).iter_errors(values)]  # fmt: skip
    assert errors == []


def test_the_schema_rejects_what_the_project_check_rejects(schema: dict[str, Any]) -> None:
    values = airflow.render(airflow.Params(git_repo="https://x/y.git")).release.values
    values["dags"]["gitSync"]["subpath"] = "dags"  # the typo the project's check names
    assert list(jsonschema.Draft7Validator(schema).iter_errors(values))
