"""kube-prometheus-stack values and the project's checks of them (render -> check, no cluster)."""

from __future__ import annotations

import pytest
import yaml

from platform_kb.errors import UsageProblem
from platform_kb.install import checking, monitoring
from platform_kb.install.monitoring.params import Params as MonitoringParams
from platform_kb.install.monitoring.values import render as render_monitoring
from platform_kb.install.secrets import resolve
from platform_kb.install.spec import DesiredSecret
from platform_kb.inventory import inventory_from_dict
from platform_kb.results import Check
from platform_kb.runner.params import build

INVENTORY = {
    "defaults": {"user": "ops", "exporter_port": 9100},
    "hosts": [
        {"name": "pve-01", "address": "pve-01.example.internal", "role": "proxmox"},
        {"name": "pve-02", "address": "pve-02.example.internal", "role": "proxmox"},
        {"name": "desktop", "address": "desktop.example.internal", "role": "desktop", "exporter_port": 9101},
    ],
}


def inv(data: dict | None = None):
    return inventory_from_dict(data or INVENTORY)


def ids(problems: list[Check], severity: str | None = None) -> list[str]:
    return [p.id for p in problems if severity is None or p.severity == severity]


def check(p: MonitoringParams, inventory=None) -> list[Check]:
    inventory = inventory if inventory is not None else inv()
    return monitoring.check(p, render_monitoring(p, inventory), inventory)


def test_pinned_chart_and_release() -> None:
    spec = render_monitoring(MonitoringParams(), inv())
    assert spec.release is not None
    assert spec.release.chart.ref == "prometheus-community/kube-prometheus-stack"
    assert spec.release.chart.version == monitoring.chart.CHART.version == "81.4.5"
    assert spec.release.chart.repo_url == "https://prometheus-community.github.io/helm-charts"
    assert (spec.release.name, spec.release.namespace) == ("kube-prometheus-stack", "monitoring")


def test_values_paths_retention_and_scrape_configs() -> None:
    spec = render_monitoring(MonitoringParams(storage_class="local-path", storage_size="50Gi",
                                              retention_size="40GB"), inv())  # fmt: skip
    v = yaml.safe_load(spec.release.values_yaml)
    assert v["grafana"]["grafana.ini"]["server"] == {
        "root_url": "http://localhost:8080/grafana/",
        "serve_from_sub_path": True,
    }
    assert v["grafana"]["ingress"] == {"enabled": True, "ingressClassName": "nginx", "hosts": [],
                                       "path": "/grafana", "pathType": "Prefix"}  # fmt: skip
    assert v["grafana"]["serviceMonitor"] == {"path": "/grafana/metrics"}
    assert v["prometheus"]["ingress"]["paths"] == ["/prometheus"]
    spec_ = v["prometheus"]["prometheusSpec"]
    assert spec_["routePrefix"] == "/prometheus"
    assert spec_["externalUrl"] == "http://localhost:8080/prometheus"
    assert (spec_["retention"], spec_["retentionSize"]) == ("15d", "40GB")
    assert spec_["storageSpec"] == {"volumeClaimTemplate": {"spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}},
        "storageClassName": "local-path"}}}  # fmt: skip
    assert spec_["additionalScrapeConfigs"] == [
        {
            "job_name": "hosts",
            "static_configs": [
                {
                    "targets": ["pve-01.example.internal:9100"],
                    "labels": {"host": "pve-01", "role": "proxmox"},
                },
                {
                    "targets": ["pve-02.example.internal:9100"],
                    "labels": {"host": "pve-02", "role": "proxmox"},
                },
                {
                    "targets": ["desktop.example.internal:9101"],
                    "labels": {"host": "desktop", "role": "desktop"},
                },
            ],
        }
    ]
    assert v["nodeExporter"] == {"enabled": True}
    assert monitoring.check(MonitoringParams(storage_class="local-path", storage_size="50Gi",
                                                    retention_size="40GB"), spec, inv()) == []  # fmt: skip


