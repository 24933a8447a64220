"""Temporary credential files (the install runbooks' kubeconfig copy) are 0600 in a private 0700
folder and gone on every exit path; an API server that does not answer is named as the kubeconfig
knows it, with the tunnel's local end (issue 14, items 4 and 8)."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from platform_kb import kube
from platform_kb.install.connect import make_runner
from platform_kb.install.params import InstallParams

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: lab
contexts: [{name: lab, context: {cluster: lab, user: u}}]
clusters: [{name: lab, cluster: {server: "http://10.99.0.1:6443"}}]
users: [{name: u, user: {token: sekret-token-value}}]
"""


class FakeTunnel:
    def __init__(self, port: int) -> None:
        self.port = port

    def address(self, name: str) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kc"
    path.write_text(KUBECONFIG)
    return path


def test_install_kubeconfig_copy_private_and_removed_on_close(
    kubeconfig: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    runner = make_runner(InstallParams(kubeconfig=str(kubeconfig)), FakeTunnel(6443))
    copy = runner.kubeconfig
    assert copy is not None and copy.is_file()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    runner.close()
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("ending", ["normal", "error"])
def test_install_kubeconfig_copy_removed_when_the_process_ends(
    kubeconfig: Path, tmp_path: Path, ending: str
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = textwrap.dedent(f"""
        from platform_kb.install.connect import make_runner
        from platform_kb.install.params import InstallParams
        class T:
            def address(self, name): return ("127.0.0.1", 6443)
        runner = make_runner(InstallParams(kubeconfig={str(kubeconfig)!r}), T())
        print(runner.kubeconfig, flush=True)
        if {ending == "error"!r}:
            raise RuntimeError("a cell failed")
    """)  # the runbooks never close their runner
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"TMPDIR": str(tmp), "PATH": "/usr/bin:/bin"}, timeout=120)  # fmt: skip
    assert str(tmp) in done.stdout
    assert list(tmp.iterdir()) == []


def test_api_down_names_the_api_and_the_tunnel(kubeconfig: Path, monkeypatch) -> None:
    from kubernetes import client

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)  # only 127.0.0.0/8 traffic, never through a proxy
    monkeypatch.setenv("NO_PROXY", "*")

    port = closed_port()
    api = kube.api_client_via(kubeconfig, ("127.0.0.1", port))
    with pytest.raises(kube.KubeApiUnreachable) as caught:
        client.CoreV1Api(api).list_namespace(_request_timeout=5)
    message = str(caught.value)
    assert "the Kubernetes API at http://10.99.0.1:6443" in message
    assert f"through the tunnel, http://127.0.0.1:{port}" in message
    assert "did not answer" in message and "MaxRetryError" not in message
    assert "sekret" not in message
