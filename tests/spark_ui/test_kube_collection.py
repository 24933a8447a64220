"""Collection through the official client against the lab API stand-in: same findings, fixed call count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_kb.checks.spark_ui import KubeReader, api_client_through
from platform_kb_lab.kubeapi import KubeApiServer, ObjectStore, kubeconfig
from platform_kb_lab.scenarios import SCENARIOS as LAB_SCENARIOS

PLURALS = {
    "SparkApplication": "sparkapplications",
    "Service": "services",
    "Ingress": "ingresses",
    "EndpointSlice": "endpointslices",
    "Pod": "pods",
}
# the lab scenarios the captured data was taken from (those that differ only in monitoring have the
# Spark side of another scenario: exporter-down is healthy for Spark)
SCENARIOS = tuple(name for name, s in LAB_SCENARIOS.items() if not s.exporters_down)


def _fill(store: ObjectStore, objects: list[dict[str, Any]], extra_apps: int = 0) -> None:
    for ns in ("spark", "airflow"):
        store.create("namespaces", None, {"metadata": {"name": ns}})
    for obj in objects:
        store.create(PLURALS[obj["kind"]], obj["metadata"]["namespace"], obj)
    for i in range(extra_apps):
        store.create(
            "sparkapplications",
            "spark",
            {
                "apiVersion": "sparkoperator.k8s.io/v1beta2",
                "kind": "SparkApplication",
                "metadata": {"name": f"etl-{i:05d}-{i * 7919 % 100000000:08d}", "namespace": "spark"},
                "spec": {
                    "type": "Python",
                    "mode": "cluster",
                    "sparkConf": {"spark.eventLog.enabled": "true"},
                },
                "status": {"applicationState": {"state": "COMPLETED"}},
            },
        )


@pytest.fixture
def lab_api(tmp_path: Path) -> Iterator[tuple[KubeApiServer, Path]]:
    store = ObjectStore()
    server = KubeApiServer(store, host="127.0.0.1", port=0).start()
    path = tmp_path / "kubeconfig"
    # the kubeconfig names the API as the bastion sees it; the client is pointed at the local end
    path.write_text(yaml.safe_dump(kubeconfig("http://10.0.0.10:6443", namespace="spark")), encoding="utf-8")
    try:
        yield server, path
    finally:
        server.stop()


def _reader(server: KubeApiServer, config: Path) -> KubeReader:
    return KubeReader(api_client_through(str(config), (server.host, server.port)))


@pytest.mark.parametrize("name", SCENARIOS)
def test_real_client_against_the_lab_api_gives_the_same_findings(lab_api, scenario, scenario_doc, name):
    server, config = lab_api
    doc = scenario_doc(name)
    _fill(server.store, doc["objects"])
    run = scenario(name, reader=_reader(server, config))
    assert run.ids == doc["expect"]
    assert run.obs.ingress is not None and run.obs.service is not None
    assert len(run.reader.calls) == 5


def test_call_count_does_not_grow_with_the_number_of_applications(lab_api, scenario, scenario_doc):
    server, config = lab_api
    doc = scenario_doc("suffix-mismatch")
    _fill(server.store, doc["objects"], extra_apps=1000)
    served: list[str] = []
    handle = server.api.handle

    def counting(method: str, target: str, headers: Any, body: bytes) -> Any:
        served.append(f"{method} {target}")
        return handle(method, target, headers, body)

    server.api.handle = counting  # type: ignore[method-assign]
    run = scenario("suffix-mismatch", reader=_reader(server, config))
    assert run.ids == ["app-name-suffix"]
    assert [c.what for c in run.reader.calls] == [
        "sparkapplications",
        "ingresses",
        "services",
        "pods",
        "endpointslices",
    ]
    assert run.reader.calls[0].items == 1005  # one LIST brought every application of the namespace
    assert len(served) == 5 and all(s.startswith("GET ") for s in served)