def test_credentials_only_by_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFANA_ADMIN_PASSWORD", "Gr4fana-s3cret-XY")
    spec = render_monitoring(MonitoringParams(grafana_admin_user="ops-admin"), inv())
    assert "Gr4fana-s3cret-XY" not in spec.release.values_yaml
    assert spec.release.values["grafana"]["admin"] == {
        "existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}  # fmt: skip
    secret = spec.objects[1]
    assert isinstance(secret, DesiredSecret)
    assert secret.placeholder_manifest()["stringData"] == {"admin-user": "***", "admin-password": "***"}
    built = secret.materialize(resolve)
    assert built is not None
    manifest, secrets = built
    assert manifest["stringData"] == {"admin-user": "ops-admin", "admin-password": "Gr4fana-s3cret-XY"}
    assert secrets == ("Gr4fana-s3cret-XY",)  # the user name is not masked (it would mask every "ops-admin")


def test_inventory_from_the_path_and_subset(tmp_path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(INVENTORY))
    spec = render_monitoring(MonitoringParams(inventory=str(path), hosts="desktop"))
    (job,) = spec.release.values["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
    assert [s["labels"]["host"] for s in job["static_configs"]] == ["desktop"]
    with pytest.raises(UsageProblem, match="not in the inventory"):
        render_monitoring(MonitoringParams(inventory=str(path), hosts="nope"))
    with pytest.raises(UsageProblem, match="no inventory"):
        render_monitoring(MonitoringParams(hosts="desktop"))


def test_no_inventory_renders_without_scrape_configs_and_warns() -> None:
    p = MonitoringParams()
    spec = render_monitoring(p)
    assert "additionalScrapeConfigs" not in spec.release.values["prometheus"]["prometheusSpec"]
    assert ids(monitoring.check(p, spec), "warning") == ["storage-emptydir", "no-inventory"]


# --- checks ---------------------------------------------------------------------------------------------
def test_unknown_keys_with_suggestions() -> None:
    p = MonitoringParams(extra_values={
        "prometheus": {"prometheusSpec": {"retension": "30d", "storageSpec": {"volumeClaimTemplates": {}}}},
        "grafana": {"ingres": {"enabled": True}, "grafana.ini": {"servr": {}, "auth": {"disable_login_form": False}},
                    "persistence": {"enabled": True}},
        "nodeExporters": {"enabled": False},
    })  # fmt: skip
    problems = [x for x in check(p) if x.id == "unknown-key"]
    assert {x.title.split("`")[1]: x.fix for x in problems} == {
        "prometheus.prometheusSpec.retension": "did you mean `prometheus.prometheusSpec.retention`?",
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplates":
            "did you mean `prometheus.prometheusSpec.storageSpec.volumeClaimTemplate`?",
        "grafana.ingres": "did you mean `grafana.ingress`?",
        "grafana.grafana.ini.servr": "did you mean `grafana.grafana.ini.server`?",
        "nodeExporters": "did you mean `nodeExporter`?",
    }  # fmt: skip
    # grafana.persistence and grafana.ini's other sections are the subchart's / Grafana's own: free-form


def test_root_url_path_differs_from_grafana_path() -> None:
    problems = check(
        MonitoringParams(grafana_path="/dashboards", grafana_root_url="http://localhost:8080/grafana/")
    )
    (p,) = [x for x in problems if x.id == "grafana-root-url"]
    assert "'/grafana/'" in p.title and "/dashboards" in p.title
    assert p.fix == "grafana_root_url=http://localhost:8080/dashboards/ (or leave grafana_root_url empty)"
    # empty grafana_root_url follows grafana_path: no problem
    assert "grafana-root-url" not in ids(check(MonitoringParams(grafana_path="/dashboards")))
    assert "grafana-root-url" not in ids(
        check(
            MonitoringParams(grafana_path="/dashboards", grafana_root_url="http://localhost:8080/dashboards/")
        )
    )


def test_serve_from_sub_path_false_without_rewrite() -> None:
    problems = check(MonitoringParams(serve_from_sub_path=False))
    (p,) = [x for x in problems if x.id == "grafana-sub-path"]
    assert "does not strip /grafana" in p.title and "serve_from_sub_path=true" in p.fix
    rewritten = MonitoringParams(serve_from_sub_path=False, extra_values={"grafana": {"ingress": {"annotations": {
        "nginx.ingress.kubernetes.io/rewrite-target": "/$2"}}}})  # fmt: skip
    assert "grafana-sub-path" not in ids(check(rewritten))
    both = MonitoringParams(extra_values=rewritten.extra_values)
    assert "grafana-double-prefix" in ids(check(both))


def test_prometheus_route_prefix_and_ingress_path() -> None:
    p = MonitoringParams(extra_values={"prometheus": {"prometheusSpec": {"routePrefix": "/prom"}}})
    found = ids(check(p))
    assert "prometheus-route-prefix" in found and "prometheus-ingress-path" in found
    assert "prometheus-external-url" in found  # externalUrl /prometheus vs routePrefix /prom
    assert "external-url-base" in ids(check(MonitoringParams(external_url_base="http://localhost:8080/x")))
    assert "paths-collide" in ids(check(MonitoringParams(prometheus_path="/grafana")))


def test_literal_admin_password_and_refs() -> None:
    p = MonitoringParams(extra_values={"grafana": {"adminPassword": "hunter2hunter2"}})
    (lit,) = [x for x in check(p) if x.id == "literal-secret"]
    assert "grafana.adminPassword" in lit.title and "grafana_admin_password_ref" in lit.fix
    assert "secret-literal" in ids(check(MonitoringParams(grafana_admin_password_ref="hunter2")))
    assert "grafana-admin-secret" in ids(check(MonitoringParams(extra_values={"grafana": {"admin": {
        "existingSecret": "other"}}})))  # fmt: skip


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("retention", "15 days", "retention"),
    ("retention", "", "retention"),
    ("retention_size", "40G", "retention-size"),
    ("storage_size", "fifty", "storage"),
    ("storage_class", "local-path", "storage"),
    ("hosts_job", "node-exporter", "hosts-job"),
    ("hosts_scrape_interval", "1 minute", "hosts-scrape-interval"),
])  # fmt: skip
def test_bad_retention_storage_and_jobs(field: str, value: str, problem: str) -> None:
    assert problem in ids(check(MonitoringParams(**{field: value})), "error")


