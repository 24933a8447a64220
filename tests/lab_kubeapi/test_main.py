"""``python -m platform_kb_lab.kubeapi`` serves until stopped, with seeds and a kubeconfig."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from platform_kb.processes import free_port, port_open, spawn, wait_for_port, wait_until
from platform_kb_lab.kubeapi.__main__ import main


def test_module_entry_serves_seeds_and_stops(tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata:\n  name: long-test\n"
        "  namespace: spark\nspec:\n  type: Python\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: spark\n"
    )
    argv = [
        sys.executable,
        "-m",
        "platform_kb_lab.kubeapi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--seed",
        str(seed),
        "--kubeconfig",
        str(tmp_path / "kubeconfig"),
    ]
    proc, record = spawn("kubeapi", argv, tmp_path / "kubeapi.log")
    try:
        wait_for_port("127.0.0.1", port, 30, proc, tmp_path / "kubeapi.log")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, verify=False) as http:
            names = [n["metadata"]["name"] for n in http.get("/api/v1/namespaces").json()["items"]]
            assert names == ["default", "kube-node-lease", "kube-public", "kube-system", "spark"]
            app = http.get("/apis/sparkoperator.k8s.io/v1beta2/namespaces/spark/sparkapplications/long-test")
            assert app.status_code == 200 and app.json()["spec"]["type"] == "Python"
        config = yaml.safe_load((tmp_path / "kubeconfig").read_text())
        assert config["clusters"][0]["cluster"]["server"] == f"http://127.0.0.1:{port}"
    finally:
        assert record.stop(timeout=10)
    assert proc.wait(5) == 0
    assert wait_until(lambda: not port_open("127.0.0.1", port), 5)
    assert "listening on http://127.0.0.1:" in (tmp_path / "kubeapi.log").read_text()


def test_module_entry_reports_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["--host", "127.0.0.1", "--port", str(taken.getsockname()[1])]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
