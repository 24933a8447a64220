"""Fixtures of the lab monitoring tests: a lab of their own, driven through the real ``kb`` command.

The lab lives under pytest's tmp dir, on a node address in 127.0.6.0/24 whose node ports (ingress,
API, History Server, Prometheus, Grafana, the node-exporters) are all free, with its own local
ingress port, so it collides neither with a developer's lab (127.0.0.2) nor with the labs of
tests/lab (127.0.5.0/24). ``kb lab down`` runs in a ``finally``; every process is stopped by pid.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from platform_kb.errors import MissingPrerequisite
from platform_kb.processes import ProcessRecord, free_port
from platform_kb_lab.config import LabSettings
from platform_kb_lab.manager import check_prerequisites

from ..prereq import missing

KB = str(Path(sys.executable).with_name("kb"))


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_settings(root: Path, start: int = 20) -> LabSettings:
    """Settings on the first 127.0.6.x whose node ports (and driver UI ports 4040-4042) are free."""
    for last in range(start, 250):
        settings = LabSettings(root=root, node=f"127.0.6.{last}", local_ingress=f"127.0.0.1:{free_port()}")
        ports = (*settings.node_ports().values(), 4040, 4041, 4042)
        if all(_bindable(settings.node, p) for p in ports):
            return settings
    raise RuntimeError("no free node address in 127.0.6.0/24")


def env_of(settings: LabSettings) -> dict[str, str]:
    return {
        **os.environ,
        "KB_LAB_DIR": str(settings.root),
        "KB_LAB_NODE": settings.node,
        "KB_LAB_LOCAL_INGRESS": settings.local_ingress,
    }


@dataclass
class MonitoringLab:
    """One lab driven through ``kb lab ...``; remembers every process record it ever saw."""

    settings: LabSettings
    seen: dict[int, ProcessRecord] = field(default_factory=dict)
    up_seconds: dict[str, float] = field(default_factory=dict)

    def kb(self, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
        return subprocess.run(
            [KB, *args],
            env=env_of(self.settings),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def up(self, scenario: str) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = self.kb("lab", "up", "--scenario", scenario)
        took = round(time.monotonic() - started, 1)
        key, n = scenario, 1
        while key in self.up_seconds:
            n += 1
            key = f"{scenario} #{n}"
        self.up_seconds[key] = took
        print(f"\nkb lab up --scenario {scenario}: {took}s")
        assert result.returncode == 0, result.stderr + result.stdout
        self.records()
        return result

    def state(self) -> dict[str, Any]:
        return json.loads(self.settings.state_file.read_text())

    def records(self) -> dict[str, ProcessRecord]:
        """The recorded processes by name (and remember them for the final check)."""
        records = {p["name"]: ProcessRecord.from_json(p) for p in self.state()["processes"]}
        for record in records.values():
            self.seen[record.pid] = record
        return records

    def targets(self) -> list[dict[str, Any]]:
        """Prometheus's active targets, asked through nginx (the Ingress ``/prometheus``)."""
        url = f"{self.settings.ingress_url}/prometheus/api/v1/targets"
        response = httpx.get(url, params={"state": "active"}, timeout=10.0, trust_env=False)
        assert response.status_code == 200, response.text
        return response.json()["data"]["activeTargets"]


def require_lab_prerequisites() -> None:
    try:
        check_prerequisites()
    except MissingPrerequisite as exc:
        missing(f"the lab's programs ({exc})")


@pytest.fixture(scope="module")
def mlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoringLab]:
    """A lab for this module, started in scenario ``healthy``; ``kb lab down`` afterwards, always."""
    require_lab_prerequisites()
    lab = MonitoringLab(pick_settings(tmp_path_factory.mktemp("mlab")))
    try:
        lab.up("healthy")
        yield lab
    finally:
        down = lab.kb("lab", "down")
        print(f"\nup seconds per scenario: {lab.up_seconds}")
        assert down.returncode == 0, down.stderr
        alive = [f"{r.name} (pid {r.pid})" for r in lab.seen.values() if r.alive()]
        assert not alive, f"still alive after kb lab down: {alive}"
