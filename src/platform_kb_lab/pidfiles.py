"""Finding the lab's processes without ``state.json``: pid files per process, then the lab's ports.

Where this sits: :class:`platform_kb_lab.state.LabState` writes ``.lab/pids/NAME.json`` (the
:class:`ProcessRecord`: pid, start time, argv, log) whenever it records a process, and removes it
when the process is dropped. ``kb lab down`` with the state file missing (deleted, or a crash
before the first save) reads these files and then, for anything still listening on one of the
lab's ports, the listening socket's owner from ``/proc/net/tcp`` and ``/proc/PID/fd``. A process
found by port is taken as the lab's only when its output goes to a file under the lab folder
(every lab process is spawned with stdout in ``.lab/logs`` or ``.lab/run``) or its command line
names the lab folder; anything else on a lab port is reported as busy, never signalled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from platform_kb.processes import ProcessRecord, start_time_of
from platform_kb.procnet import listeners


def pidfile_path(pids_dir: Path, name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return pids_dir / f"{safe}.json"


def write_pidfile(pids_dir: Path, record: ProcessRecord) -> None:
    pids_dir.mkdir(parents=True, exist_ok=True)
    path = pidfile_path(pids_dir, record.name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.to_json(), indent=2))
    tmp.replace(path)


def remove_pidfile(pids_dir: Path, name: str) -> None:
    pidfile_path(pids_dir, name).unlink(missing_ok=True)


def load_pidfiles(pids_dir: Path) -> list[ProcessRecord]:
    """Every readable pid file's record (a corrupt file is skipped: its process is found by port)."""
    records = []
    for path in sorted(pids_dir.glob("*.json")) if pids_dir.is_dir() else []:
        try:
            records.append(ProcessRecord.from_json(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return records


def belongs_to_lab(pid: int, root: Path) -> bool:
    """True when the process writes its output under ``root`` or its command line names ``root``."""
    prefix = str(root).rstrip("/") + "/"
    try:
        stdout = os.readlink(f"/proc/{pid}/fd/1")
    except OSError:
        stdout = ""
    if stdout.startswith(prefix):
        return True
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return prefix in argv or argv.rstrip().endswith(str(root))


def lab_listeners(root: Path, addresses: Iterable[tuple[str, int]]) -> list[ProcessRecord]:
    """Records (pid pinned by start time) of the lab's own processes listening on ``addresses``."""
    found = []
    for pid, (host, port) in sorted(listeners(addresses).items()):
        start = start_time_of(pid)
        if start is not None and belongs_to_lab(pid, root):
            found.append(ProcessRecord(f"listener of {host}:{port}", pid, start))
    return found
