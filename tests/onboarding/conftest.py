"""Shared fixtures for the onboarding tests: run `kb` as a new user would, a real local sshd, a temp copy of the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_kb_lab.sshd import Sshd, generate_key

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
KB = VENV_BIN / "kb"
# What a fresh clone holds (the rest is generated or local state).
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "site",
    "runs",
    ".lab",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    "build",
    "dist",
)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_kb(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> Result:
    """`kb ARGS` in a subprocess (the console script of this venv)."""
    full_env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COLUMNS": "250", **(env or {})}
    done = subprocess.run(
        [str(KB), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def kb() -> Callable[..., Result]:
    """Run `kb ARGS` as a subprocess: ``kb("check", env={...}, cwd=...)``."""
    return run_kb


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_key(tmp_path_factory.mktemp("client") / "id_ed25519", comment="onboarding-test")


@pytest.fixture(scope="session")
def bastion(tmp_path_factory: pytest.TempPathFactory, client_key: Path) -> Iterator[Sshd]:
    """A real OpenSSH sshd on 127.0.0.1 (stopped by pid at the end of the session)."""
    sshd = Sshd(tmp_path_factory.mktemp("bastion"), host="127.0.0.1", client_keys=[client_key])
    sshd.start()
    try:
        yield sshd
    finally:
        sshd.stop()


@pytest.fixture()
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the checkout as a fresh clone has it; tests point KB_ROOT at it and never write into the real tree."""
    target = tmp_path / "repo"
    shutil.copytree(REPO, target, ignore=COPY_IGNORE, symlinks=True)
    return target
