"""install-monitoring's glue with the real runbook API (in memory): FakeCluster for helm/kubectl, FakeHost for SSH."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from platform_kb import runbook
from platform_kb.install import monitoring, pipeline
from platform_kb.install.connect import Cluster
from platform_kb.install.monitoring import nodes
from platform_kb.install.monitoring.params import load_monitoring_inventory
from platform_kb.install.monitoring.verify import monitoring_selectors, verify_monitoring
from platform_kb.inventory import load_inventory
from platform_kb.probes import Prober
from platform_kb.runner.params import build

from .conftest import FakeCluster
from .test_monitoring_hosts import FakeHost, Unreachable

PASSWORD = "Gr4fana-s3cret-XY"
INVENTORY = {"hosts": [{"name": "pve-01", "address": "pve-01.example.internal", "role": "proxmox"},
                       {"name": "desktop", "address": "desktop.example.internal", "user": "ops"}]}  # fmt: skip


@pytest.fixture
def params(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> monitoring.Params:
    monkeypatch.setenv("GRAFANA_ADMIN_PASSWORD", PASSWORD)
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(INVENTORY))
    return monitoring.Params(inventory=str(path), storage_size="20Gi", bastion_host="bastion")


def test_render_plan_apply_twice(cluster: FakeCluster, params: monitoring.Params, capsys) -> None:
    rb = runbook.start("install-monitoring", plan=False, state_path=None)
    rendered = pipeline.render(rb, monitoring.COMPONENT, params)
    values_ = rendered.spec.release.values
    assert values_["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"][0]["job_name"] == "hosts"
    pipeline.apply(rb, pipeline.make_plan(rb, rendered, cluster.runner()), cluster.runner())
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

    again = pipeline.make_plan(rb, pipeline.render(rb, monitoring.COMPONENT, params), cluster.runner())
    assert again.changes == []


def test_params_are_built_from_the_kernel_globals() -> None:
    namespace = {"inventory": "h.yaml", "grafana_path": "/g", "host_sudo": "never", "rb": object()}
    p = build(monitoring.Params, namespace)
    assert (p.inventory, p.grafana_path, p.host_sudo, p.retention) == ("h.yaml", "/g", "never", "15d")


def test_hosts_plan_apply_and_second_apply(params: monitoring.Params, capsys) -> None:
    rb = runbook.start("install-monitoring", plan=False, state_path=None)
    inventory = load_monitoring_inventory(params)
    fakes = {"pve-01": FakeHost(), "desktop": FakeHost(uid=1000)}
    result = nodes.plan_hosts(rb, params, inventory, lambda h: fakes[h.name])
    report = nodes.apply_hosts(rb, result)
    assert len(report.executed) == 10 and all(a.status == "done" for a in rb.state.actions)
    assert rb.state.actions[0].description == "pve-01: refresh the apt package index"
    assert rb.state.actions[2].manifest["path"] == "/etc/default/prometheus-node-exporter"
    assert rb.state.actions[5].command_line.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get")
    assert "호스트 변경 10개를 적용했습니다" in capsys.readouterr().out

    second = nodes.plan_hosts(rb, params, inventory, lambda h: fakes[h.name])
    nodes.apply_hosts(rb, second)
    assert len(rb.state.actions) == 10
    assert "변경 없음" in capsys.readouterr().out


def test_hosts_plan_mode_records_only_and_blocked_host_stops(params: monitoring.Params) -> None:
    inventory = load_inventory(params.inventory)
    planned = runbook.start("install-monitoring", plan=True, state_path=None)
    pve = FakeHost()
    result = nodes.plan_hosts(
        planned, params, inventory, lambda h: pve if h.name == "pve-01" else Unreachable()
    )
    nodes.apply_hosts(planned, result)
    assert {a.status for a in planned.state.actions} == {"planned"} and not pve.installed
    assert [f.id for f in planned.findings] == ["hosts-blocked"] and planned.findings[0].severity == "warning"

    real = runbook.start("install-monitoring", plan=False, state_path=None)
    result = nodes.plan_hosts(real, params, inventory, lambda h: pve if h.name == "pve-01" else Unreachable())
    with pytest.raises(runbook.RunbookStopped):
        nodes.apply_hosts(real, result)
    assert real.state.actions == [] and not pve.installed
    assert [f.id for f in real.errors] == ["hosts-blocked", "hosts-apply-refused"]


def test_selectors_follow_the_chart_names() -> None:
    assert monitoring_selectors(monitoring.Params()) == {
        "operator": "app=kube-prometheus-stack-operator,release=kube-prometheus-stack",
        "prometheus": "app.kubernetes.io/name=prometheus,operator.prometheus.io/name=kube-prometheus-stack-prometheus",
        "grafana": "app.kubernetes.io/name=grafana,app.kubernetes.io/instance=kube-prometheus-stack",
    }
    other = monitoring_selectors(monitoring.Params(release="monitoring"))  # fullname trunc 26
    assert other["prometheus"].endswith("operator.prometheus.io/name=monitoring-kube-prometheus-prometheus")


def test_verify_monitoring_without_pods(params: monitoring.Params, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = load_inventory(params.inventory)
    from .test_monitoring_prometheus import target

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/prometheus/api/v1/targets":
            up = [target("hosts", h.target, host=h.name) for h in inventory.hosts]
            return httpx.Response(200, json={"status": "success", "data": {"activeTargets": up}})
        if path in ("/prometheus/", "/grafana/"):
            page = f'<html><head><link rel="stylesheet" href="{path}app.css"></head></html>'
            return httpx.Response(200, text=page, headers={"content-type": "text/html"})
        if path.endswith("/app.css"):
            return httpx.Response(200, text="a{}", headers={"content-type": "text/css"})
        return httpx.Response(404)

    transport = httpx.MockTransport(handler)
    c = Cluster(
        None, None, None, httpx.Client(transport=transport), "http://127.0.0.1:8080",
        prober=Prober(transport=transport),
    )  # fmt: skip
    rb = runbook.start("install-monitoring", plan=False, state_path=None)
    results = verify_monitoring(rb, c, monitoring.Params(check_pods=False), inventory)
    ids = [(r.id, r.ok) for r in results]
    assert ids[:3] == [("ui", True), ("targets", True), ("hosts-scraped", True)]
    assert len(results) > 3  # the Grafana sub-path check (or its "not available" note) follows
