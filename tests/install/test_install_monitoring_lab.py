"""End to end on the lab: `kb run install-monitoring` — plan, then verification against REAL Prometheus.

The lab runs Debian's Prometheus and node-exporters (one for the node, one per lab host) and the
Grafana stand-in behind nginx (``platform_kb_lab.monitoring``). Here:

* ``--plan`` renders and checks the values, reads the hosts' facts over real SSH (ProxyJump through
  the lab's sshd), plans the cluster and the hosts, and records the exact commands — the lab hosts
  are the lab machine itself, so their changes are shown, never applied;
* ``verify_only`` reads Prometheus's targets through the tunnel: all up on ``healthy``; on
  ``exporter-down`` the desktop's exporter is not running, and the run fails with a
  ``verify-target-down`` finding that names the host, carries Prometheus's lastError and the fix.

Stand-ins seeded here (what helm would have created on the homelab): Ready pods labelled as the
charts label them, since the lab runs Prometheus and Grafana as local processes, not pods.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from platform_kb import kube
from platform_kb.install import monitoring
from platform_kb.install.monitoring.params import load_monitoring_inventory
from platform_kb.install.monitoring.verify import monitoring_selectors

from .conftest import KB, Lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]
RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
PASSWORD = "lab-grafana-Qm7v2"


def kb_run(lab: Lab, records: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {**lab.env, "GRAFANA_ADMIN_PASSWORD": PASSWORD, "COLUMNS": "200"}
    env.pop("KB_RUN_STATE", None)
    env.pop("KB_PLAN", None)
    done = subprocess.run(
        [str(KB), "run", str(RUNBOOKS / "install-monitoring.py"), "--profile", str(lab.profile),
         "--records", str(records), *args],
        capture_output=True, text=True, env=env, cwd=env["KB_ROOT"], timeout=300, check=False,
    )  # fmt: skip
    summaries = sorted((records / "install-monitoring").glob("*/summary.json"))
    assert summaries, f"no record written:\n{done.stdout}\n{done.stderr}"
    return done, json.loads(summaries[-1].read_text())


def _notebook(records: Path) -> str:
    return next((records / "install-monitoring").glob("*/output.ipynb")).read_text()


def lab_up(lab: Lab, scenario: str) -> None:
    done = subprocess.run(
        [str(KB), "lab", "up", "--scenario", scenario],
        env=lab.env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_plan_on_the_lab_reads_the_hosts_over_ssh_and_lists_exact_commands(lab: Lab, tmp_path: Path) -> None:
    done, summary = kb_run(lab, tmp_path, "--plan")
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["status"] == "passed" and summary["plan_mode"] is True
    assert [a["command_line"] for a in summary["plan"]] == [
        "helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update",
        "kubectl apply -f -",
        "helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack --version 81.4.5 "
        "--namespace monitoring --create-namespace -f kube-prometheus-stack-values.yaml",
    ]  # the lab already has namespace `monitoring`: read through kubectl, found matching, not applied
    assert all(a["status"] == "planned" for a in summary["plan"])
    assert summary["plan"][1]["manifest"]["stringData"] == {"admin-user": "***", "admin-password": "***"}
    chart_values = summary["plan"][2]["manifest"]
    server = chart_values["grafana"]["grafana.ini"]["server"]
    assert server == {
        "root_url": "http://localhost:8080/grafana/",  # the browser's address through the tunnel
        "serve_from_sub_path": True,
    }
    spec = chart_values["prometheus"]["prometheusSpec"]
    assert spec["routePrefix"] == "/prometheus"
    (job,) = spec["additionalScrapeConfigs"]
    assert job["job_name"] == "hosts"
    assert [s["labels"]["host"] for s in job["static_configs"]] == ["pve-01", "pve-02", "desktop"]
    # the lab's own Prometheus scrapes the same hosts at the same addresses
    inventory = load_monitoring_inventory(monitoring.Params(inventory=str(lab.dir / "inventory.yaml")))
    assert [s["targets"][0] for s in job["static_configs"]] == [h.target for h in inventory.hosts]
    # the hosts' facts were read over SSH; lab hosts are never changed
    notebook = _notebook(tmp_path)
    assert "호스트 상태 (읽은 사실)" in notebook and "lab (never changed)" in notebook
    assert "prometheus-node-exporter" in notebook
    ids = [f["id"] for f in summary["findings"]]
    assert "hosts-lab-refused" in ids and "hosts-blocked" not in ids
    assert [f["severity"] for f in summary["findings"] if f["severity"] == "error"] == []
    assert PASSWORD not in notebook and PASSWORD not in json.dumps(summary)
    assert next(s for s in summary["steps"] if s["name"] == "검증")["status"] == "skipped"


def test_bad_values_stop_before_any_change(lab: Lab, tmp_path: Path) -> None:
    done, summary = kb_run(
        lab, tmp_path, "-p", "grafana_root_url", "%(protocol)s://%(domain)s:%(http_port)s/"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    finding = next(f for f in summary["findings"] if f["severity"] == "error")
    assert finding["id"].startswith("values-") and "/grafana" in finding["title"] + finding["fix"]
    assert summary["actions"] == [] and summary["plan"] == []
    assert [s["name"] for s in summary["steps"]][-1] == "값 렌더링과 검사"


@pytest.fixture(scope="module")
def seeded(lab: Lab) -> Lab:
    """Ready pods labelled as kube-prometheus-stack labels them (the lab runs these as processes)."""
    from kubernetes import client

    api = client.CoreV1Api(kube.api_client(lab.kubeconfig))
    selectors = monitoring_selectors(monitoring.Params())
    for key, selector in selectors.items():
        labels = dict(pair.split("=", 1) for pair in selector.split(","))
        name = f"stand-in-{key}-0"
        api.create_namespaced_pod("monitoring", {
            "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "stand-in"}]},
        })  # fmt: skip
        api.patch_namespaced_pod_status(name, "monitoring", {
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        })  # fmt: skip
    return lab


def test_verify_on_the_lab_every_target_up(seeded: Lab, tmp_path: Path) -> None:
    done, summary = kb_run(seeded, tmp_path, "-p", "verify_only", "true", "-p", "pod_timeout", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["status"] == "passed" and summary["findings"] == []
    notebook = _notebook(tmp_path)
    for text in ("5/5 up (3 job(s))", "3/3 host(s)", "Prometheus 파드 Ready", "base href /grafana/",
                 "database ok"):  # fmt: skip
        assert text in notebook, text


@pytest.fixture
def exporter_down(seeded: Lab) -> Iterator[Lab]:
    lab_up(seeded, "exporter-down")
    try:
        yield seeded
    finally:
        lab_up(seeded, "healthy")


def test_a_host_whose_exporter_is_down_is_a_finding_with_its_fix(exporter_down: Lab, tmp_path: Path) -> None:
    done, summary = kb_run(
        exporter_down,
        tmp_path,
        "-p",
        "verify_only",
        "true",
        "-p",
        "pod_timeout",
        "10",
        "-p",
        "targets_timeout",
        "6",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert summary["status"] == "failed"
    (down,) = [f for f in summary["findings"] if f["id"] == "verify-target-down"]
    assert down["severity"] == "error"
    assert down["evidence"]["host"] == "desktop" and down["evidence"]["job"] == "hosts"
    assert "connection refused" in down["evidence"]["lastError"]
    assert "systemctl status prometheus-node-exporter" in down["fix"]
    assert "kb lab up --scenario healthy" in down["fix"]  # a lab host: how to bring it back in the lab
    others = {f["id"] for f in summary["findings"]} - {"verify-target-down"}
    assert others == {"verify-targets"}  # the summary; pve-01, pve-02, the node and Grafana are fine
