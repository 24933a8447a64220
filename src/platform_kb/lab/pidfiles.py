"""Finding the lab's processes without ``state.json``: pid files per process, then the lab's ports.

Where this sits: :class:`platform_kb.lab.manager.LabState` writes ``.lab/pids/NAME.json`` (the
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

from .processes import ProcessRecord, start_time_of

TCP_LISTEN = "0A"


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


def _hex_address(host: str, port: int) -> str:
    """``/proc/net/tcp``'s local_address for an IPv4 ``host:port`` (address bytes little-endian)."""
    octets = [int(part) for part in host.split(".")]
    return "".join(f"{o:02X}" for o in reversed(octets)) + f":{port:04X}"


def _hex_address6(host: str, port: int) -> str:
    """``/proc/net/tcp6``'s local_address for the v4-mapped ``::ffff:host`` (Java's dual-stack sockets):
    four 32-bit words, each printed in host (little-endian) order."""
    return "0000000000000000FFFF0000" + _hex_address(host, port)


def _listening_inodes(addresses: Iterable[tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """socket inode -> (host, port) for the given IPv4 addresses in LISTEN state, also as the
    wildcard (``0.0.0.0``, ``::``) and as v4-mapped IPv6 (``/proc/net/tcp6``, how a JVM listens)."""
    wanted: dict[str, tuple[str, int]] = {}
    for host, port in addresses:
        wanted[_hex_address(host, port)] = (host, port)
        wanted[_hex_address6(host, port)] = (host, port)
        wanted.setdefault(_hex_address("0.0.0.0", port), (host, port))
        wanted.setdefault("0" * 32 + f":{port:04X}", (host, port))
    found: dict[str, tuple[str, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == TCP_LISTEN and fields[1] in wanted:
                found[fields[9]] = wanted[fields[1]]
    return found


def _socket_fds(pid: int) -> dict[int, str]:
    """descriptor number -> socket inode, for the sockets process ``pid`` holds."""
    sockets: dict[int, str] = {}
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return sockets
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets[int(fd.name)] = target[8:-1]
    return sockets


def _socket_inodes(pid: int) -> set[str]:
    return set(_socket_fds(pid).values())


def listening_fds(pid: int, host: str, port: int) -> list[int]:
    """The descriptor numbers in process ``pid`` of its sockets listening on ``host:port``."""
    inodes = _listening_inodes([(host, port)])
    return [fd for fd, inode in _socket_fds(pid).items() if inode in inodes]


def listeners(addresses: Iterable[tuple[str, int]]) -> dict[int, tuple[str, int]]:
    """pid -> (host, port) of this user's processes that listen on one of ``addresses``."""
    inodes = _listening_inodes(addresses)
    owners: dict[int, tuple[str, int]] = {}
    if not inodes:
        return owners
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        held = _socket_inodes(int(entry.name)) & inodes.keys()
        if held:
            owners[int(entry.name)] = inodes[next(iter(held))]
    return owners


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
