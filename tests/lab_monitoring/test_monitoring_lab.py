"""The lab's monitoring for real: Prometheus (Debian) scraping node-exporters (Debian), through nginx.

One lab for the module, driven with the ``kb`` command: ``healthy`` (every target up), the lab hosts
reached over SSH through the bastion, ``exporter-down`` (desktop's target down), back to
``healthy``, and ``kb lab down`` (no recorded process left, every port free). The tests run in file
order and share the lab.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml

from platform_kb.install.commands import Shell
from platform_kb.install.hosts import parse_os_release
from platform_kb.install.runners import BastionRunner
from platform_kb.inventory import load_inventory
from platform_kb.processes import port_open, spawn, wait_for_port
from platform_kb.profiles import load_profile
from platform_kb.scrape import host_scrape_configs

from .conftest import MonitoringLab

pytestmark = [pytest.mark.lab, pytest.mark.slow]

HOSTS = {"pve-01": "proxmox", "pve-02": "proxmox", "desktop": "desktop"}


def by_job(targets: list[dict]) -> dict[str, list[dict]]:
    jobs: dict[str, list[dict]] = {}
    for target in targets:
        jobs.setdefault(target["labels"]["job"], []).append(target)
    return jobs


def hosts_health(targets: list[dict]) -> dict[str, str]:
    return {t["labels"]["host"]: t["health"] for t in by_job(targets)["hosts"]}


def test_prometheus_scrapes_the_node_and_every_lab_host(mlab: MonitoringLab):
    s = mlab.settings
    jobs = by_job(mlab.targets())
    assert [t["labels"]["instance"] for t in jobs["node-exporter"]] == [f"{s.node}:{s.exporter_base_port}"]
    assert jobs["node-exporter"][0]["health"] == "up"
    hosts = {t["labels"]["host"]: t for t in jobs["hosts"]}
    assert set(hosts) == set(HOSTS)
    for name, target in hosts.items():
        assert target["health"] == "up", target
        assert target["labels"]["role"] == HOSTS[name]
        assert target["scrapeUrl"] == f"http://{s.node}:{s.exporter_ports()[name]}/metrics"
    assert [t["health"] for t in jobs["prometheus"]] == ["up"]


def test_prometheus_scrapes_what_the_runbook_renders(mlab: MonitoringLab):
    """The hosts job is host_scrape_configs(inventory) of the lab's inventory, unchanged."""
    import yaml

    s = mlab.settings
    config = yaml.safe_load(s.prometheus_config.read_text())
    inventory = load_inventory(s.inventory_path)
    hosts_jobs = [c for c in config["scrape_configs"] if c["job_name"] == "hosts"]
    assert hosts_jobs == host_scrape_configs(inventory)
    response = httpx.get(f"{s.ingress_url}/prometheus/api/v1/status/config", timeout=10.0, trust_env=False)
    assert response.status_code == 200
    running = yaml.safe_load(response.json()["data"]["yaml"])
    assert {c["job_name"] for c in running["scrape_configs"]} == {"prometheus", "node-exporter", "hosts"}


def test_node_exporter_serves_real_metrics(mlab: MonitoringLab):
    s = mlab.settings
    text = httpx.get(f"http://{s.node}:{s.exporter_base_port}/metrics", timeout=10.0, trust_env=False).text
    assert "node_load1 " in text and "node_memory_MemTotal_bytes " in text and "node_uname_info{" in text
    assert "node_netstat" not in text  # --collector.disable-defaults keeps it light


@pytest.fixture(scope="module")
def tunnel(mlab: MonitoringLab) -> Iterator[str]:
    """OpenSSH ``ssh -N -L <local ingress>:<node>:30998`` through the lab bastion, as in the homelab."""
    s = mlab.settings
    bastion = load_profile(str(s.profile_path)).bastion
    argv = [
        "ssh", "-N", "-p", str(bastion.port), "-i", str(bastion.identity_file),
        "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={bastion.known_hosts}",
        "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
        "-L", f"{s.local_ingress}:{s.node}:{s.ingress_port}",
        f"{bastion.user}@{bastion.host}",
    ]  # fmt: skip
    log = s.logs_dir / "test-monitoring-tunnel.log"
    proc, record = spawn("ssh-tunnel", argv, log)
    host, port = s.local_ingress.rsplit(":", 1)
    try:
        wait_for_port(host, int(port), 20, proc, log)
        yield f"http://{s.local_ingress}"
    finally:
        record.stop()
        proc.wait(timeout=5)