def test_retention_size_without_headroom_warns() -> None:
    problems = check(MonitoringParams(storage_size="50Gi", retention_size="50GiB"))
    assert ids(problems, "warning") == ["retention-size"]
    assert ids(check(MonitoringParams(storage_size="50Gi", retention_size="40GiB"))) == []


def test_exporter_port_collisions() -> None:
    data = {"hosts": [
        {"name": "pve-01", "address": "pve-01.example.internal", "role": "proxmox", "exporter_port": 8006},
        {"name": "desk", "address": "desk.example.internal", "ssh_port": 2222, "exporter_port": 2222},
        {"name": "desk-again", "address": "desk.example.internal", "exporter_port": 9100},
    ]}  # fmt: skip
    problems = check(MonitoringParams(), inv(data))
    ports = [x.title for x in problems if x.id == "exporter-port"]
    assert ports == ["host pve-01: exporter_port 8006 is taken by pveproxy on a Proxmox VE host",
                     "host desk: exporter_port 2222 is its SSH port"]  # fmt: skip
    assert "host-twice" in ids(problems, "warning")


def test_duplicate_scrape_job_names() -> None:
    extra = {
        "prometheus": {
            "prometheusSpec": {"additionalScrapeConfigs": [{"job_name": "hosts"}, {"job_name": "hosts"}]}
        }
    }
    assert "scrape-job-duplicate" in ids(check(MonitoringParams(extra_values=extra)))


def test_ensure_ok_stops_before_any_change() -> None:
    with pytest.raises(UsageProblem, match="grafana-root-url"):
        checking.ensure_ok(
            check(MonitoringParams(grafana_path="/g", grafana_root_url="http://localhost:8080/grafana/")),
            "kube-prometheus-stack",
        )


# --- Grafana root_url: the browser's address through the tunnel (grafana/grafana #15497, #10007) -----
def _homelab_parameters() -> dict:
    """The install-monitoring runbook's defaults overlaid with the homelab example profile (as kb run does)."""
    from pathlib import Path

    import jupytext

    from platform_kb.profiles import profile_from_dict
    from platform_kb.runner.params import parse_parameters

    repo = Path(__file__).resolve().parents[2]
    runbook = jupytext.read(repo / "runbooks" / "install-monitoring.py")
    defaults = {spec.name: spec.default for spec in parse_parameters(runbook)}
    example = repo / "profiles" / "homelab.example.yaml"
    profile = profile_from_dict(
        yaml.safe_load(example.read_text(encoding="utf-8")), "homelab", example.parent
    )
    return {**defaults, **profile.as_parameters()}


def test_homelab_profile_renders_root_url_as_the_browser_address_through_the_tunnel() -> None:
    params = build(MonitoringParams, _homelab_parameters())
    spec = render_monitoring(params, inv())
    server = spec.release.values["grafana"]["grafana.ini"]["server"]
    # the profile forwards 127.0.0.1:8080 -> node:30998; the browser opens http://localhost:8080/grafana/
    assert server == {"root_url": "http://localhost:8080/grafana/", "serve_from_sub_path": True}
    # the same origin as Prometheus' externalUrl: both are what the browser uses
    assert (
        spec.release.values["prometheus"]["prometheusSpec"]["externalUrl"]
        == "http://localhost:8080/prometheus"
    )
    assert not [p for p in monitoring.check(params, spec, inv()) if p.severity == "error"]


def test_the_lab_runs_the_grafana_stand_in_with_the_rendered_root_url(tmp_path) -> None:
    from platform_kb_lab.config import LabSettings
    from platform_kb_lab.monitoring import grafana_argv

    settings = LabSettings(root=tmp_path, node="127.0.6.9", local_ingress="127.0.0.1:18080")
    argv = grafana_argv(settings, "python")
    rendered = render_monitoring(MonitoringParams(external_url_base="http://127.0.0.1:18080"), inv())
    server = rendered.release.values["grafana"]["grafana.ini"]["server"]
    assert argv[argv.index("--root-url") + 1] == server["root_url"] == "http://127.0.0.1:18080/grafana/"
    assert argv[argv.index("--serve-from-sub-path") + 1] == "true"


def test_tutorial_root_url_leaves_the_tunnel() -> None:
    """``%(http_port)s`` expands to Grafana's own 3000, not the tunnel's 8080: an error naming both."""
    problems = check(MonitoringParams(grafana_root_url="%(protocol)s://%(domain)s:%(http_port)s/grafana/"))
    (p,) = [x for x in problems if x.id == "grafana-root-url-origin"]
    assert p.severity == "error" and "http://localhost:3000" in p.title and "http://localhost:8080" in p.title
    assert p.fix.startswith("grafana_root_url=http://localhost:8080/grafana/")
