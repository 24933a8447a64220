"""Helpers for the runner's fault-injection tests (``tests/faults/test_run_*.py``).

Not a ``conftest.py`` (the lab's fault tests share this folder): each test file loads it with
``importlib`` (the suite runs with ``--import-mode=importlib``). Every ``kb`` runs as the real console script in a subprocess with ``KB_ROOT``
set to a throw-away project and ``TMPDIR`` set to a private, short folder (Unix socket paths are
limited to 108 bytes), so a test can assert that folder is empty afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

KB = Path(sys.executable).parent / "kb"
RUNBOOKS = Path(__file__).resolve().parents[1] / "runner" / "runbooks"


@dataclass
class KbEnv:
    project: Path
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        env = {**os.environ, "KB_ROOT": str(self.project), "TMPDIR": str(self.tmp), "COLUMNS": "200"}
        for name in ("KB_RUN_STATE", "KB_PLAN"):
            env.pop(name, None)
        self.env = env

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KB), *args], capture_output=True, text=True, env=self.env, cwd=self.project,
            timeout=timeout, check=False,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(KB), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=self.env, cwd=self.project,
        )  # fmt: skip

    def records(self, runbook_id: str) -> list[Path]:
        folder = self.project / "runs" / runbook_id
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())

    def summary(self, runbook_id: str) -> dict:
        (record,) = self.records(runbook_id)
        return json.loads((record / "summary.json").read_text())

    def leftovers(self) -> list[str]:
        return sorted(str(p.relative_to(self.tmp)) for p in self.tmp.rglob("*"))


def kb_env(tmp_path: Path) -> Iterator[KbEnv]:
    project = tmp_path / "project"
    project.mkdir()
    tmp = Path(tempfile.mkdtemp(prefix="kbf-", dir="/tmp"))
    try:
        yield KbEnv(project, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"kb exited ({proc.returncode}) before {what}: {proc.stdout.read()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """True for a running process (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"
