"""``kb lab up`` then ``kb lab down``, twice, through the real CLI: nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from platform_kb.processes import ProcessRecord, port_open
from platform_kb.profiles import load_profile
from platform_kb_lab.config import LabSettings

from .conftest import lab_processes, make_settings, require_lab_prerequisites, settings_env

pytestmark = [pytest.mark.lab, pytest.mark.slow]
KB = [str(Path(sys.executable).with_name("kb"))]


def kb(settings: LabSettings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, **settings_env(settings)}
    return subprocess.run(
        [*KB, *args], env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def assert_nothing_left(settings: LabSettings, records: list[ProcessRecord], bastion_port: int) -> None:
    assert records, "no process was recorded"
    assert not [r for r in records if r.alive()], "a recorded process is still alive"
    assert not lab_processes(settings.root), "a process mentioning the lab directory is still running"
    for port in settings.node_ports().values():
        assert not port_open(settings.node, port), f"{settings.node}:{port} still open"
    assert not port_open(settings.bastion_host, bastion_port)
    for stale in (
        settings.state_file,
        settings.run_dir,
        settings.profile_path,
        settings.kubeconfig,
        settings.known_hosts,
        settings.inventory_path,
    ):
        assert not stale.exists(), f"{stale} left behind"


def test_up_down_twice_leaves_nothing(tmp_path):
    require_lab_prerequisites()
    settings = make_settings(tmp_path / "lab", start=60)
    pids: list[set[int]] = []
    for _cycle in range(2):
        result = kb(settings, "lab", "up", "--scenario", "healthy")
        assert result.returncode == 0, result.stderr + result.stdout
        assert "scenario healthy" in result.stdout and "RUNNING" in result.stdout
        state = json.loads(settings.state_file.read_text())
        records = [ProcessRecord.from_json(p) for p in state["processes"]]
        assert {r.name for r in records} == {
            "sshd", "nginx", "history-server", "daemon", "prometheus", "grafana",
            "node-exporter", "node-exporter-pve-01", "node-exporter-pve-02", "node-exporter-desktop",
        }  # fmt: skip
        assert all(r.alive() for r in records)
        drivers = [ProcessRecord.from_json(p) for p in json.loads(settings.drivers_file.read_text())]
        assert len(drivers) == 1 and drivers[0].alive()
        profile = load_profile(str(settings.profile_path))
        assert profile.bastion.port == state["bastion_port"] and profile.bastion.host_key_policy == "yes"
        assert profile.node.host == settings.node
        assert (
            Path(profile.bastion.known_hosts)
            .read_text()
            .startswith(f"[127.0.0.1]:{state['bastion_port']} ssh-ed25519 ")
        )
        assert f"server: http://{settings.node}:6443" in settings.kubeconfig.read_text()

        again = kb(settings, "lab", "up", "--scenario", "healthy")  # idempotent: same processes
        assert again.returncode == 0 and "already up" in again.stderr
        assert [
            ProcessRecord.from_json(p) for p in json.loads(settings.state_file.read_text())["processes"]
        ] == records

        status = kb(settings, "lab", "status", "--json")
        assert status.returncode == 0
        assert json.loads(status.stdout)["running"] is True

        down = kb(settings, "lab", "down")
        assert down.returncode == 0, down.stderr
        assert_nothing_left(settings, records + drivers, state["bastion_port"])
        pids.append({r.pid for r in records})
        again_down = kb(settings, "lab", "down")
        assert again_down.returncode == 0, again_down.stderr
        assert again_down.stdout.strip() == "lab: nothing was running"
    assert pids[0].isdisjoint(pids[1])
