"""Faults of the lab and of a tunnel through it (issue 14, items 5, 7 and 8's History Server backlog).

One lab (own ``KB_LAB_DIR`` under pytest's tmp dir, a free node address) serves, in order:

- ``ss -ltn`` shows the History Server listening with a backlog above 1 (Spark ships 1);
- a ``kb tunnel up`` keeps running while every lab process is killed by pid (SIGKILL, as a crash)
  and ``kb lab up`` starts the lab again: the bastion keeps its port and the tunnel serves again
  within 30 s of ``up`` returning, after saying what it waits for;
- ``kb lab down`` with ``state.json`` removed stops the lab's processes (found by their pid files
  and ports): the pids are gone and the ports free.

Everything is stopped by pid (the module's lab by ``kb lab down``, the tunnel by its record).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from platform_kb.install import history
from platform_kb.processes import ProcessRecord, descendants, port_open, spawn, wait_until
from platform_kb_lab.config import LabSettings
from platform_kb_lab.history import ACCEPT_QUEUE
from platform_kb_lab.manager import LabManager

from ..lab.conftest import lab_processes, make_settings, require_lab_prerequisites, settings_env
from ..prereq import missing

pytestmark = [pytest.mark.lab, pytest.mark.slow]
KB = str(Path(sys.executable).with_name("kb"))


@pytest.fixture(scope="module")
def fault_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabManager]:
    require_lab_prerequisites()
    settings = make_settings(tmp_path_factory.mktemp("faultlab"), start=160)
    manager = LabManager(settings, ready_timeout=240)
    try:
        manager.up()
        yield manager
    finally:
        manager.down()
        assert not lab_processes(settings.root), "processes left after kb lab down"


def recorded(settings: LabSettings) -> list[ProcessRecord]:
    data = json.loads(settings.state_file.read_text())
    return [ProcessRecord.from_json(p) for p in data["processes"]]


def bastion_port(settings: LabSettings) -> int:
    return int(json.loads(settings.state_file.read_text())["bastion_port"])


def listen_backlog(host: str, port: int) -> int | None:
    """The Send-Q column of ``ss -ltn`` for a listening socket: its accept backlog."""
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].rsplit(":", 1)[0].strip("[]").endswith(host):
            return int(fields[2])
    return None


def test_history_server_backlog_above_one(fault_lab: LabManager) -> None:
    s = fault_lab.settings
    backlog = listen_backlog(s.node, s.history_port)
    assert backlog is not None, f"nothing listens on {s.node}:{s.history_port}"
    assert backlog == ACCEPT_QUEUE, f"History Server backlog is {backlog} (Spark's JettyUtils sets 1)"
    log = (s.logs_dir / "history-server.log").read_text()
    assert f"listen backlog set to {ACCEPT_QUEUE}" in log


def test_kubectl_apply_against_the_running_lab(fault_lab: LabManager, tmp_path: Path) -> None:
    """``kubectl apply -f`` of the History Server manifests through the lab's own kubeconfig."""
    kubectl = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)
    if kubectl is None:
        missing("kubectl (/usr/bin/kubectl, Debian kubernetes-client)")
    spec = history.render(history.Params(namespace="spark-history-kubectl"))
    manifests = tmp_path / "history.yaml"
    manifests.write_text(yaml.safe_dump_all(spec.manifests_shown(), sort_keys=False))
    env = {**os.environ, "KUBECONFIG": str(fault_lab.settings.kubeconfig), "HOME": str(tmp_path)}
    done = subprocess.run(
        [kubectl, "--cache-dir", str(tmp_path / "cache"), "apply", "-f", str(manifests)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "deployment.apps/spark-history-server created" in done.stdout


def served(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def kill_all(records: list[ProcessRecord]) -> None:
    """SIGKILL every recorded process and its descendants (sshd's session children too): a crash."""
    victims = [d for r in records if r.alive() for d in [r, *descendants(r.pid)]]
    for victim in victims:
        if victim.alive():
            os.kill(victim.pid, signal.SIGKILL)
    assert wait_until(lambda: not any(v.alive() for v in victims), 20)


def test_tunnel_serves_again_after_a_lab_restart(fault_lab: LabManager, tmp_path: Path) -> None:
    s = fault_lab.settings
    url = f"http://{s.local_ingress}/spark-history/api/v1/applications"
    port_before = bastion_port(s)
    log = tmp_path / "tunnel.log"
    env = {**os.environ, **settings_env(s)}
    proc, tunnel = spawn("kb-tunnel", [KB, "tunnel", "up", "--profile", str(s.profile_path)], log, env=env)
    try:
        assert wait_until(lambda: served(url), 60, interval=0.5), log.read_text()
        kill_all(recorded(s))
        assert wait_until(lambda: "waiting for the bastion" in log.read_text(), 60, interval=0.5), (
            log.read_text()
        )
        fault_lab.up()
        assert bastion_port(s) == port_before, "the bastion moved to another port"
        started = time.monotonic()
        assert wait_until(lambda: served(url), 30, interval=0.5), (
            f"the tunnel did not serve within 30 s of kb lab up:\n{log.read_text()}"
        )
        assert proc.poll() is None, "kb tunnel up ended"
        text = log.read_text()
        assert "down for" in text and "reconnected to" in text, text
        print(f"tunnel served again {time.monotonic() - started:.1f}s after kb lab up")
    finally:
        tunnel.stop()
        proc.wait(timeout=10)


def test_lab_down_without_state_stops_the_processes(fault_lab: LabManager) -> None:
    s = fault_lab.settings
    records = recorded(s)
    assert records and all(r.alive() for r in records)
    ports = [(s.node, p) for p in s.node_ports().values()] + [("127.0.0.1", bastion_port(s))]
    s.state_file.unlink()
    fault_lab.down()
    still = [f"{r.name} (pid {r.pid})" for r in records if r.alive()]
    assert not still, f"still running after kb lab down without state: {still}"
    busy = [f"{h}:{p}" for h, p in ports if port_open(h, p)]  # a listener answers; TIME_WAIT does not
    assert not busy, f"ports still taken: {busy}"
    assert not s.pids_dir.exists()
