"""lab.backlog: a second listen() through pidfd_getfd raises another process's backlog in place."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from platform_kb_lab.backlog import raise_backlog

LISTENER = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
    "print(s.getsockname()[1], flush=True)\n"
    "while True:\n"
    "    c, _ = s.accept(); c.sendall(b'ok'); c.close()\n"
)


def send_q(port: int) -> int:
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[2])


@pytest.fixture
def listener() -> Iterator[tuple[subprocess.Popen[str], int]]:
    proc = subprocess.Popen([sys.executable, "-c", LISTENER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc, int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_raises_the_backlog_and_the_socket_keeps_serving(listener: tuple[subprocess.Popen[str], int]) -> None:
    import socket

    proc, port = listener
    assert send_q(port) == 1
    result = raise_backlog(proc.pid, "127.0.0.1", port, 128)
    assert result.raised, result.detail
    assert send_q(port) == 128
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        assert conn.recv(2) == b"ok"


def test_no_listening_socket_is_reported_not_raised(listener: tuple[subprocess.Popen[str], int]) -> None:
    proc, port = listener
    result = raise_backlog(proc.pid, "127.0.0.1", port + 1 if port < 65535 else port - 1, 128)
    assert not result.raised
    assert "holds no socket listening" in result.detail
    assert send_q(port) == 1


def test_a_dual_stack_listener_like_the_jvm_is_found() -> None:
    """Java listens on an AF_INET6 socket bound to ::ffff:ADDR (/proc/net/tcp6), as the History Server does."""
    code = (
        "import socket, time\n"
        "s = socket.socket(socket.AF_INET6); s.bind(('::ffff:127.0.0.1', 0)); s.listen(1)\n"
        "print(s.getsockname()[1], flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        result = raise_backlog(proc.pid, "127.0.0.1", port, 64)
        assert result.raised, result.detail
        assert send_q(port) == 64
    finally:
        proc.kill()
        proc.wait(timeout=10)
