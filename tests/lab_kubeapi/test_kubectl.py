"""kubectl (the system binary, if present) reads the lab API through a kubeconfig."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from platform_kb_lab.kubeapi import KubeApiServer, ObjectStore, kubeconfig

from ..prereq import unless

KUBECTL = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)
pytestmark = unless(KUBECTL, "kubectl (Debian kubernetes-client)")


def kubectl(tmp_path: Path, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "kubeconfig"), "HOME": str(tmp_path)}
    return subprocess.run(
        [str(KUBECTL), "--cache-dir", str(tmp_path / "cache"), *args],
        input=input_text,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_kubectl_get_pods_and_sparkapps(tmp_path: Path, store: ObjectStore, server: KubeApiServer) -> None:
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig(server.url, namespace="spark")))
    store.create(
        "pods",
        "x",
        {
            "metadata": {"name": "long-test-driver", "labels": {"spark-role": "driver"}},
            "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark"}]},
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "spark-kubernetes-driver",
                        "ready": True,
                        "restartCount": 0,
                        "image": "spark",
                        "imageID": "",
                        "state": {"running": {}},
                    }
                ],
            },
        },
    )
    store.create(
        "pods", "other", {"metadata": {"name": "elsewhere"}, "spec": {"containers": [{"name": "c"}]}}
    )
    store.create(
        "sparkapplications",
        "spark",
        {"metadata": {"name": "long-test"}, "spec": {}, "status": {"applicationState": {"state": "RUNNING"}}},
    )

    table = kubectl(tmp_path, "get", "pods", "-n", "x")
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row.split()[:4] == ["long-test-driver", "1/1", "Running", "0"]

    selected = kubectl(tmp_path, "get", "pods", "-A", "-l", "spark-role=driver", "-o", "json")
    assert selected.returncode == 0, selected.stderr
    assert [p["metadata"]["name"] for p in json.loads(selected.stdout)["items"]] == ["long-test-driver"]

    apps = kubectl(tmp_path, "get", "sparkapp")  # the kubeconfig's namespace, short name from discovery
    assert apps.returncode == 0, apps.stderr
    assert apps.stdout.split()[:8] == [
        "NAME",
        "SUSPEND",
        "STATUS",
        "ATTEMPTS",
        "START",
        "FINISH",
        "AGE",
        "long-test",
    ]


def test_kubectl_create_sends_protobuf_and_gets_the_real_apis_415(
    tmp_path: Path, store: ObjectStore, server: KubeApiServer
) -> None:
    """The stand-in reads JSON and YAML only; it refuses protobuf as an API server without it does."""
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig(server.url, namespace="spark")))
    created = kubectl(tmp_path, "create", "namespace", "other")
    assert created.returncode == 1
    assert created.stderr.strip() == (
        "Error from server (UnsupportedMediaType): the body of the request was in an unknown format"
        " - accepted media types include: application/json, application/yaml"
    )
    applied = kubectl(
        tmp_path, "apply", "-f", "-", input_text="apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n"
    )
    assert applied.returncode == 0, applied.stderr
    assert store.get("namespaces", None, "other")["metadata"]["name"] == "other"
