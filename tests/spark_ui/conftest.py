"""Shared fixtures for the spark-ui-ingress tests: captured API objects and HTTP responses as data.

``tests/spark_ui/data/scenarios/<name>.yaml`` holds, per scenario, the kube objects spark-operator
v2.3 creates (plus ``noise.yaml``), the HTTP responses seen through the tunnel, and the expected
finding ids. :class:`FakeReader` answers LIST calls from those objects (label and field selectors as
the API server applies them); :func:`mock_transport` answers HTTP from the captured responses and
records every request, so no test here sends traffic anywhere.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from platform_kb.checks.spark_ui import Observations, collect_and_diagnose
from platform_kb.checks.spark_ui.model import ApiCall
from platform_kb.probes import Prober
from platform_kb.results import Check

DATA = Path(__file__).parent / "data"
PLURALS = {
    "SparkApplication": "sparkapplications",
    "Service": "services",
    "Ingress": "ingresses",
    "EndpointSlice": "endpointslices",
    "Endpoints": "endpoints",
    "Pod": "pods",
}
NGINX_404 = (DATA / "http" / "nginx-404.html").read_text(encoding="utf-8")


def load_scenario(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((DATA / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8"))
    noise = yaml.safe_load((DATA / "scenarios" / "noise.yaml").read_text(encoding="utf-8"))
    doc["objects"] = list(doc["objects"]) + list(noise["objects"])
    return doc


def _labels_match(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def _fields_match(obj: dict[str, Any], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        assert key in ("metadata.name", "metadata.namespace"), key
        if (obj.get("metadata") or {}).get(key.split(".", 1)[1]) != value:
            return False
    return True


@dataclass
class FakeReader:
    """Duck-typed :class:`platform_kb.checks.spark_ui.facts.KubeReader` over fixture objects."""

    objects: list[dict[str, Any]]
    calls: list[ApiCall] = field(default_factory=list)

    def list(
        self, kind: str, namespace: str, label_selector: str = "", field_selector: str = ""
    ) -> list[dict[str, Any]]:
        items = [
            o
            for o in self.objects
            if PLURALS.get(o["kind"]) == kind
            and (o.get("metadata") or {}).get("namespace") == namespace
            and _labels_match((o.get("metadata") or {}).get("labels") or {}, label_selector)
            and _fields_match(o, field_selector)
        ]
        self.calls.append(
            ApiCall(kind, ",".join(s for s in (label_selector, field_selector) if s), 0.0, len(items))
        )
        return json.loads(json.dumps(items))


@dataclass
class Recorder:
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def hosts(self) -> set[str]:
        return {r.url.host for r in self.requests}


def mock_transport(responses: dict[str, dict[str, Any]], recorder: Recorder) -> httpx.MockTransport:
    """Answer from ``responses`` (path or fnmatch pattern -> status/reason/headers/body_file, or a
    ``sequence`` of those); anything else gets ingress-nginx's 404."""

    served: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        recorder.requests.append(request)
        assert request.url.host in ("127.0.0.1", "localhost"), f"left loopback: {request.url}"
        path = urlsplit(str(request.url)).path
        spec = responses.get(path) or next(
            (v for k, v in responses.items() if fnmatch.fnmatchcase(path, k)), None
        )
        if spec is None:
            return httpx.Response(
                404,
                text=NGINX_404,
                headers={"Content-Type": "text/html"},
                extensions={"reason_phrase": b"Not Found"},
            )
        if "sequence" in spec:  # a different answer per request, the last one repeating
            count = served[path] = served.get(path, -1) + 1
            spec = spec["sequence"][min(count, len(spec["sequence"]) - 1)]
        body = (DATA / "http" / spec["body_file"]).read_bytes() if spec.get("body_file") else b""
        return httpx.Response(
            spec["status"],
            headers=spec.get("headers") or {},
            content=body,
            extensions={"reason_phrase": str(spec.get("reason", "")).encode()},
        )

    return httpx.MockTransport(handler)


@dataclass
class Run:
    obs: Observations
    findings: list[Check]
    reader: FakeReader
    recorder: Recorder

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.findings]

    def finding(self, finding_id: str) -> Check:
        return next(f for f in self.findings if f.id == finding_id)


def run_scenario(
    name: str,
    url: str = "",
    app_name: str | None = None,
    history_server_url: str = "",
    mutate: Callable[[dict[str, Any]], None] | None = None,
    reader: Any = None,
) -> Run:
    """Collect (fake API, mocked HTTP) and diagnose one captured scenario, as the runbook does.

    ``mutate`` may change the loaded scenario document (objects, http) first; ``reader`` replaces
    the fake API (e.g. a real :class:`KubeReader` on the lab API holding the same objects).
    """
    doc = load_scenario(name)
    if mutate is not None:
        mutate(doc)
    reader = reader if reader is not None else FakeReader(doc["objects"])
    recorder = Recorder()
    obs = Observations(
        namespace="spark", app_name=app_name or doc["app_name"], url=url, base_url="http://127.0.0.1:8080"
    )
    with Prober(transport=mock_transport(doc.get("http") or {}, recorder)) as prober:
        findings = collect_and_diagnose(reader, prober, obs, history_server_url)
    return Run(obs, findings, reader, recorder)


@pytest.fixture
def scenario() -> Callable[..., Run]:
    return run_scenario


@pytest.fixture
def scenario_doc() -> Callable[[str], dict[str, Any]]:
    return load_scenario
