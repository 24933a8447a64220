"""The tunnel against real OpenSSH sshd bastions on 127.0.0.1, for both backends."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import paramiko
import pytest

from platform_kb.profiles import ForwardSpec
from platform_kb.tunnel import (
    AuthenticationError,
    BastionUnreachable,
    ForwardUnreachable,
    HostKeyError,
    LocalPortInUse,
)
from platform_kb.tunnel.hostkeys import fingerprint
from platform_kb_lab.sshd import Sshd

BACKENDS = ["openssh", "paramiko"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_forwards_carry_traffic_and_close_cleanly(
    backend: str, bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    forwards = [tk.web_forward(node, "ingress"), tk.web_forward(node, "api")]
    tunnel = tk.make_tunnel(bastion, forwards, known_hosts, keys["client"], backend=backend)
    with tunnel as t:
        assert t.backend == backend and t.state == "open"
        assert set(t.addresses) == {"ingress", "api"}
        assert t.url("ingress").startswith("http://127.0.0.1:")
        assert t.describe("api") == f"127.0.0.1:{t.address('api')[1]} -> {node[0]}:{node[1]}"
        assert all(p.ok for p in t.probes)
        assert tk.http_get(t.url("ingress", "/hello")) == (200, b"node ok /hello")
        status, body = tk.http_get(t.url("api", "/version"))
        assert status == 200 and b"v1.30.0-node" in body
        status, body = tk.http_get(t.url("ingress", "/bytes/3000000"))  # bigger than a window
        assert status == 200 and len(body) == 3_000_000
        pids = t.pids()
        assert (len(pids) == 1) if backend == "openssh" else (pids == [])
        ports = [port for _host, port in t.addresses.values()]
    assert t.state == "closed"
    assert not any(tk.pid_alive(p) for p in pids)
    assert not any(tk.port_listening("127.0.0.1", p) for p in ports)


@pytest.mark.parametrize("backend", BACKENDS)
def test_changed_host_key_is_refused(
    backend: str, bastion: Sshd, tmp_path: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    known = tmp_path / "known_hosts_changed"
    other_key = keys["other"]  # any other ed25519 key stands for "the key we knew"
    public = Path(str(other_key) + ".pub").read_text().split()
    known.write_text(f"[127.0.0.1]:{bastion.port} {public[0]} {public[1]}\n")
    tunnel = tk.make_tunnel(bastion, [tk.web_forward(node)], known, keys["client"], backend=backend)
    with pytest.raises(HostKeyError) as info:
        tunnel.open()
    offered = fingerprint(paramiko.PKey.from_path(str(bastion.host_key)))
    message = str(info.value)
    assert f"[127.0.0.1]:{bastion.port}" in message and offered in message and f"{known}:1" in message
    assert tunnel.pids() == [] and tunnel.state == "failed"


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_host_refused_under_yes_recorded_under_accept_new(
    backend: str, bastion: Sshd, tmp_path: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    known = tmp_path / "fresh_known_hosts"
    refused = tk.make_tunnel(bastion, [tk.web_forward(node)], known, keys["client"], backend=backend)
    with pytest.raises(HostKeyError, match="not in known_hosts"):
        refused.open()
    assert not known.exists()
    accepting = tk.make_tunnel(
        bastion, [tk.web_forward(node)], known, keys["client"], backend=backend, host_key_policy="accept-new"
    )
    with accepting as t:
        assert tk.http_get(t.url("web"))[0] == 200
    assert known.read_text() == bastion.known_hosts_line() + "\n"
    with tk.make_tunnel(bastion, [tk.web_forward(node)], known, keys["client"], backend=backend) as t:
        assert tk.http_get(t.url("web"))[0] == 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_client_key_is_refused(
    backend: str, bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    tunnel = tk.make_tunnel(bastion, [tk.web_forward(node)], known_hosts, keys["other"], backend=backend)
    with pytest.raises(AuthenticationError, match=r"refused every key.*SHA256:"):
        tunnel.open()


def test_unreachable_bastion_fails_fast(tmp_path: Path, keys: dict, node: tuple, tk: SimpleNamespace) -> None:
    fake = SimpleNamespace(host="127.0.0.1", port=closed_port())
    tunnel = tk.make_tunnel(fake, [tk.web_forward(node)], tmp_path / "kh", keys["client"])
    with pytest.raises(BastionUnreachable, match="refused"):
        tunnel.open()


@pytest.mark.parametrize("backend", BACKENDS)
def test_silent_bastion_times_out_instead_of_hanging(
    backend: str, tmp_path: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    with socket.socket() as silent:  # accepts TCP (kernel backlog) but never speaks SSH
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        fake = SimpleNamespace(host="127.0.0.1", port=silent.getsockname()[1])
        tunnel = tk.make_tunnel(
            fake,
            [tk.web_forward(node)],
            tmp_path / "kh",
            keys["client"],
            connect_timeout=1.0,
            backend=backend,
        )
        started = time.monotonic()
        with pytest.raises(BastionUnreachable, match="within 1s"):
            tunnel.open()
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_local_port_in_use_is_a_clear_error(
    backend: str, bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        tunnel = tk.make_tunnel(
            bastion, [tk.web_forward(node, local_port=port)], known_hosts, keys["client"], backend=backend
        )
        with pytest.raises(LocalPortInUse, match=rf"127\.0\.0\.1:{port}.*in use.*0 for a free one"):
            tunnel.open()
    assert tunnel.pids() == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_refusing_remote_end_is_reported_when_opening(
    backend: str, bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    dead = ForwardSpec("api", "127.0.0.1", 0, "127.0.0.1", closed_port())
    forwards = [tk.web_forward(node, "ingress"), dead]
    with tk.make_tunnel(bastion, forwards, known_hosts, keys["client"], backend=backend) as t:
        by_name = {p.name: p for p in t.probes}
        assert by_name["ingress"].ok
        assert not by_name["api"].ok and "connect failed" in by_name["api"].detail
        assert tk.http_get(t.url("ingress"))[0] == 200  # the good forward still works
    strict = tk.make_tunnel(
        bastion, forwards, known_hosts, keys["client"], backend=backend, require_forwards=True
    )
    with pytest.raises(ForwardUnreachable, match=f"127.0.0.1:{dead.remote_port}"):
        strict.open()


@pytest.mark.parametrize("backend", BACKENDS)
def test_proxyjump_through_two_sshd(
    backend: str, sshd_factory, tmp_path: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    jump = sshd_factory("jump", log_level="DEBUG1")
    target = sshd_factory("target")
    known = tmp_path / "known_hosts_both"
    known.write_text(jump.known_hosts_line() + "\n" + target.known_hosts_line() + "\n")
    tunnel = tk.make_tunnel(
        target,
        [tk.web_forward(node)],
        known,
        keys["client"],
        backend=backend,
        proxy_jump=f"127.0.0.1:{jump.port}",
    )
    with tunnel as t:
        assert [h.port for h in t.route.hops] == [jump.port, target.port]
        assert tk.http_get(t.url("web", "/via-jump")) == (200, b"node ok /via-jump")
    # the jump host really carried the connection to the target's sshd
    assert f"target 127.0.0.1 port {target.port}" in jump.log_path.read_text()


def test_proxyjump_from_ssh_config_alias(
    sshd_factory, tmp_path: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    jump = sshd_factory("jump")
    target = sshd_factory("target")
    known = tmp_path / "known_hosts_both"
    known.write_text(jump.known_hosts_line() + "\n" + target.known_hosts_line() + "\n")
    config = tmp_path / "ssh_config"
    config.write_text(
        textwrap.dedent(f"""\
            Host homelab-jump
                HostName 127.0.0.1
                Port {jump.port}
                IdentityFile {keys["client"]}
                UserKnownHostsFile {known}
            Host homelab-bastion
                HostName 127.0.0.1
                Port {target.port}
                IdentityFile {keys["client"]}
                UserKnownHostsFile {known}
                ProxyJump homelab-jump
            """)
    )
    from platform_kb.profiles import BastionSpec
    from platform_kb.tunnel import Tunnel

    tunnel = Tunnel(
        BastionSpec(host="homelab-bastion"), [tk.web_forward(node)], ssh_config=str(config), use_agent=False
    )
    with tunnel as t:
        assert [h.port for h in t.route.hops] == [jump.port, target.port]
        assert tk.http_get(t.url("web"))[0] == 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_recovers_after_the_bastion_is_killed_and_restarted(
    backend: str, bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    tunnel = tk.make_tunnel(
        bastion,
        [tk.web_forward(node)],
        known_hosts,
        keys["client"],
        backend=backend,
        backoff_initial=0.2,
        backoff_max=1.0,
    )
    with tunnel as t:
        url = t.url("web", "/before")
        assert tk.http_get(url)[0] == 200
        first_pids = t.pids()
        tk.kill_bastion(bastion)
        tk.wait_for(lambda: t.state == "reconnecting", 10, "the tunnel to notice the dropped bastion")
        bastion.start()  # same workdir: same port, same host key
        tk.wait_for(lambda: t.wait_connected(0.1) and t.reconnects >= 1, 20, "the tunnel to reconnect")

        def answers() -> bool:
            try:
                return tk.http_get(t.url("web", "/after"), timeout=2) == (200, b"node ok /after")
            except OSError:
                return False

        tk.wait_for(answers, 10, "traffic through the re-established tunnel")
        assert t.address("web")[1] == int(url.split(":")[2].split("/")[0])  # same local port
        # OpenSSH: a new ssh process replaced the old one; paramiko runs in this process (no pids)
        assert bool(t.pids()) is (backend == "openssh")
        assert t.pids() != first_pids or backend == "paramiko"
        assert not any(tk.pid_alive(p) for p in first_pids)
    assert not any(tk.pid_alive(p) for p in t.pids() + first_pids)


def test_changed_host_key_after_reconnect_stops_the_tunnel(
    bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    tunnel = tk.make_tunnel(bastion, [tk.web_forward(node)], known_hosts, keys["client"], backoff_initial=0.2)
    with tunnel as t:
        tk.kill_bastion(bastion)
        bastion.host_key.unlink()  # a new host key on restart: someone else answers on that address
        Path(str(bastion.host_key) + ".pub").unlink()
        bastion.start()
        assert t.wait(20), "the tunnel kept going with a changed host key"
        assert isinstance(t.error, HostKeyError) and t.state == "failed"
        assert t.pids() == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_640_concurrent_fresh_requests_without_error(
    backend: str, bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    errors: list[str] = []
    done = []
    with tk.make_tunnel(bastion, [tk.web_forward(node)], known_hosts, keys["client"], backend=backend) as t:
        url = t.url("web", "/bytes/2048")

        def worker() -> None:
            for _ in range(20):
                try:
                    status, body = tk.http_get(url, timeout=10)
                    if status != 200 or len(body) != 2048:
                        errors.append(f"HTTP {status}, {len(body)} bytes")
                    done.append(1)
                except OSError as exc:
                    errors.append(repr(exc))

        threads = [threading.Thread(target=worker) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == [] and len(done) == 640


NOTEBOOK = """
import json, sys
from platform_kb.profiles import BastionSpec, ForwardSpec
from platform_kb.tunnel import Tunnel
spec = BastionSpec(host="127.0.0.1", port={port}, identity_file="{key}", known_hosts="{known}")
t = Tunnel(spec, [ForwardSpec("web", "127.0.0.1", 0, "{node_host}", {node_port})], ssh_config="none", use_agent=False)
t.open()  # cell 1: no close, no with-block
print(json.dumps({{"pids": t.pids(), "port": t.address("web")[1]}}), flush=True)
import urllib.request
print(urllib.request.urlopen(t.url("web", "/cell2")).read().decode(), flush=True)  # a later cell
"""


def test_notebook_style_open_is_closed_at_interpreter_exit(
    bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tk: SimpleNamespace
) -> None:
    import json

    script = NOTEBOOK.format(
        port=bastion.port, key=keys["client"], known=known_hosts, node_host=node[0], node_port=node[1]
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    info = json.loads(first)
    assert second == "node ok /cell2"
    assert len(info["pids"]) == 1
    tk.wait_for(lambda: not tk.pid_alive(info["pids"][0]), 10, "the ssh process to end with the interpreter")
    assert not tk.port_listening("127.0.0.1", info["port"])
