"""`kb run bastion-tunnel --profile <local sshd profile>` (issue 4, Done when).

A real OpenSSH sshd on 127.0.0.1 is the bastion; a tiny HTTP server on 127.0.0.1 stands in for the
node (it answers the ingress NodePort and the API server's ``/version`` and ``/healthz``).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from pathlib import Path

import pytest
import yaml

from platform_kb.processes import free_port, spawn, wait_for_port
from platform_kb_lab.sshd import Sshd, generate_key

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "runbooks" / "bastion-tunnel.py"

pytestmark = pytest.mark.slow

NODE_SERVER = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/version"):
            body = json.dumps({"major": "1", "minor": "30", "gitVersion": "v1.30.0"}).encode()
            kind = "application/json"
        elif self.path.startswith("/healthz"):
            body, kind = b"ok", "text/plain"
        else:
            body, kind = b"<html><body>node</body></html>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _nodeport() -> int:
    """A free port inside the NodePort range (30000-32767), as a runbook may check it."""
    for _ in range(50):
        port = free_port()
        if 30000 <= port <= 32767:
            return port
    for port in range(30000, 32768):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 30000-32767")


@pytest.fixture
def local_profile(tmp_path: Path):
    key = generate_key(tmp_path / "client_key")
    port = _nodeport()
    proc, node = spawn("node-http", [sys.executable, "-c", NODE_SERVER, str(port)], tmp_path / "node.log")
    sshd = Sshd(tmp_path / "sshd", client_keys=[key])
    try:
        wait_for_port("127.0.0.1", port, 10, proc, tmp_path / "node.log")
        sshd.start()
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(sshd.known_hosts_line() + "\n")
        profile = tmp_path / "local.yaml"
        profile.write_text(
            yaml.safe_dump(
                {
                    "bastion": {
                        "host": "127.0.0.1",
                        "port": sshd.port,
                        "user": "root" if os.geteuid() == 0 else getpass.getuser(),
                        "identity_file": str(key),
                        "known_hosts": str(known_hosts),
                        "host_key_policy": "yes",
                    },
                    "node": {"host": "127.0.0.1", "ingress_nodeport": port, "api_port": port},
                    "forwards": [
                        {"name": "ingress", "local": "127.0.0.1:0", "remote": f"node:{port}"},
                        {"name": "api", "local": "127.0.0.1:0", "remote": f"node:{port}"},
                    ],
                }
            )
        )
        yield profile
    finally:
        sshd.stop()
        node.stop()
        proc.wait(timeout=5)


def test_bastion_tunnel_runbook_through_a_local_sshd(kb, project: Path, local_profile: Path) -> None:
    result = kb("run", str(RUNBOOK), "--profile", str(local_profile), timeout=180)
    assert result.returncode == 0, result.output
    summary = json.loads((project / "runs" / "bastion-tunnel" / "latest" / "summary.json").read_text())
    assert summary["status"] == "passed"
    assert summary["parameter_sources"].get("bastion_host") == "profile"
    assert summary["steps"] and all(s["status"] in ("passed", "skipped") for s in summary["steps"])
    assert not [f for f in summary["findings"] if f["severity"] == "error"]
    notebook = (project / "runs" / "bastion-tunnel" / "latest" / "output.ipynb").read_text()
    assert "ssh " in notebook and " -L " in notebook  # the equivalent OpenSSH command line
