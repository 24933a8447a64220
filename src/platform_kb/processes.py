"""Processes the lab and the tests start, tracked by pid and stopped by pid (never by name).

A :class:`ProcessRecord` holds a pid plus the process start time read from ``/proc``, so a pid
reused by an unrelated process after ours ended is never signalled.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import MissingPrerequisite


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # field 22 (starttime), counted after the ")" that closes the command name
    return int(stat.rsplit(")", 1)[1].split()[19])


def start_time_of(pid: int) -> int | None:
    """The process's start time from ``/proc`` (clock ticks since boot); None when it is gone."""
    return _start_time(pid)


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    start_time: int | None
    argv: tuple[str, ...] = ()
    log: str | None = None

    def alive(self) -> bool:
        if _start_time(self.pid) != self.start_time or self.start_time is None:
            return False
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    def stop(self, timeout: float = 10.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``; True if the process is gone.

        Signals the process group we created, then any descendant that left it (sshd's
        per-connection children call setsid), each identified by pid and start time. The
        descendants are read while the process is stopped (SIGSTOP), so it forks none meanwhile.
        """
        if not self.alive():
            return True
        _signal(self.pid, signal.SIGSTOP, group=False)
        stray = [d for d in descendants(self.pid) if d.alive()]
        gone = self._stop_one(timeout)
        for child in stray:
            child._stop_one(timeout=2.0)
        return gone

    def _stop_one(self, timeout: float) -> bool:
        if not self.alive():
            return True
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            if not _signal(self.pid, sig):
                return True
            _signal(self.pid, signal.SIGCONT)  # a stopped process acts on SIGTERM only once continued
            if wait_until(lambda: not self.alive(), wait):
                _reap(self.pid)
                return True
        return not self.alive()

    def to_json(self) -> dict:
        data = asdict(self)
        data["argv"] = list(self.argv)
        return data

    @classmethod
    def from_json(cls, data: dict) -> ProcessRecord:
        return cls(
            data["name"],
            int(data["pid"]),
            data.get("start_time"),
            tuple(data.get("argv", ())),
            data.get("log"),
        )


def _signal(pid: int, sig: int, group: bool = True) -> bool:
    """Signal the process group led by ``pid`` (or just ``pid``); False when the process is gone."""
    if group:
        try:
            os.killpg(pid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def _parent_pids() -> dict[int, int]:
    """pid -> parent pid for every process visible in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[ProcessRecord]:
    """Every living descendant of ``pid`` (children first), as records that pin their start time."""
    parents = _parent_pids()
    found: list[ProcessRecord] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current:
                found.append(ProcessRecord(f"child of {pid}", child, _start_time(child)))
                frontier.append(child)
    return found


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def spawn(
    name: str,
    argv: Sequence[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[subprocess.Popen, ProcessRecord]:
    """Start ``argv`` in its own session (so it outlives the caller and can be stopped as a group)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    record = ProcessRecord(name, proc.pid, _start_time(proc.pid), tuple(argv), str(log))
    return proc, record


def find_program(candidates: Sequence[str], name: str, package: str) -> str:
    """The first executable of ``candidates`` (daemons live outside a user's PATH), else ``name`` on PATH."""
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    raise MissingPrerequisite(f"{name} not found: install the Debian package {package} (scripts/setup does)")


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str, port: int, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    """Wait until ``host:port`` accepts connections; raise with the log's tail if the process died or time ran out."""

    def ready() -> bool:
        if proc is not None and proc.poll() is not None:
            return True
        return port_open(host, port)

    ok = wait_until(ready, timeout)
    if proc is not None and proc.poll() is not None:
        raise RuntimeError(f"process exited with {proc.returncode} before {host}:{port} opened{_tail(log)}")
    if not ok:
        raise TimeoutError(f"{host}:{port} did not open within {timeout:.0f}s{_tail(log)}")


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n--- " + str(log) + " ---\n" + "\n".join(text)


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 10000  # free_port's choices start here, below the kernel's ephemeral range


def ephemeral_range(path: Path = EPHEMERAL_RANGE_FILE) -> tuple[int, int]:
    """The ports the kernel gives outgoing connections and ``bind(port 0)`` (Linux default 32768-60999)."""
    try:
        low, high = (int(part) for part in path.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def free_port(host: str = "127.0.0.1", rng: random.Random | None = None) -> int:
    """A port nothing listens on at ``host`` now, for a server that binds it later.

    Chosen outside the kernel's ephemeral range: a port from ``bind(port 0)`` is released before
    the server binds it, and in that window any outgoing connection may take it as its source port
    (seen: a lab run failing with "Address already in use" on such a port). Falls back to the
    kernel's choice when nothing below the range is free.
    """
    rng = rng or random.Random()
    low, _high = ephemeral_range()
    if low - 1 > LOWEST_PORT:
        for _ in range(64):
            port = rng.randint(LOWEST_PORT, low - 1)
            if port_bindable(host, port):
                return port
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_bindable(host: str, port: int) -> bool:
    """True when ``host:port`` can be bound now (nothing listens there)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def save_records(path: Path, records: Sequence[ProcessRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.to_json() for r in records], indent=2))


def load_records(path: Path) -> list[ProcessRecord]:
    if not path.exists():
        return []
    return [ProcessRecord.from_json(d) for d in json.loads(path.read_text())]
