"""Fixtures of the install tests: a fake cluster behind a RecordingRunner, the S3 stand-in, the lab.

* :class:`FakeCluster` answers the facts the plan reads (``helm repo list``, ``helm status``,
  ``helm get values``, ``kubectl get``) and changes its state when ``helm repo add``,
  ``helm upgrade --install`` or ``kubectl apply`` are run through it, the way the API server
  would (``stringData`` stored as base64 ``data``, server-side fields added) — so a second plan
  after an apply must come out empty. A command it does not model raises :class:`UnknownCommand`
  (it never answers success for something it did not do).
* ``s3lab``: ``python -m platform_kb_lab.s3server`` on 127.0.0.1, stopped by pid.
* ``lab``: one ``kb lab up`` per session in a private directory on its own loopback address,
  ``kb lab down`` at the end (every process stopped by recorded pid).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_kb.install import commands as c
from platform_kb.install.runners import RecordingRunner, Result
from platform_kb.processes import ProcessRecord, free_port, spawn, wait_for_port

from ..prereq import missing

DATA = Path(__file__).parent / "data"
KB = Path(sys.executable).parent / "kb"
ACCESS_KEY = "AKIALABEXAMPLE01"
SECRET_KEY = "lab-secret-Zq8v3Kp1wX"


class UnknownCommand(AssertionError):
    """A test ran a command the fake cluster has no answer for."""


@dataclass
class FakeCluster:
    repos: dict[str, str] = field(default_factory=dict)
    releases: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    objects: dict[tuple[str, str | None, str], dict[str, Any]] = field(default_factory=dict)
    template_error: str | None = None
    revision: int = 0

    def __call__(self, cmd: c.Command) -> Result:
        handler = getattr(self, f"_{type(cmd).__name__}", None)
        if handler is None:  # a command this fake does not model: never pretend it succeeded
            raise UnknownCommand(f"FakeCluster does not know {type(cmd).__name__}: {cmd.line()}")
        return handler(cmd)

    # helm
    def _HelmRepoList(self, cmd: c.HelmRepoList) -> Result:
        if not self.repos:
            return Result(1, "", "Error: no repositories to show\n")
        return Result(0, json.dumps([{"name": k, "url": v} for k, v in self.repos.items()]))

    def _HelmRepoAdd(self, cmd: c.HelmRepoAdd) -> Result:
        self.repos[cmd.name] = cmd.url
        return Result(0, f'"{cmd.name}" has been added to your repositories\n')

    def _HelmRepoUpdate(self, cmd: c.HelmRepoUpdate) -> Result:
        if cmd.name not in self.repos:
            return Result(1, "", f"Error: no repositories found matching '{cmd.name}'\n")
        return Result(0, "Update Complete. ⎈Happy Helming!⎈\n")

    def _HelmTemplate(self, cmd: c.HelmTemplate) -> Result:
        if self.template_error:
            return Result(1, "", self.template_error)
        return Result(0, "---\n# rendered\n")

    def _HelmStatus(self, cmd: c.HelmStatus) -> Result:
        rel = self.releases.get((cmd.namespace, cmd.release))
        if rel is None:
            return Result(1, "", "Error: release: not found\n")
        return Result(0, json.dumps({
            "name": cmd.release, "namespace": cmd.namespace, "version": rel["revision"],
            "info": {"status": rel["status"]},
            "chart": {"metadata": {"name": rel["chart"], "version": rel["chart_version"]}},
        }))  # fmt: skip

    def _HelmGetValues(self, cmd: c.HelmGetValues) -> Result:
        rel = self.releases.get((cmd.namespace, cmd.release))
        if rel is None:
            return Result(1, "", "Error: release: not found\n")
        return Result(0, json.dumps(rel["values"]))

    def _HelmUpgradeInstall(self, cmd: c.HelmUpgradeInstall) -> Result:
        assert cmd.chart.repo_name in self.repos, "helm upgrade before helm repo add"
        (staged,) = cmd.files()
        key = (cmd.namespace, cmd.release)
        old = self.releases.get(key, {"revision": 0})
        self.releases[key] = {
            "revision": old["revision"] + 1, "status": "deployed", "chart": cmd.chart.chart,
            "chart_version": cmd.chart.version, "values": yaml.safe_load(staged.content),
        }  # fmt: skip
        return Result(0, "Release has been upgraded. Happy Helming!\n")

    # kubectl
    def _KubectlGet(self, cmd: c.KubectlGet) -> Result:
        obj = self.objects.get((cmd.resource, cmd.namespace, cmd.name))
        return Result(0, json.dumps(obj) if obj else "")

    def _KubectlApply(self, cmd: c.KubectlApply) -> Result:
        manifest = yaml.safe_load(cmd.stdin())
        meta = manifest["metadata"]
        key = (c.resource_name(manifest["kind"]), meta.get("namespace"), meta["name"])
        self.objects[key] = server_side(manifest, self.objects.get(key))
        return Result(0, f"{manifest['kind'].lower()}/{meta['name']} configured\n")

    def runner(self, tools: tuple[str, ...] = ("helm", "kubectl")) -> RecordingRunner:
        return RecordingRunner(responder=self, tools=tools)


def server_side(manifest: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """What the API server stores: stringData -> base64 data, metadata and defaults filled in."""
    obj = copy.deepcopy(manifest)
    meta = obj["metadata"]
    meta.setdefault("uid", (old or {}).get("metadata", {}).get("uid", "0f0e-uid"))
    meta["resourceVersion"] = str(int((old or {}).get("metadata", {}).get("resourceVersion", "0")) + 1)
    meta["creationTimestamp"] = "2026-01-03T00:00:00Z"
    if obj["kind"] == "Namespace":
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        obj["status"] = {"phase": "Active"}
    if "stringData" in obj:
        data = obj.setdefault("data", {})
        for k, v in obj.pop("stringData").items():
            data[k] = base64.b64encode(v.encode()).decode()
    if obj["kind"] == "Deployment":
        obj["spec"]["progressDeadlineSeconds"] = 600
        for container in obj["spec"]["template"]["spec"].get("containers", []):
            container.setdefault("imagePullPolicy", "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            for port in container.get("ports", []):
                port.setdefault("protocol", "TCP")
    if obj["kind"] == "Service":
        obj["spec"]["clusterIP"] = "10.96.0.42"
        for port in obj["spec"].get("ports", []):
            port.setdefault("protocol", "TCP")
    return obj


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def minio_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MINIO_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("MINIO_SECRET_KEY", SECRET_KEY)
    return {"MINIO_ACCESS_KEY": ACCESS_KEY, "MINIO_SECRET_KEY": SECRET_KEY}


# --- the S3 stand-in --------------------------------------------------------------------------------
@dataclass
class S3Lab:
    url: str
    root: Path
    record: ProcessRecord


def start_s3lab(root: Path, buckets: tuple[str, ...] = ("datalake",)) -> tuple[S3Lab, subprocess.Popen]:
    port = free_port("127.0.0.1")
    argv = [sys.executable, "-m", "platform_kb_lab.s3server", "--host", "127.0.0.1", "--port", str(port),
            "--root", str(root), "--access-key", ACCESS_KEY, *[a for b in buckets for a in ("--bucket", b)]]  # fmt: skip
    env = {**os.environ, "S3LAB_SECRET_KEY": SECRET_KEY}
    proc, record = spawn("s3lab", argv, root.parent / f"s3lab-{port}.log", env=env)
    wait_for_port("127.0.0.1", port, 15, proc, root.parent / f"s3lab-{port}.log")
    return S3Lab(f"http://127.0.0.1:{port}", root, record), proc


@pytest.fixture
def s3lab(tmp_path: Path) -> Iterator[S3Lab]:
    lab, proc = start_s3lab(tmp_path / "s3")
    try:
        yield lab
    finally:
        lab.record.stop()
        proc.wait(timeout=10)


# --- the lab (session) -------------------------------------------------------------------------------
@dataclass
class Lab:
    dir: Path
    profile: Path
    kubeconfig: Path
    env: dict[str, str]
    node: str
    s3: S3Lab | None = None


def _node_address() -> str:
    """A loopback address of our own (other helpers' labs use 127.0.0.2 and friends)."""
    return f"127.0.{70 + os.getpid() % 50}.{10 + os.getpid() % 200}"


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if os.environ.get("KB_SKIP_LAB_TESTS"):
        missing("the lab (KB_SKIP_LAB_TESTS is set)")
    base = tmp_path_factory.mktemp("install-lab")
    node = _node_address()
    env = {**os.environ, "KB_LAB_DIR": str(base / "lab"), "KB_LAB_NODE": node,
           "KB_LAB_LOCAL_INGRESS": f"127.0.0.1:{free_port()}", "KB_ROOT": str(base / "project")}  # fmt: skip
    (base / "project").mkdir()
    up = subprocess.run(
        [str(KB), "lab", "up"], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    s3: S3Lab | None = None
    s3proc: subprocess.Popen | None = None
    try:
        if up.returncode != 0:
            pytest.fail(f"kb lab up failed ({up.returncode}):\n{up.stdout}\n{up.stderr}")
        # the S3 stand-in serves the lab's event-log directory as s3://datalake/logs/spark-log/
        s3root = base / "s3"
        (s3root / "datalake" / "logs").mkdir(parents=True)
        (s3root / "datalake" / "logs" / "spark-log").symlink_to(base / "lab" / "spark-events")
        s3, s3proc = start_s3lab(s3root)
        yield Lab(
            base / "lab", base / "lab" / "profiles" / "lab.yaml", base / "lab" / "kubeconfig", env, node, s3
        )
    finally:
        if s3 is not None:
            s3.record.stop()
            if s3proc is not None:
                s3proc.wait(timeout=10)
        subprocess.run(
            [str(KB), "lab", "down"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
