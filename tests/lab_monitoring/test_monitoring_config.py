"""The monitoring side of the lab without starting it: settings, inventory, Prometheus config, objects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from platform_kb.errors import MissingPrerequisite, UsageProblem
from platform_kb.inventory import inventory_from_dict
from platform_kb.scrape import host_scrape_configs
from platform_kb_lab import monitoring
from platform_kb_lab.config import LAB_HOSTS, LabSettings
from platform_kb_lab.ingress import build_config
from platform_kb_lab.scenarios import SCENARIOS, get_scenario
from platform_kb_lab.sshd import Sshd
from platform_kb_lab.state import lab_urls

from ..prereq import missing, unless


def settings(tmp_path: Path, **kw) -> LabSettings:
    return LabSettings(root=tmp_path, node="127.0.6.9", local_ingress="127.0.0.1:18080", **kw)


def test_node_ports_include_prometheus_grafana_and_one_exporter_per_host(tmp_path):
    s = settings(tmp_path, exporter_base_port=9200)
    ports = s.node_ports()
    assert ports["prometheus"] == 9090 and ports["grafana"] == 3000
    assert s.exporter_ports() == {"node": 9200, "pve-01": 9201, "pve-02": 9202, "desktop": 9203}
    assert {p for n, p in ports.items() if n.startswith("node-exporter")} == {9200, 9201, 9202, 9203}
    assert len(set(ports.values())) == len(ports)


def test_ports_from_the_environment(tmp_path):
    env = {"KB_LAB_DIR": str(tmp_path), "KB_LAB_PROMETHEUS_PORT": "19090", "KB_LAB_GRAFANA_PORT": "13000",
           "KB_LAB_EXPORTER_PORT": "19100"}  # fmt: skip
    s = LabSettings.from_env(env)
    assert (s.prometheus_port, s.grafana_port, s.exporter_base_port) == (19090, 13000, 19100)
    assert LabSettings.from_json(s.to_json()) == s
    for bad in ({"KB_LAB_PROMETHEUS_PORT": "ninety"}, {"KB_LAB_EXPORTER_PORT": "65534"}):
        with pytest.raises(UsageProblem):
            LabSettings.from_env({"KB_LAB_DIR": str(tmp_path), **bad})


def test_lab_inventory_is_valid_and_targets_the_exporters(tmp_path):
    s = settings(tmp_path)
    data = monitoring.lab_inventory(s, ssh_port=2222, user="ops")
    inventory = inventory_from_dict(data)
    assert inventory.names() == [h.name for h in LAB_HOSTS] == ["pve-01", "pve-02", "desktop"]
    for host in inventory.hosts:
        assert host.lab and host.user == "ops" and (host.address, host.ssh_port) == ("127.0.6.9", 2222)
        assert host.target == f"127.0.6.9:{s.exporter_ports()[host.name]}"
    assert [h.role for h in inventory.hosts] == ["proxmox", "proxmox", "desktop"]


def test_prometheus_config_is_itself_the_node_and_the_rendered_hosts(tmp_path):
    s = settings(tmp_path)
    inventory = inventory_from_dict(monitoring.lab_inventory(s, ssh_port=2222, user="ops"))
    config = monitoring.prometheus_config(s, inventory)
    assert config["global"]["scrape_interval"] == "2s"
    jobs = config["scrape_configs"]
    assert jobs[0] == {
        "job_name": "prometheus",
        "metrics_path": "/prometheus/metrics",
        "static_configs": [{"targets": ["127.0.6.9:9090"]}],
    }
    assert jobs[1] == {"job_name": "node-exporter", "static_configs": [{"targets": ["127.0.6.9:9100"]}]}
    assert jobs[2:] == host_scrape_configs(inventory)


@unless(shutil.which("prometheus") or Path("/usr/bin/prometheus").exists(), "prometheus (Debian package)")
def test_prometheus_argv_serves_under_the_ingress_prefix(tmp_path):
    argv = monitoring.prometheus_argv(settings(tmp_path))
    assert "--web.route-prefix=/prometheus" in argv
    assert "--web.external-url=http://127.0.0.1:18080/prometheus" in argv
    assert "--web.listen-address=127.0.6.9:9090" in argv


def test_missing_binaries_name_the_debian_packages(monkeypatch):
    monkeypatch.setattr(monitoring, "PROMETHEUS_CANDIDATES", ("/nonexistent/prometheus",))
    monkeypatch.setattr(monitoring, "EXPORTER_CANDIDATES", ("/nonexistent/node-exporter",))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingPrerequisite, match="Debian package prometheus "):
        monitoring.find_prometheus()
    with pytest.raises(MissingPrerequisite, match="Debian package prometheus-node-exporter "):
        monitoring.find_node_exporter()
    assert len(monitoring.check_monitoring_prerequisites()) == 2


def test_ingresses_expose_prometheus_and_grafana_under_their_prefix_without_rewrite(tmp_path):
    s = settings(tmp_path)
    objects = monitoring.monitoring_objects(s)
    by_kind: dict[str, list[dict]] = {}
    for plural, obj in objects:
        by_kind.setdefault(plural, []).append(obj)
        assert obj["metadata"]["namespace"] == "monitoring"
    paths = {}
    for ingress in by_kind["ingresses"]:
        assert "annotations" not in ingress["metadata"] and ingress["spec"]["ingressClassName"] == "nginx"
        (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
        assert path["pathType"] == "Prefix"
        paths[path["path"]] = path["backend"]["service"]["name"]
    assert paths == {
        "/prometheus": "kube-prometheus-stack-prometheus",
        "/grafana": "kube-prometheus-stack-grafana",
    }
    config = build_config(by_kind["ingresses"], by_kind["services"], by_kind["endpoints"])
    (server,) = config.servers
    served = {loc.match: (loc.rewrite_target, loc.status) for loc in server.locations}
    assert served["/prometheus/"] == ("", None) and served["= /prometheus"] == ("", None)
    assert served["/grafana/"] == ("", None)
    upstreams = {u.servers for u in config.upstreams}
    assert (("127.0.6.9", 9090),) in upstreams and (("127.0.6.9", 3000),) in upstreams


def test_exporter_down_scenario_and_the_issue_scenarios():
    assert {"healthy", "suffix-mismatch", "proxybase-root", "driver-finished", "missing-rewrite",
            "proxybase-mismatch"} < set(SCENARIOS)  # fmt: skip
    down = get_scenario("exporter-down")
    assert down.exporters_down == ("desktop",)
    assert down.spark_part() == get_scenario("healthy").spark_part()
    names = {h.name for h in LAB_HOSTS}
    for scenario in SCENARIOS.values():
        assert set(scenario.exporters_down) <= names, scenario.name
    assert monitoring.running_exporters(down.exporters_down) == ("node", "pve-01", "pve-02")


def test_urls_via_the_tunnel(tmp_path):
    urls = lab_urls(settings(tmp_path), 2222, {})
    assert urls["Prometheus (via tunnel)"] == "http://127.0.0.1:18080/prometheus/"
    assert urls["Grafana (via tunnel)"] == "http://127.0.0.1:18080/grafana/"


def test_sshd_listens_on_extra_addresses_and_names_each_in_known_hosts(tmp_path):
    if not shutil.which("ssh-keygen"):
        missing("ssh-keygen")
    sshd = Sshd(tmp_path / "sshd", host="127.0.0.1", extra_hosts=["127.0.6.9", "127.0.0.1"])
    sshd.prepare()
    text = sshd.config_path.read_text()
    assert "ListenAddress 127.0.0.1\nListenAddress 127.0.6.9\n" in text
    lines = sshd.known_hosts_lines()
    assert [line.split()[0] for line in lines] == [f"[127.0.0.1]:{sshd.port}", f"[127.0.6.9]:{sshd.port}"]
    assert len({line.split(None, 1)[1] for line in lines}) == 1  # the same host key


def test_up_refuses_a_busy_monitoring_port_and_leaves_nothing(tmp_path: Path) -> None:
    """A port of the node taken by another program (here Prometheus's): `up` names it, starts nothing."""
    import socket
    import subprocess

    from .conftest import KB, env_of, pick_settings

    settings = pick_settings(tmp_path / "lab", start=200)
    with socket.socket() as busy:
        busy.bind((settings.node, settings.prometheus_port))
        busy.listen()
        done = subprocess.run([KB, "lab", "up"], env=env_of(settings), capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"prometheus {settings.node}:{settings.prometheus_port}" in done.stderr
    assert "already in use" in done.stderr
    assert not settings.state_file.exists()  # nothing recorded: nothing was started
