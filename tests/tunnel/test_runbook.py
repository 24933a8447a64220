"""``runbooks/bastion-tunnel.py`` run as a plain script against a real sshd and the test node."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from platform_kb.paths import ProjectPaths
from platform_kb_lab.sshd import Sshd

RUNBOOK = ProjectPaths.discover(Path(__file__).parent).runbooks / "bastion-tunnel.py"


def write_lab_profile(root: Path, bastion: Sshd, known_hosts: Path, key: Path, node: tuple) -> None:
    profile = {
        "bastion": {
            "host": "127.0.0.1",
            "port": bastion.port,
            "identity_file": str(key),
            "known_hosts": str(known_hosts),
        },
        "node": {"host": node[0], "ingress_nodeport": node[1], "api_port": node[1]},
        "forwards": [
            {"name": "ingress", "local": "127.0.0.1:0", "remote": f"node:{node[1]}"},
            {"name": "api", "local": "127.0.0.1:0", "remote": f"node:{node[1]}"},
        ],
    }
    folder = root / ".lab" / "profiles"
    folder.mkdir(parents=True)
    (folder / "lab.yaml").write_text(yaml.safe_dump(profile))


def run_plain(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KB_ROOT": str(root), "HOME": str(root)}  # HOME: no ~/.ssh/config of the machine
    env.pop("KB_RUN_STATE", None)
    return subprocess.run(
        [sys.executable, str(RUNBOOK)], capture_output=True, text=True, timeout=120, env=env, cwd=root
    )


def test_runbook_runs_as_a_plain_script(
    bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tmp_path: Path
) -> None:
    write_lab_profile(tmp_path, bastion, known_hosts, keys["client"], node)
    result = run_plain(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in (
        "[passed] 터널 열기",
        "[passed] NodePort HTTP 응답",
        "[passed] API 서버 응답",
        "v1.30.0-node",
    ):
        assert expected in out
    assert "ssh -N -L" in out and f"-p {bastion.port}" in out
    assert "[error]" not in out


def test_runbook_reports_a_refused_host_key(bastion: Sshd, keys: dict, node: tuple, tmp_path: Path) -> None:
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    write_lab_profile(tmp_path, bastion, empty_known_hosts, keys["client"], node)
    result = run_plain(tmp_path)
    assert result.returncode != 0
    assert "[error] host-key-refused" in result.stdout
    assert "RunbookStopped" in result.stderr


def test_runbook_runs_under_kb_run(
    bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tmp_path: Path
) -> None:
    write_lab_profile(tmp_path, bastion, known_hosts, keys["client"], node)
    profile = tmp_path / ".lab" / "profiles" / "lab.yaml"
    result = subprocess.run(
        [sys.executable, "-c", "from platform_kb.cli import main; main()", "run", str(RUNBOOK),
         "--profile", str(profile), "--records", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=180, cwd=ProjectPaths.discover(Path(__file__).parent).root,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout
