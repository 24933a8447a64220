"""The lab the tunnel benchmarks share: nginx as the node, a real sshd as the bastion, the tunnels.

Where it sits: imported by ``bench/tunnel.py`` and ``bench/tunnel_load.py`` (outside the package
flow). :func:`bench_lab` starts nginx serving a site folder on 127.0.0.1 and an OpenSSH sshd
(:class:`platform_kb_lab.sshd.Sshd`) with a fresh client key and ``known_hosts``, and stops
everything it and the tunnel starters recorded, by pid. The starters run each path under test
as a separate process, as a user runs it (``ssh -N -L``, ``kb tunnel up --backend ...``,
sshtunnel as shipped); the client is a minimal raw-socket HTTP/1.1 client, so its own overhead
stays small.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from platform_kb.processes import ProcessRecord, free_port, spawn, wait_for_port, wait_until
from platform_kb.procnet import listening_ports
from platform_kb_lab.sshd import Sshd, generate_key

NGINX_CONF = """\
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ text/html html; text/css css; application/javascript js; application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {site};
    }}
}}
"""


def start_nginx(workdir: Path, site: Path) -> tuple[subprocess.Popen, ProcessRecord, int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port, site=site, user=user))
    proc, record = spawn(
        "nginx", [nginx, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"], workdir / "nginx.log"
    )
    wait_for_port("127.0.0.1", port, 10, proc, workdir / "nginx.log")
    return proc, record, port


@dataclass
class Lab:
    workdir: Path
    sshd: Sshd
    key: Path
    known_hosts: Path
    node_port: int
    assets: list[str]
    records: list[ProcessRecord] = field(default_factory=list)


@contextmanager
def bench_lab(prefix: str, make_site: Callable[[Path], list[str]]) -> Iterator[Lab]:
    """nginx serving what ``make_site(folder)`` writes (it returns the asset paths) and an sshd bastion.

    On exit, every process in ``lab.records`` (the tunnels started for it), sshd and nginx are
    stopped by pid and the work folder is removed.
    """
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    nginx_record = None
    sshd = None
    lab = None
    try:
        site = workdir / "site"
        assets = make_site(site)
        _proc, nginx_record, node_port = start_nginx(workdir / "nginx", site)
        key = generate_key(workdir / "client_key")
        sshd = Sshd(workdir / "sshd", client_keys=[key], log_level="ERROR")
        sshd.start()
        known_hosts = workdir / "known_hosts"
        known_hosts.write_text(sshd.known_hosts_line() + "\n")
        lab = Lab(workdir, sshd, key, known_hosts, node_port, assets)
        yield lab
    finally:
        for record in reversed(lab.records if lab is not None else []):
            record.stop()
        if sshd is not None:
            sshd.stop()
        if nginx_record is not None:
            nginx_record.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def has_tools() -> bool:
    """ssh, sshd (found by :class:`Sshd`) and nginx, which ``scripts/setup`` installs."""
    return shutil.which("ssh") is not None and (
        shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()
    )


# --------------------------------------------------------------------------- the tunnels under test
def _wait_listening(proc: subprocess.Popen, port: int, log: Path) -> None:
    ok = wait_until(lambda: proc.poll() is not None or port in listening_ports(proc.pid), 15, 0.01)
    if not ok or proc.poll() is not None:
        raise RuntimeError(f"tunnel process did not come up: {log.read_text(errors='replace')[-2000:]}")


def start_openssh(lab: Lab) -> tuple[int, ProcessRecord]:
    port = free_port()
    argv = [
        "ssh", "-N", "-F", "none", "-i", str(lab.key), "-p", str(lab.sshd.port),
        "-o", f"UserKnownHostsFile={lab.known_hosts}", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
        "-L", f"{port}:127.0.0.1:{lab.node_port}", "127.0.0.1",
    ]  # fmt: skip
    log = lab.workdir / "openssh.log"
    proc, record = spawn("ssh", argv, log)
    _wait_listening(proc, port, log)
    return port, record


def start_kb(backend: str) -> Callable[[Lab], tuple[int, ProcessRecord]]:
    def start(lab: Lab) -> tuple[int, ProcessRecord]:
        port = free_port()
        argv = [
            sys.executable, "-c", "from platform_kb.cli import main; main()", "tunnel", "up",
            "--bastion", f"127.0.0.1:{lab.sshd.port}", "-i", str(lab.key), "--known-hosts", str(lab.known_hosts),
            "-F", "none", "--backend", backend, "-L", f"{port}:127.0.0.1:{lab.node_port}",
        ]  # fmt: skip
        log = lab.workdir / f"kb-{backend}.log"
        proc, record = spawn(f"kb-{backend}", argv, log)
        ok = wait_until(lambda: proc.poll() is not None or "forward " in log.read_text(errors="replace"), 20)
        if not ok or proc.poll() is not None:
            raise RuntimeError(f"kb tunnel up did not come up: {log.read_text(errors='replace')[-2000:]}")
        return port, record

    return start


SSHTUNNEL_SCRIPT = """
import sys, time, sshtunnel
server = sshtunnel.SSHTunnelForwarder(("127.0.0.1", {ssh_port}), ssh_username="{user}", ssh_pkey="{key}",
    remote_bind_address=("127.0.0.1", {node_port}), local_bind_address=("127.0.0.1", {port}), allow_agent=False)
server.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def start_sshtunnel(lab: Lab) -> tuple[int, ProcessRecord]:
    port = free_port()
    import getpass

    script = SSHTUNNEL_SCRIPT.format(
        ssh_port=lab.sshd.port, user=getpass.getuser(), key=lab.key, node_port=lab.node_port, port=port
    )
    log = lab.workdir / "sshtunnel.log"
    proc, record = spawn("sshtunnel", [sys.executable, "-c", script], log)
    wait_for_port("127.0.0.1", port, 20, proc, log)
    return port, record


def start_direct(lab: Lab) -> tuple[int, None]:
    return lab.node_port, None


# --------------------------------------------------------------------------- a small HTTP client
def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def get(sock: socket.socket, path: str, sink: bytearray | None = None) -> int:
    """One GET on an open connection; returns the body size (raises on a non-200 or a short read)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the response headers")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if status != b"200":
        raise ConnectionError(f"HTTP {status.decode()}")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    remaining = length - len(body)
    view = memoryview(sink) if sink is not None else memoryview(bytearray(min(remaining, 1 << 20) or 1))
    while remaining > 0:
        n = sock.recv_into(view[: min(remaining, len(view))])
        if not n:
            raise ConnectionError("connection closed in the body")
        remaining -= n
    return length


def fresh_get(port: int, path: str) -> int:
    with connect(port) as sock:
        return get(sock, path)


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "openssh": ssh_version,
        "paramiko": paramiko.__version__,
    }