def test_prometheus_and_grafana_through_the_tunnel(mlab: MonitoringLab, tunnel: str):
    with httpx.Client(base_url=tunnel, timeout=10.0, trust_env=False) as http:
        root = http.get("/prometheus/")
        # the redirect keeps the route prefix (Debian's build answers /prometheus/classic/graph)
        assert root.status_code == 302 and root.headers["location"].startswith("/prometheus/")
        page = http.get(root.headers["location"])
        assert page.status_code == 200 and "Prometheus" in page.text
        assert http.get("/prometheus/-/ready").status_code == 200
        query = http.get("/prometheus/api/v1/query", params={"query": 'up{job="hosts"}'})
        assert {r["metric"]["host"]: r["value"][1] for r in query.json()["data"]["result"]} == dict.fromkeys(
            HOSTS, "1"
        )
        health = http.get("/grafana/api/health")
        assert health.status_code == 200 and health.json()["database"] == "ok"
    urls = mlab.kb("lab", "status").stdout
    assert f"{tunnel}/prometheus/" in urls and f"{tunnel}/grafana/" in urls


def test_inventory_and_ssh_to_each_lab_host_through_the_bastion(mlab: MonitoringLab):
    s = mlab.settings
    profile = load_profile(str(s.profile_path))
    assert profile.inventory == str(s.inventory_path)
    assert profile.as_parameters()["inventory"] == str(s.inventory_path)
    inventory = load_inventory(profile.inventory)
    assert {h.name: h.role for h in inventory.hosts} == HOSTS
    bastion_port = mlab.state()["bastion_port"]
    for host in inventory.hosts:
        assert host.lab and host.address == s.node and host.ssh_port == bastion_port
        assert host.target == f"{s.node}:{s.exporter_ports()[host.name]}"
        runner = BastionRunner(host.ssh_spec(profile.bastion), connect_timeout=10.0, timeout=30.0)
        try:
            result = runner.run(Shell(("echo", "ok")))
        finally:
            runner.close()
        assert result.rc == 0 and result.stdout == "ok\n"


def test_ssh_to_a_lab_host_verifies_its_host_key(mlab: MonitoringLab, tmp_path: Path):
    """Without the ``[node]:port`` line in known_hosts the connection is refused (nothing is accepted blindly)."""
    s = mlab.settings
    profile = load_profile(str(s.profile_path))
    lines = s.known_hosts.read_text().splitlines()
    assert f"[{s.node}]:{profile.bastion.port} ssh-ed25519 " in "\n".join(lines)
    only_bastion = tmp_path / "known_hosts"
    only_bastion.write_text("".join(line + "\n" for line in lines if line.startswith("[127.0.0.1]")))
    bastion = replace(profile.bastion, known_hosts=str(only_bastion))
    host = load_inventory(profile.inventory).host("pve-01")
    runner = BastionRunner(host.ssh_spec(bastion), connect_timeout=10.0, timeout=30.0)
    try:
        with pytest.raises(Exception, match=s.node):
            runner.run(Shell(("echo", "ok")))
    finally:
        runner.close()


def _local_facts() -> tuple[str, str]:
    """This machine's PRETTY_NAME and installed prometheus-node-exporter version (the lab hosts are it)."""
    pretty = parse_os_release(Path("/etc/os-release").read_text()).pretty_name
    dpkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "prometheus-node-exporter"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return pretty, dpkg.stdout.strip()


def test_kb_doctor_reads_each_hosts_os_and_node_exporter_over_ssh(mlab: MonitoringLab):
    """#3-11's assumptions (OS, Proxmox version, node-exporter version) are read on the hosts, not assumed."""
    s = mlab.settings
    done = mlab.kb("doctor", "--profile", str(s.profile_path), "--json", timeout=180)
    checks = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
    systems = checks["host-systems"]
    pretty, version = _local_facts()
    assert systems["status"] == "ok" and systems["evidence"] == {"required": False}, systems
    for name in load_inventory(str(s.inventory_path)).names():
        expected = f"{name}: {pretty}, " + (
            f"node-exporter {version}" if version else "node-exporter not installed"
        )
        assert expected in systems["detail"], systems["detail"]
    assert "Proxmox VE" not in systems["detail"]  # the lab machine has no pve-manager


