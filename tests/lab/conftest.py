"""Shared fixtures of the lab tests: a lab of its own (tmp dir, free node address), a tunnel, probes.

Each lab used here lives under pytest's tmp dir and on a node address in 127.0.5.0/24 whose
node ports are free, so it never collides with a developer's lab (127.0.0.2) or with another
helper's lab running at the same time. Every process is stopped by pid (``kb lab down``).
"""

from __future__ import annotations

import re
import socket
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from platform_kb.errors import MissingPrerequisite
from platform_kb.processes import free_port, spawn, wait_for_port
from platform_kb.profiles import load_profile
from platform_kb_lab.config import LabSettings
from platform_kb_lab.manager import LabManager, check_prerequisites

from ..prereq import missing

NODE_PORTS = tuple(LabSettings(root=Path(".")).node_ports().values())  # ingress, API, History, monitoring


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_node(start: int = 20) -> str:
    """A node address in 127.0.5.0/24 whose node ports (and driver UI ports 4040-4042) are free."""
    for last in range(start, 250):
        node = f"127.0.5.{last}"
        if all(_bindable(node, p) for p in (*NODE_PORTS, 4040, 4041, 4042)):
            return node
    raise RuntimeError("no free node address in 127.0.5.0/24")


def require_lab_prerequisites() -> None:
    try:
        check_prerequisites()
    except MissingPrerequisite as exc:
        missing(f"the lab's programs ({exc})")


def make_settings(root: Path, start: int = 20) -> LabSettings:
    return LabSettings(root=root, node=pick_node(start), local_ingress=f"127.0.0.1:{free_port()}")


def settings_env(settings: LabSettings) -> dict[str, str]:
    return {
        "KB_LAB_DIR": str(settings.root),
        "KB_LAB_NODE": settings.node,
        "KB_LAB_LOCAL_INGRESS": settings.local_ingress,
    }


def lab_processes(root: Path) -> list[str]:
    """Command lines of live processes that mention the lab directory (should be none after down)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if str(root) in line and "ps -eo" not in line]


# ---------------------------------------------------------------------------- tunnel


@dataclass
class OpenTunnel:
    base: str  # http://127.0.0.1:PORT of the ingress forward
    api: str  # http://127.0.0.1:PORT of the API forward
    how: str


@pytest.fixture(scope="module")
def lab_settings(tmp_path_factory: pytest.TempPathFactory) -> LabSettings:
    require_lab_prerequisites()
    return make_settings(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def lab(lab_settings: LabSettings) -> Iterator[LabManager]:
    """A lab manager for this module's lab; the lab is taken down after the module."""
    manager = LabManager(lab_settings, ready_timeout=180)
    try:
        yield manager
    finally:
        manager.down()
        assert not lab_processes(lab_settings.root), "processes left after kb lab down"


def _ssh_tunnel(settings: LabSettings, ingress_port: int, api_port: int) -> Iterator[OpenTunnel]:
    profile = load_profile(str(settings.profile_path))
    bastion = profile.bastion
    argv = [
        "ssh", "-N", "-p", str(bastion.port), "-i", str(bastion.identity_file),
        "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={bastion.known_hosts}",
        "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
        "-L", f"127.0.0.1:{ingress_port}:{settings.node}:{settings.ingress_port}",
        "-L", f"127.0.0.1:{api_port}:{settings.node}:{settings.api_port}",
        f"{bastion.user}@{bastion.host}",
    ]  # fmt: skip
    proc, record = spawn("ssh-tunnel", argv, settings.logs_dir / "test-ssh-tunnel.log")
    try:
        wait_for_port("127.0.0.1", ingress_port, 20, proc, settings.logs_dir / "test-ssh-tunnel.log")
        yield OpenTunnel(f"http://127.0.0.1:{ingress_port}", f"http://127.0.0.1:{api_port}", "ssh -N -L")
    finally:
        record.stop()
        proc.wait(timeout=5)


def open_tunnel(settings: LabSettings) -> Iterator[OpenTunnel]:
    """Through the lab bastion: platform_kb.tunnel.Tunnel if it works, else OpenSSH ``ssh -N -L``."""
    profile = load_profile(str(settings.profile_path))
    try:
        from platform_kb.tunnel import Tunnel

        tunnel = Tunnel.from_profile(profile)
        tunnel.open()
    except Exception as exc:  # the tunnel is another area's work; the lab tests need a tunnel
        warnings.warn(f"platform_kb.tunnel unusable ({exc!r}); using ssh -N -L", stacklevel=1)
        yield from _ssh_tunnel(settings, free_port(), free_port())
        return
    try:
        yield OpenTunnel(tunnel.url("ingress"), tunnel.url("api"), "platform_kb.tunnel")
    finally:
        tunnel.close()


# ---------------------------------------------------------------------------- HTTP probes


def get(url: str, **kwargs) -> httpx.Response:
    """One GET, redirects not followed, no environment proxies."""
    return httpx.get(url, follow_redirects=False, timeout=10.0, trust_env=False, **kwargs)


_RESOURCE_RE = re.compile(r"""<(?:link|script)\b[^>]*?\b(?:href|src)=["']([^"']+)["']""", re.I)


def page_resources(html: str, page_url: str) -> list[str]:
    """Absolute URLs of the CSS/JS a browser would load from this page (resolved like a browser)."""
    found = []
    for ref in _RESOURCE_RE.findall(html):
        if ref.split("?")[0].endswith((".css", ".js")):
            found.append(urljoin(page_url, ref))
    return sorted(set(found))


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
