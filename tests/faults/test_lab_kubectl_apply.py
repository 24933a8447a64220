"""``kubectl apply -f`` of the History Server manifests against the lab API (issue 14, item 9).

Before the fix the lab API answered 404 on ``/openapi/v2`` and ``/openapi/v3`` and kubectl stopped
with ``failed to download openapi``. The manifests are the ones ``install-spark-history-server``
renders (``platform_kb.install.history.render``). kubectl is the system binary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from platform_kb.install import history
from platform_kb_lab.kubeapi import KubeApiServer, ObjectStore, kubeconfig

from ..prereq import unless

KUBECTL = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)
pytestmark = unless(KUBECTL, "kubectl (/usr/bin/kubectl, Debian kubernetes-client)")


@pytest.fixture
def lab_api() -> Iterator[KubeApiServer]:
    server = KubeApiServer(ObjectStore(), host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


def kubectl(
    tmp_path: Path, server: KubeApiServer, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "kubeconfig"
    if not config.exists():
        config.write_text(yaml.safe_dump(kubeconfig(server.url, namespace="default")))
    env = {**os.environ, "KUBECONFIG": str(config), "HOME": str(tmp_path)}
    return subprocess.run(
        [str(KUBECTL), "--cache-dir", str(tmp_path / "cache"), *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


def history_manifests(path: Path, replicas: int = 1) -> Path:
    spec = history.render(history.Params())
    docs = spec.manifests_shown()
    for doc in docs:
        if doc["kind"] == "Deployment":
            doc["spec"]["replicas"] = replicas
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def test_kubectl_apply_history_server_manifests(tmp_path: Path, lab_api: KubeApiServer) -> None:
    manifests = history_manifests(tmp_path / "history.yaml")
    first = kubectl(tmp_path, lab_api, "apply", "-f", str(manifests))
    assert first.returncode == 0, first.stderr
    assert "openapi" not in first.stderr
    kinds = {line.split("/")[0] for line in first.stdout.splitlines()}
    assert {"namespace", "deployment.apps", "service", "ingress.networking.k8s.io", "configmap"} <= kinds
    # applied again with a change: kubectl builds a patch from the served schema and the change lands
    second = kubectl(tmp_path, lab_api, "apply", "-f", str(history_manifests(manifests, replicas=2)))
    assert second.returncode == 0, second.stderr
    assert "deployment.apps/spark-history-server configured" in second.stdout
    got = kubectl(tmp_path, lab_api, "get", "deployment", "-n", "spark-history", "-o", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["items"][0]["spec"]["replicas"] == 2


def test_kubectl_validates_with_the_served_schema(tmp_path: Path, lab_api: KubeApiServer) -> None:
    """The served schemas are real: an unknown field is refused on the client side, as by a cluster."""
    bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\nbogusField: 1\n"
    done = kubectl(tmp_path, lab_api, "apply", "-f", "-", stdin=bad)
    assert done.returncode != 0
    assert 'unknown field "bogusField"' in done.stderr


def test_openapi_documents_are_generated_for_every_served_kind(lab_api: KubeApiServer) -> None:
    index = httpx.get(lab_api.url + "/openapi/v3", trust_env=False).json()
    assert {
        "api/v1",
        "apis/apps/v1",
        "apis/networking.k8s.io/v1",
        "apis/sparkoperator.k8s.io/v1beta2",
    } <= set(index["paths"])
    doc = httpx.get(lab_api.url + index["paths"]["apis/apps/v1"]["serverRelativeURL"], trust_env=False).json()
    deployment = doc["components"]["schemas"]["V1Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert deployment["properties"]["spec"] == {"$ref": "#/components/schemas/V1DeploymentSpec"}
    v2 = httpx.get(lab_api.url + "/openapi/v2", trust_env=False).json()
    assert v2["swagger"] == "2.0" and "V1Service" in v2["definitions"]