def test_kb_doctor_says_when_a_host_cannot_be_read(mlab: MonitoringLab, tmp_path: Path):
    """A host whose key is not in known_hosts is reported, not guessed (and the check stays optional)."""
    s = mlab.settings
    profile_data = yaml.safe_load(s.profile_path.read_text())
    lines = s.known_hosts.read_text().splitlines()
    only_bastion = tmp_path / "known_hosts"
    only_bastion.write_text("".join(line + "\n" for line in lines if line.startswith("[127.0.0.1]")))
    profile_data["bastion"]["known_hosts"] = str(only_bastion)
    profile_data["inventory"] = str(s.inventory_path)
    if "identity_file" in profile_data["bastion"]:
        profile_data["bastion"]["identity_file"] = str(
            (s.profile_path.parent / profile_data["bastion"]["identity_file"]).resolve()
        )
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(profile_data))
    done = mlab.kb("doctor", "--profile", str(path), "--json", timeout=180)
    systems = {c["id"]: c for c in json.loads(done.stdout)["checks"]}["host-systems"]
    assert systems["status"] == "warning", systems  # a warning: the check is optional
    assert "pve-01: not read (" in systems["detail"] and s.node in systems["detail"]


def test_exporter_down_shows_the_desktop_target_down(mlab: MonitoringLab):
    s = mlab.settings
    desktop_before = mlab.records()["node-exporter-desktop"]
    result = mlab.up("exporter-down")
    assert "scenario exporter-down" in result.stdout
    records = mlab.records()
    assert "node-exporter-desktop" not in records and not desktop_before.alive()
    assert not port_open(s.node, s.exporter_ports()["desktop"])
    assert records["daemon"].alive() and "RUNNING" in result.stdout  # Spark as in healthy
    targets = by_job(mlab.targets())
    desktop = next(t for t in targets["hosts"] if t["labels"]["host"] == "desktop")
    assert desktop["health"] == "down"
    assert "connection refused" in desktop["lastError"]
    assert hosts_health(mlab.targets()) == {"pve-01": "up", "pve-02": "up", "desktop": "down"}
    assert [t["health"] for t in targets["node-exporter"]] == ["up"]
    assert load_inventory(s.inventory_path).host("desktop")  # still in the inventory and the scrape config


def test_same_scenario_again_is_a_no_op(mlab: MonitoringLab):
    before = mlab.records()
    result = mlab.up("exporter-down")
    assert "already up" in result.stderr
    assert mlab.records() == before


def test_back_to_healthy_starts_the_desktop_exporter_again(mlab: MonitoringLab):
    result = mlab.up("healthy")
    assert "scenario healthy" in result.stdout
    records = mlab.records()
    assert records["node-exporter-desktop"].alive()
    assert hosts_health(mlab.targets()) == dict.fromkeys(HOSTS, "up")


def test_switch_from_another_spark_scenario_restarts_spark_and_brings_exporters_along(mlab: MonitoringLab):
    mlab.up("proxybase-root")
    daemon = mlab.records()["daemon"]
    assert hosts_health(mlab.targets()) == dict.fromkeys(HOSTS, "up")
    mlab.up("exporter-down")  # Spark differs: the daemon restarts, and the desktop exporter stops
    records = mlab.records()
    assert records["daemon"].pid != daemon.pid and not daemon.alive()
    assert "node-exporter-desktop" not in records
    assert hosts_health(mlab.targets()) == {"pve-01": "up", "pve-02": "up", "desktop": "down"}


def test_down_stops_every_recorded_process_and_frees_the_ports(mlab: MonitoringLab):
    s = mlab.settings
    bastion_port = mlab.state()["bastion_port"]
    assert mlab.seen
    down = mlab.kb("lab", "down")
    assert down.returncode == 0, down.stderr
    alive = [f"{r.name} (pid {r.pid})" for r in mlab.seen.values() if r.alive()]
    assert not alive
    for name, port in s.node_ports().items():
        assert not port_open(s.node, port), f"{name} {s.node}:{port} still open"
    assert not port_open(s.bastion_host, bastion_port) and not port_open(s.node, bastion_port)
    for stale in (s.inventory_path, s.state_file, s.profile_path, s.known_hosts, s.run_dir):
        assert not stale.exists(), f"{stale} left behind"
    assert "not running" in mlab.kb("lab", "status").stdout
