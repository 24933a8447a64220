"""Which process listens where, read from ``/proc``: ``/proc/net/tcp{,6}`` and ``/proc/PID/fd``.

One home for the socket tables both the tunnel (is ``ssh`` listening on its forwards yet?) and the
lab (who holds a lab port, which descriptor to raise the backlog on) read. Linux only; every
function returns an empty result where ``/proc`` cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

TCP_LISTEN = "0A"


def _hex_address(host: str, port: int) -> str:
    """``/proc/net/tcp``'s local_address for an IPv4 ``host:port`` (address bytes little-endian)."""
    octets = [int(part) for part in host.split(".")]
    return "".join(f"{o:02X}" for o in reversed(octets)) + f":{port:04X}"


def _hex_address6(host: str, port: int) -> str:
    """``/proc/net/tcp6``'s local_address for the v4-mapped ``::ffff:host`` (Java's dual-stack sockets):
    four 32-bit words, each printed in host (little-endian) order."""
    return "0000000000000000FFFF0000" + _hex_address(host, port)


def listening_inodes(addresses: Iterable[tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """socket inode -> (host, port) for the given IPv4 addresses in LISTEN state, also as the
    wildcard (``0.0.0.0``, ``::``) and as v4-mapped IPv6 (``/proc/net/tcp6``, how a JVM listens)."""
    wanted: dict[str, tuple[str, int]] = {}
    for host, port in addresses:
        wanted[_hex_address(host, port)] = (host, port)
        wanted[_hex_address6(host, port)] = (host, port)
        wanted.setdefault(_hex_address("0.0.0.0", port), (host, port))
        wanted.setdefault("0" * 32 + f":{port:04X}", (host, port))
    return {inode: wanted[address] for address, inode in _listen_rows() if address in wanted}


def socket_fds(pid: int) -> dict[int, str]:
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


def socket_inodes(pid: int) -> set[str]:
    return set(socket_fds(pid).values())


def listening_fds(pid: int, host: str, port: int) -> list[int]:
    """The descriptor numbers in process ``pid`` of its sockets listening on ``host:port``."""
    inodes = listening_inodes([(host, port)])
    return [fd for fd, inode in socket_fds(pid).items() if inode in inodes]


def listeners(addresses: Iterable[tuple[str, int]]) -> dict[int, tuple[str, int]]:
    """pid -> (host, port) of this user's processes that listen on one of ``addresses``."""
    inodes = listening_inodes(addresses)
    owners: dict[int, tuple[str, int]] = {}
    if not inodes:
        return owners
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        held = socket_inodes(int(entry.name)) & inodes.keys()
        if held:
            owners[int(entry.name)] = inodes[next(iter(held))]
    return owners


def listening_ports(pid: int) -> set[int]:
    """TCP ports the process ``pid`` listens on (from /proc/net/tcp{,6}); empty if unreadable."""
    inodes = socket_inodes(pid)
    return {int(address.rsplit(":", 1)[1], 16) for address, inode in _listen_rows() if inode in inodes}


def _listen_rows() -> Iterator[tuple[str, str]]:
    """(local_address, inode) of every LISTEN socket in /proc/net/tcp and /proc/net/tcp6."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == TCP_LISTEN:
                yield fields[1], fields[9]
