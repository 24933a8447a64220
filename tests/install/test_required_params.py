"""Required runbook parameters have no invented defaults: a run without them stops with exit 2 naming them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jupytext

from platform_kb.install import airflow
from platform_kb.runner.params import parse_parameters

REPO = Path(__file__).resolve().parents[2]
KB = Path(sys.executable).with_name("kb")


def test_git_repo_is_required_and_has_no_default() -> None:
    specs = {s.name: s for s in parse_parameters(jupytext.read(REPO / "runbooks" / "install-airflow.py"))}
    assert specs["git_repo"].required and specs["git_repo"].default == ""
    assert airflow.Params().git_repo == ""


def test_a_run_without_git_repo_exits_2_naming_it(tmp_path: Path) -> None:
    records = tmp_path / "records"
    done = subprocess.run(
        [str(KB), "run", str(REPO / "runbooks" / "install-airflow.py"),
         "--profile", str(REPO / "profiles" / "homelab.example.yaml"), "--plan", "--records", str(records)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "KB_ROOT": str(REPO)}, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "parameter 'git_repo' is required (pass -p git_repo VALUE)" in done.stderr
    assert not records.exists()  # nothing ran, nothing was recorded
