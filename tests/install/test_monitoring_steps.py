"""install-monitoring's glue with the real runbook API (in memory): FakeCluster for helm/kubectl, FakeHost for SSH."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from platform_kb import runbook
from platform_kb.install import steps, values
from platform_kb.inventory import load_inventory

from .conftest import FakeCluster
from .test_monitoring_hosts import FakeHost, Unreachable

PASSWORD = "Gr4fana-s3cret-XY"
INVENTORY = {"hosts": [{"name": "pve-01", "address": "pve-01.example.internal", "role": "proxmox"},
                       {"name": "desktop", "address": "desktop.example.internal", "user": "ops"}]}  # fmt: skip


@pytest.fixture
def params(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("GRAFANA_ADMIN_PASSWORD", PASSWORD)
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(INVENTORY))
    return {"inventory": str(path), "storage_size": "20Gi", "bastion_host": "bastion"}


def test_render_plan_apply_twice(cluster: FakeCluster, params: dict, capsys) -> None:
    rb = runbook.start("install-monitoring", plan=False, state_path=None)
    rendered = steps.render(rb, "kube-prometheus-stack", params)
    values_ = rendered.spec.release.values
    assert values_["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"][0]["job_name"] == "hosts"
    steps.apply(rb, steps.make_plan(rb, rendered, cluster.runner()), cluster.runner())
    lines = [a.command_line for a in rb.state.actions]
    assert lines == [
        "helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update",
        "kubectl apply -f -",  # Namespace monitoring
        "kubectl apply -f -",  # Secret monitoring/grafana-admin
        "helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack --version 81.4.5 "
        "--namespace monitoring --create-namespace -f kube-prometheus-stack-values.yaml",
    ]
    assert rb.state.actions[2].manifest["stringData"] == {"admin-user": "***", "admin-password": "***"}
    assert rb.state.actions[3].manifest["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    out = capsys.readouterr().out
    assert PASSWORD not in out and PASSWORD not in str(rb.state.to_json())

    again = steps.make_plan(rb, steps.render(rb, "kube-prometheus-stack", params), cluster.runner())
    assert again.changes == []


def test_parameters_include_monitoring_names() -> None:
    namespace = {"inventory": "h.yaml", "grafana_path": "/g", "host_sudo": "never", "rb": object()}
    assert steps.parameters(namespace) == {"inventory": "h.yaml", "grafana_path": "/g", "host_sudo": "never"}


def test_hosts_plan_apply_and_second_apply(params: dict, capsys) -> None:
    rb = runbook.start("install-monitoring", plan=False, state_path=None)
    inventory = steps.monitoring_inventory(params)
    fakes = {"pve-01": FakeHost(), "desktop": FakeHost(uid=1000)}
    result = steps.plan_hosts(rb, params, inventory, lambda h: fakes[h.name])
    report = steps.apply_hosts(rb, result)
    assert len(report.executed) == 10 and all(a.status == "done" for a in rb.state.actions)
    assert rb.state.actions[0].description == "pve-01: refresh the apt package index"
    assert rb.state.actions[2].manifest["path"] == "/etc/default/prometheus-node-exporter"
    assert rb.state.actions[5].command_line.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get")
    assert "호스트 변경 10개를 적용했습니다" in capsys.readouterr().out

    second = steps.plan_hosts(rb, params, inventory, lambda h: fakes[h.name])
    steps.apply_hosts(rb, second)
    assert len(rb.state.actions) == 10
    assert "변경 없음" in capsys.readouterr().out


def test_hosts_plan_mode_records_only_and_blocked_host_stops(params: dict) -> None:
    inventory = load_inventory(params["inventory"])
    planned = runbook.start("install-monitoring", plan=True, state_path=None)
    pve = FakeHost()
    result = steps.plan_hosts(
        planned, params, inventory, lambda h: pve if h.name == "pve-01" else Unreachable()
    )
    steps.apply_hosts(planned, result)
    assert {a.status for a in planned.state.actions} == {"planned"} and not pve.installed
    assert [f.id for f in planned.findings] == ["hosts-blocked"] and planned.findings[0].severity == "warning"

    real = runbook.start("install-monitoring", plan=False, state_path=None)
    result = steps.plan_hosts(real, params, inventory, lambda h: pve if h.name == "pve-01" else Unreachable())
    with pytest.raises(runbook.RunbookStopped):
        steps.apply_hosts(real, result)
    assert real.state.actions == [] and not pve.installed
    assert [f.id for f in real.errors] == ["hosts-blocked", "hosts-apply-refused"]


def test_selectors_follow_the_chart_names() -> None:
    assert steps.monitoring_selectors(values.MonitoringParams()) == {
        "operator": "app=kube-prometheus-stack-operator,release=kube-prometheus-stack",
        "prometheus": "app.kubernetes.io/name=prometheus,operator.prometheus.io/name=kube-prometheus-stack-prometheus",
        "grafana": "app.kubernetes.io/name=grafana,app.kubernetes.io/instance=kube-prometheus-stack",
    }
    other = steps.monitoring_selectors(values.MonitoringParams(release="monitoring"))  # fullname trunc 26
    assert other["prometheus"].endswith("operator.prometheus.io/name=monitoring-kube-prometheus-prometheus")


def test_verify_monitoring_without_pods(params: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = load_inventory(params["inventory"])
    from .test_monitoring_prometheus import target

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/prometheus/api/v1/targets":
            up = [target("hosts", h.target, host=h.name) for h in inventory.hosts]
            return httpx.Response(200, json={"status": "success", "data": {"activeTargets": up}})
        if path in ("/prometheus/", "/grafana/"):
            return httpx.Response(200, text="<html></html>")
        return httpx.Response(404)

    c = steps.Cluster(
        None, None, None, httpx.Client(transport=httpx.MockTransport(handler)), "http://127.0.0.1:8080"
    )
    rb = runbook.start("install-monitoring", plan=False, state_path=None)
    results = steps.verify_monitoring(rb, c, values.MonitoringParams(), {"check_pods": False}, inventory)
    ids = [(r.id, r.ok) for r in results]
    assert ids[:3] == [("ui", True), ("targets", True), ("hosts-scraped", True)]
    assert len(results) > 3  # the Grafana sub-path check (or its "not available" note) follows
