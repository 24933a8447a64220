"""Run records: ``runs/<id>/<UTC timestamp>/output.ipynb`` + ``summary.json``, private and masked.

Where this sits in the flow: ``execute.run_runbook`` creates a :class:`RecordDir` once parameters
are valid (never before: a bad invocation leaves no record), then calls :func:`write_record` after
every cell and once at the end, so a failed or interrupted run keeps its partial record.

* Directories are created 0700 and files written 0600 (atomic replace inside the run's own
  directory). A run directory name is unique (``20250101T120000Z``, then ``-2``, ``-3``...), so no
  record is ever overwritten; ``runs/<id>/latest`` is a symlink to the newest.
* Every string of the notebook (sources, outputs, metadata) and of the summary goes through the
  :class:`~platform_kb.secrets.Masker` *before* serialisation, and the serialised text once more
  (JSON-escaped forms), so a resolved secret never reaches the disk.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat

from ..errors import UsageProblem
from ..secrets import Masker

NOTEBOOK = "output.ipynb"
SUMMARY = "summary.json"
LATEST = "latest"
STATUSES = ("running", "passed", "failed", "error", "interrupted")


# a runbook id or run name is one path component: no '/', no '..', no leading dot or dash
_RECORD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_record_name(value: str, what: str = "runbook id") -> str:
    """``value`` if it is a plain name (like ``kb run``'s ids); UsageProblem otherwise."""
    if not _RECORD_NAME.match(value) or ".." in value:
        raise UsageProblem(f"{what} {value!r}: a plain name (letters, digits, '-', '_', '.'), not a path")
    return value


def check_records_base(base: Path, option: str = "--records") -> None:
    """The records folder exists as a writable directory or can be created (UsageProblem otherwise)."""
    probe = base
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise UsageProblem(f"{option} {base}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageProblem(f"{option} {base}: {probe} is not writable")


def timestamp_name(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def _mkdir_private(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


@dataclass(frozen=True)
class RecordDir:
    runbook_id: str
    path: Path

    @classmethod
    def create(cls, base: Path, runbook_id: str, when: datetime) -> RecordDir:
        """A fresh, unique ``base/<id>/<timestamp>[-N]/`` (0700), with ``latest`` pointing to it."""
        parent = base / check_record_name(runbook_id)
        try:
            _mkdir_private(base)
            _mkdir_private(parent)
        except OSError as exc:
            raise UsageProblem(f"records folder {parent}: {exc.strerror}") from None
        name = timestamp_name(when)
        for n in range(1, 1000):
            candidate = parent / (name if n == 1 else f"{name}-{n}")
            try:
                candidate.mkdir(mode=0o700)
            except FileExistsError:
                continue
            os.chmod(candidate, 0o700)
            _point_latest(parent, candidate.name)
            return cls(runbook_id, candidate)
        raise RuntimeError(f"cannot create a unique record directory under {parent}")

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def notebook(self) -> Path:
        return self.path / NOTEBOOK

    @property
    def summary(self) -> Path:
        return self.path / SUMMARY


def _point_latest(parent: Path, name: str) -> None:
    tmp = parent / f".{LATEST}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(name, tmp)
    os.replace(tmp, parent / LATEST)


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Atomic write of ``text`` with ``mode`` (0600 by default)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def masked_notebook_text(nb: nbformat.NotebookNode, masker: Masker) -> str:
    """Mask the strings as they are in memory (nbformat later splits multi-line strings into
    lists of lines, which would split a multi-line secret), then the serialised text."""
    masked = nbformat.from_dict(masker.data(nb))
    return masker.text(nbformat.writes(masked) + "\n")


def masked_json_text(data: Any, masker: Masker) -> str:
    return masker.text(json.dumps(masker.data(data), ensure_ascii=False, indent=2, default=str) + "\n")


@dataclass
class RunSummary:
    """What ``summary.json`` holds (the contract of issue 4 plus a few helpful extras)."""

    runbook: str
    title: str
    source: str
    run: str
    started: str
    finished: str | None = None
    seconds: float | None = None
    status: str = "running"
    exit_code: int | None = None
    plan_mode: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_sources: dict[str, str] = field(default_factory=dict)
    secret_parameters: list[str] = field(default_factory=list)
    secret_references: list[str] = field(default_factory=list)  # env:NAME / file:PATH, never values
    steps: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    # a run stopped by SIGINT/SIGTERM: {"signal": "SIGTERM", "cell": label, "cell_index": n, "step": name}
    interrupted: dict[str, Any] | None = None
    # where the run ran: the profile's name and, for a lab profile, the lab scenario
    context: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def write_record(
    record: RecordDir, nb: nbformat.NotebookNode | None, summary: RunSummary, masker: Masker
) -> None:
    """Masked notebook (if any yet) and summary, both 0600."""
    if nb is not None:
        write_private(record.notebook, masked_notebook_text(nb, masker))
    write_private(record.summary, masked_json_text(summary.to_json(), masker))


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def list_runs(base: Path, runbook_id: str | None = None) -> list[tuple[str, Path, dict[str, Any] | None]]:
    """(runbook id, run dir, summary) for every record, oldest first."""
    if runbook_id is not None:
        check_record_name(runbook_id)
    if not base.is_dir():
        return []
    ids = [runbook_id] if runbook_id else sorted(p.name for p in base.iterdir() if p.is_dir())
    found = []
    for rid in ids:
        folder = base / rid
        if not folder.is_dir():
            continue
        for run_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
            found.append((rid, run_dir, read_summary(run_dir)))
    found.sort(key=lambda item: ((item[2] or {}).get("started") or "", item[1].name))
    return found
