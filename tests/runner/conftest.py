"""Shared fixtures for the runner tests: `kb` in a subprocess against a throw-away project root.

Every end-to-end test runs the real console script (``.venv/bin/kb``) with ``KB_ROOT`` set to a
temp folder (so ``runs/`` and ``records/`` land there and the kernel's working directory is there)
and the small runbooks in ``tests/runner/runbooks/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

KB = Path(sys.executable).parent / "kb"


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def kb(project: Path) -> Callable[..., Result]:
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
        full_env = {**os.environ, "KB_ROOT": str(project), "COLUMNS": "200", **(env or {})}
        full_env.pop("KB_RUN_STATE", None)
        full_env.pop("KB_PLAN", None)
        done = subprocess.run(
            [str(KB), *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=project,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run
