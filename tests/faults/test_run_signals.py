"""SIGINT and SIGTERM while a cell runs: the kernel and what it started are stopped, temporary
files removed, the record finished as ``interrupted`` with the signal and the cut cell, exit
130 / 143, and the console shows no ✓ on that cell (issue 14, item 3)."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "faults_conftest_run", Path(__file__).with_name("conftest_run.py")
)
h = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(h)

SLOW = str(h.RUNBOOKS / "slow.py")


@pytest.fixture
def env(tmp_path: Path):
    yield from h.kb_env(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_cell(env, signum: int, code: int) -> None:
    pid_file = env.project / "pids"
    proc = env.start("run", SLOW, "-p", "pid_file", str(pid_file))
    try:
        # the slow cell writes "<kernel pid> <child pid> <its temp dir>" once it runs
        text = h.wait_for(
            lambda: pid_file.is_file() and pid_file.read_text().strip(), 120, "the slow cell", proc
        )
        kernel_pid, child_pid, tunnel_dir = text.split()
        state = h.wait_for(lambda: list(env.tmp.glob("kb-run-*/state.json")), 30, "the state file", proc)
        h.wait_for(lambda: '"running"' in state[0].read_text(), 30, "the step to run", proc)
        started = h.children(proc.pid) | {int(kernel_pid), int(child_pid)}
        assert Path(tunnel_dir).is_dir() and str(env.tmp) in tunnel_dir
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == code, out
    summary = env.summary("slow")
    assert summary["status"] == "interrupted"
    assert summary["exit_code"] == code
    assert summary["interrupted"]["signal"] == signal.Signals(signum).name
    assert summary["interrupted"]["cell"] == "import os"
    assert summary["interrupted"]["step"] == "기다리기"
    assert summary["finished"]
    step = next(s for s in summary["steps"] if s["name"] == "기다리기")
    assert step["status"] == "failed" and "interrupted" in step["error"]

    cut = [line for line in out.splitlines() if "import os" in line]
    assert cut and all("✓" not in line for line in cut), out
    assert f"interrupted by {signal.Signals(signum).name}" in out

    try:
        h.wait_for(lambda: not any(h.alive(p) for p in started), 15, "the kernel and its children to stop")
    finally:
        for pid in started:  # leave nothing behind even when the assertion fails
            if h.alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert env.leftovers() == []  # no kb-run-*, kb-kernel-*, kb-tunnel-* left

    listed = env.run("runs", "list", "slow")
    assert "interrupted" in listed.stdout


def _load_tunnel_fixture():  # noqa: ANN202
    """The local sshd + node profile of tests/runner/test_bastion_tunnel_run.py."""
    path = h.RUNBOOKS.parent / "test_bastion_tunnel_run.py"
    spec = importlib.util.spec_from_file_location("faults_bastion_fixture", path)
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module.local_profile


local_profile = _load_tunnel_fixture()


@pytest.mark.slow
def test_sigterm_with_a_real_tunnel_open(env, local_profile: Path) -> None:
    pid_file = env.project / "pids"
    proc = env.start(
        "run",
        str(h.RUNBOOKS / "slow-tunnel.py"),
        "--profile",
        str(local_profile),
        "-p",
        "pid_file",
        str(pid_file),
    )
    try:
        text = h.wait_for(
            lambda: pid_file.is_file() and pid_file.read_text().strip(), 120, "the tunnel to open", proc
        )
        kernel_pid = int(text.split()[0])
        started = h.children(proc.pid) | {kernel_pid}
        assert len(h.children(kernel_pid)) >= 1 or list(
            env.tmp.glob("kb-run-*/tmp/*")
        )  # ssh, or paramiko in-process
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, out
    assert env.summary("slow-tunnel")["status"] == "interrupted"
    try:
        h.wait_for(lambda: not any(h.alive(p) for p in started), 15, "the kernel and the tunnel to stop")
    finally:
        for pid in started:
            if h.alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert env.leftovers() == []
