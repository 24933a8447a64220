"""Fixtures for the tunnel tests: real OpenSSH sshd bastions on 127.0.0.1 and an HTTP "node".

Every sshd is a :class:`platform_kb_lab.sshd.Sshd` stopped by pid at teardown, and each test
asserts that nothing it started is still running. The node is a ThreadingHTTPServer in a thread.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from platform_kb.processes import wait_until
from platform_kb.profiles import BastionSpec, ForwardSpec
from platform_kb.tunnel import Tunnel
from platform_kb_lab.sshd import Sshd, generate_key

BACKENDS = ["openssh", "paramiko"]


class NodeHandler(BaseHTTPRequestHandler):
    """A tiny stand-in for the node: ``/`` like the ingress, ``/version`` like the API server."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/version":
            body = json.dumps({"major": "1", "minor": "30", "gitVersion": "v1.30.0-node"}).encode()
        elif self.path == "/healthz":
            body = b"ok"
        elif self.path.startswith("/bytes/"):
            body = b"x" * int(self.path.rsplit("/", 1)[1])
        else:
            body = f"node ok {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server", "test-node")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class Node(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


@pytest.fixture(scope="session")
def node() -> Iterator[tuple[str, int]]:
    server = Node(("127.0.0.1", 0), NodeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    return {"client": generate_key(folder / "client"), "other": generate_key(folder / "other")}


@pytest.fixture
def sshd_factory(tmp_path: Path, keys: dict[str, Path]) -> Iterator[Callable[..., Sshd]]:
    """Start sshd instances for one test; all are stopped and checked gone afterwards."""
    started: list[Sshd] = []
    pids: list[int] = []

    def start(name: str = "bastion", **kwargs: object) -> Sshd:
        kwargs.setdefault("client_keys", [keys["client"]])
        sshd = Sshd(tmp_path / name, log_level=str(kwargs.pop("log_level", "ERROR")), **kwargs)  # type: ignore[arg-type]
        sshd.start()
        started.append(sshd)
        assert sshd.record is not None
        pids.append(sshd.record.pid)
        return sshd

    yield start
    for sshd in started:
        for pid in session_children(sshd):
            kill_pid(pid)
        sshd.stop()
    assert wait_until(lambda: not any(pid_alive(p) for p in pids), 10), "an sshd outlived its test"


@pytest.fixture
def bastion(sshd_factory: Callable[..., Sshd]) -> Sshd:
    return sshd_factory()


@pytest.fixture
def known_hosts(tmp_path: Path, bastion: Sshd) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(bastion.known_hosts_line() + "\n")
    return path


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def session_children(sshd: Sshd) -> list[int]:
    """Per-connection sshd processes forked by this sshd (they survive a kill of the listener)."""
    return children_of(sshd.record.pid) if sshd.record is not None else []


def children_of(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent:
            children.append(int(entry.name))
    return children


def kill_bastion(sshd: Sshd) -> None:
    """Drop the bastion hard: its session processes (SIGKILL, by pid) and the listener itself."""
    children = session_children(sshd)
    for pid in children:
        kill_pid(pid)
    sshd.stop()
    assert wait_until(lambda: not any(pid_alive(p) for p in children), 10)


def make_tunnel(
    sshd: Sshd,
    forwards: list[ForwardSpec],
    known_hosts: Path,
    key: Path,
    **options: object,
) -> Tunnel:
    """A tunnel isolated from the user's ~/.ssh (no ssh_config, no agent) with short timeouts."""
    spec = BastionSpec(
        host=str(options.pop("host", sshd.host)),
        port=int(options.pop("port", sshd.port)),  # type: ignore[arg-type]
        identity_file=str(key),
        known_hosts=str(known_hosts),
        host_key_policy=str(options.pop("host_key_policy", "yes")),
        proxy_jump=options.pop("proxy_jump", None),  # type: ignore[arg-type]
    )
    options.setdefault("ssh_config", "none")
    options.setdefault("use_agent", False)
    options.setdefault("connect_timeout", 5.0)
    return Tunnel(spec, forwards, **options)  # type: ignore[arg-type]


def web_forward(node: tuple[str, int], name: str = "web", local_port: int = 0) -> ForwardSpec:
    return ForwardSpec(name, "127.0.0.1", local_port, node[0], node[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET over a fresh connection with the standard library only."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def port_listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="session")
def tk() -> SimpleNamespace:
    """The helpers above for test modules (with --import-mode=importlib they cannot import conftest)."""
    return SimpleNamespace(
        make_tunnel=make_tunnel,
        web_forward=web_forward,
        http_get=http_get,
        port_listening=port_listening,
        wait_for=wait_for,
        kill_bastion=kill_bastion,
        pid_alive=pid_alive,
        session_children=session_children,
        children_of=children_of,
        BACKENDS=BACKENDS,
    )
