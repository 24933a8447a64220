"""The lab's monitoring: real node-exporters and a real Prometheus, a Grafana stand-in, the lab hosts.

Where this sits: ``kb lab up`` (:mod:`platform_kb_lab.manager`) writes the lab's host inventory
(:func:`write_lab_inventory`), starts Prometheus (Debian ``prometheus``) and the Grafana stand-in
(``python -m platform_kb_lab.grafana``) with the other long-lived processes, brings the
node-exporters (Debian ``prometheus-node-exporter``) to the scenario's state and, once the lab API
is up, creates their Services, Endpoints and Ingresses (:func:`monitoring_objects`). Before ``up``
returns it waits (:func:`wait_monitoring`) until Prometheus is ready and has scraped every target
with the health the scenario expects, so what follows ``kb lab up`` is deterministic.

What stands in for what:

* the cluster node's node-exporter (kube-prometheus-stack's DaemonSet) is one exporter on
  ``node:exporter_base_port``, scraped as job ``node-exporter`` — the job name its ServiceMonitor
  gives (prometheus-community/helm-charts ``charts/kube-prometheus-stack/values.yaml``,
  ``prometheus-node-exporter.prometheus.monitor``, job label ``node-exporter``);
* the homelab's hosts outside the cluster (:data:`~platform_kb_lab.config.LAB_HOSTS`: two Proxmox
  hosts and the desktop) are one exporter each on ``node:exporter_base_port+1..``, scraped with the
  configuration the runbook renders (:func:`platform_kb.scrape.host_scrape_configs`, job
  ``hosts``); over SSH they are the node address at the bastion's port (the bastion sshd also
  listens there), reached with ``ProxyJump`` through the bastion, and marked ``lab: true``;
* Prometheus serves under ``--web.route-prefix=/prometheus`` with ``--web.external-url`` on the
  tunnel's local address, as kube-prometheus-stack's ``prometheus.prometheusSpec.routePrefix`` and
  ``externalUrl`` do; its Ingress is ``/prometheus`` (``pathType: Prefix``) without rewrite;
* Grafana (no Debian package here) is a stand-in run with the ``[server]`` values the runbook renders
  (:func:`platform_kb.install.monitoring.values.render` with ``external_url_base`` = the tunnel's local
  address, so ``root_url=http://<local>/grafana/`` and ``serve_from_sub_path=true``); its Ingress is ``/grafana`` (``Prefix``) without rewrite, as
  Grafana's "Run Grafana behind a reverse proxy" guide prescribes for ``serve_from_sub_path``.

Ingress semantics (kubernetes/ingress-nginx ``docs/user-guide/ingress-path-matching.md``):
``pathType: Prefix`` ``/prometheus`` matches ``/prometheus`` and ``/prometheus/...``; without
``rewrite-target`` the backend receives the path unchanged, which is what a server with a route
prefix or ``serve_from_sub_path`` expects. Services follow kube-prometheus-stack's names for a
release called ``kube-prometheus-stack`` (``templates/prometheus/service.yaml``: port ``http-web``
9090; the grafana subchart's Service: port ``http-web`` 80 → 3000).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from platform_kb.errors import KbError, MissingPrerequisite
from platform_kb.install.monitoring.params import Params as MonitoringParams
from platform_kb.install.monitoring.values import render as render_monitoring
from platform_kb.inventory import Inventory, load_inventory, write_inventory
from platform_kb.processes import ProcessRecord, find_program, port_open, spawn, wait_for_port, wait_until
from platform_kb.scrape import CLUSTER_NODES_JOB, HOST_LABEL, HOSTS_JOB, host_scrape_configs

from .config import LAB_HOSTS, LabSettings

NAMESPACE = "monitoring"
RELEASE = "kube-prometheus-stack"
PROMETHEUS_SERVICE = f"{RELEASE}-prometheus"
GRAFANA_SERVICE = f"{RELEASE}-grafana"
PROMETHEUS_PATH = "/prometheus"
GRAFANA_PATH = "/grafana"
SERVICE_PORT_NAME = "http-web"
PROMETHEUS_SERVICE_PORT = 9090
GRAFANA_SERVICE_PORT = 80

PROMETHEUS = "prometheus"  # process names in state.json
GRAFANA = "grafana"
NODE_EXPORTER = "node-exporter"
NODE = "node"  # the exporter of the cluster node, in LabSettings.exporter_ports()

SCRAPE_INTERVAL = "2s"
SCRAPE_TIMEOUT = "2s"  # may not exceed the interval
RETENTION = "2h"
EXPORTER_COLLECTORS = ("cpu", "meminfo", "loadavg", "filesystem", "uname", "time")

PROMETHEUS_CANDIDATES = ("/usr/bin/prometheus",)
EXPORTER_CANDIDATES = ("/usr/bin/prometheus-node-exporter",)


def find_prometheus() -> str:
    return find_program(PROMETHEUS_CANDIDATES, "prometheus", "prometheus")


def find_node_exporter() -> str:
    return find_program(EXPORTER_CANDIDATES, "prometheus-node-exporter", "prometheus-node-exporter")


def exporter_process(name: str) -> str:
    """The process name of an exporter: ``node-exporter`` (the node) or ``node-exporter-<host>``."""
    return NODE_EXPORTER if name == NODE else f"{NODE_EXPORTER}-{name}"


def exporter_processes(settings: LabSettings) -> tuple[str, ...]:
    return tuple(exporter_process(name) for name in settings.exporter_ports())


def running_exporters(down: Iterable[str]) -> tuple[str, ...]:
    """Names of the exporters a scenario runs (``node`` and every lab host not in ``down``)."""
    skipped = set(down)
    return (NODE, *(h.name for h in LAB_HOSTS if h.name not in skipped))


# ---------------------------------------------------------------------------- inventory


def lab_inventory(settings: LabSettings, ssh_port: int, user: str | None = None) -> dict[str, Any]:
    """The lab's hosts as an inventory: SSH to node:<bastion port>, exporters on node:<their port>."""
    user = user or pwd.getpwuid(os.geteuid()).pw_name
    ports = settings.exporter_ports()
    return {
        "description": "The local lab's hosts (kb lab up): node-exporters on the node address, "
        "SSH through the lab bastion.",
        "hosts": [
            {
                "name": host.name,
                "address": settings.node,
                "ssh_port": ssh_port,
                "user": user,
                "exporter_address": settings.node,
                "exporter_port": ports[host.name],
                "role": host.role,
                "lab": True,
            }
            for host in LAB_HOSTS
        ],
    }


def write_lab_inventory(settings: LabSettings, ssh_port: int) -> Path:
    write_inventory(settings.inventory_path, lab_inventory(settings, ssh_port))
    return settings.inventory_path


# ---------------------------------------------------------------------------- Prometheus


def prometheus_config(settings: LabSettings, inventory: Inventory) -> dict[str, Any]:
    """Itself, the node's exporter (job ``node-exporter``) and the hosts exactly as the runbook renders them."""
    node_exporter = f"{settings.node}:{settings.exporter_base_port}"
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_TIMEOUT,
            "evaluation_interval": SCRAPE_INTERVAL,
        },
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "metrics_path": f"{PROMETHEUS_PATH}/metrics",
                "static_configs": [{"targets": [f"{settings.node}:{settings.prometheus_port}"]}],
            },
            {"job_name": CLUSTER_NODES_JOB, "static_configs": [{"targets": [node_exporter]}]},
            *host_scrape_configs(inventory),
        ],
    }


def write_prometheus_config(settings: LabSettings) -> Path:
    """Render the configuration from the written inventory (so Prometheus scrapes what it lists)."""
    config = prometheus_config(settings, load_inventory(settings.inventory_path))
    settings.prometheus_dir.mkdir(parents=True, exist_ok=True)
    settings.prometheus_config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return settings.prometheus_config


def prometheus_argv(settings: LabSettings) -> list[str]:
    return [
        find_prometheus(),
        f"--config.file={settings.prometheus_config}",
        f"--storage.tsdb.path={settings.prometheus_data}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address={settings.node}:{settings.prometheus_port}",
        f"--web.route-prefix={PROMETHEUS_PATH}",
        f"--web.external-url=http://{settings.local_ingress}{PROMETHEUS_PATH}",
    ]


def start_prometheus(settings: LabSettings) -> ProcessRecord:
    """Start Prometheus (readiness: :func:`wait_monitoring`)."""
    write_prometheus_config(settings)
    settings.prometheus_data.mkdir(parents=True, exist_ok=True)
    _proc, record = spawn(PROMETHEUS, prometheus_argv(settings), settings.logs_dir / "prometheus.log")
    return record


# ---------------------------------------------------------------------------- Grafana stand-in


def grafana_argv(settings: LabSettings, python: str) -> list[str]:
    server = rendered_grafana_server(settings)
    return [
        python,
        "-m",
        "platform_kb_lab.grafana",
        "--host",
        settings.node,
        "--port",
        str(settings.grafana_port),
        "--root-url",
        server["root_url"],
        "--serve-from-sub-path",
        "true" if server["serve_from_sub_path"] else "false",
    ]


def rendered_grafana_server(settings: LabSettings) -> dict[str, Any]:
    """``grafana.ini`` ``[server]`` exactly as the runbook renders it for a browser at the lab's tunnel end
    (``external_url_base`` = ``http://<local ingress>``): the stand-in runs the homelab's value, not a lab one."""
    params = MonitoringParams(external_url_base=f"http://{settings.local_ingress}", grafana_path=GRAFANA_PATH)
    values = render_monitoring(params, Inventory(())).release.values
    return dict(values["grafana"]["grafana.ini"]["server"])


def start_grafana(settings: LabSettings, python: str) -> ProcessRecord:
    _proc, record = spawn(GRAFANA, grafana_argv(settings, python), settings.logs_dir / "grafana.log")
    return record


# ---------------------------------------------------------------------------- node-exporters


def exporter_argv(settings: LabSettings, port: int) -> list[str]:
    return [
        find_node_exporter(),
        f"--web.listen-address={settings.node}:{port}",
        "--collector.disable-defaults",
        *(f"--collector.{name}" for name in EXPORTER_COLLECTORS),
        "--web.disable-exporter-metrics",
    ]


def start_exporters(
    settings: LabSettings, names: Sequence[str], on_start: Callable[[str, ProcessRecord], None]
) -> None:
    """Start the named exporters (``on_start`` records each at once), then wait until each listens."""
    ports = settings.exporter_ports()
    started: list[tuple[subprocess.Popen, int, Path]] = []
    for name in names:
        log = settings.logs_dir / f"{exporter_process(name)}.log"
        proc, record = spawn(exporter_process(name), exporter_argv(settings, ports[name]), log)
        on_start(name, record)
        started.append((proc, ports[name], log))
    for proc, port, log in started:
        wait_for_port(settings.node, port, 15, proc, log)


# ---------------------------------------------------------------------------- lab API objects


def _exposed(
    settings: LabSettings, service: str, component: str, service_port: int, target_port: int, path: str
) -> list[tuple[str, dict[str, Any]]]:
    """Service (no selector), hand-made Endpoints and a ``Prefix`` Ingress without rewrite."""
    labels = {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/part-of": "platform-kb-lab",
    }
    meta = {"name": service, "namespace": NAMESPACE, "labels": labels}
    port = {"name": SERVICE_PORT_NAME, "port": service_port, "targetPort": target_port}
    backend = {"service": {"name": service, "port": {"number": service_port}}}
    return [
        ("services", {"apiVersion": "v1", "kind": "Service", "metadata": dict(meta),
                      "spec": {"type": "ClusterIP", "ports": [port]}}),
        ("endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": dict(meta), "subsets": [{
            "addresses": [{"ip": settings.node}],
            "ports": [{"name": SERVICE_PORT_NAME, "port": target_port, "protocol": "TCP"}],
        }]}),
        ("ingresses", {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": dict(meta),
                       "spec": {"ingressClassName": "nginx", "rules": [{"http": {"paths": [
                           {"path": path, "pathType": "Prefix", "backend": backend}]}}]}}),
    ]  # fmt: skip


def monitoring_objects(settings: LabSettings) -> list[tuple[str, dict[str, Any]]]:
    """(plural, object) pairs exposing Prometheus and Grafana through the ingress, in creation order."""
    return [
        *_exposed(
            settings,
            PROMETHEUS_SERVICE,
            "prometheus",
            PROMETHEUS_SERVICE_PORT,
            settings.prometheus_port,
            PROMETHEUS_PATH,
        ),
        *_exposed(
            settings, GRAFANA_SERVICE, "grafana", GRAFANA_SERVICE_PORT, settings.grafana_port, GRAFANA_PATH
        ),
    ]


# ---------------------------------------------------------------------------- readiness


@dataclass(frozen=True)
class Target:
    """One active target as Prometheus reports it (``/api/v1/targets``)."""

    job: str
    key: str  # the host label for job ``hosts``, else the instance
    health: str
    last_error: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Target:
        labels = data.get("labels") or {}
        job = str(labels.get("job", ""))
        key = labels.get(HOST_LABEL) if job == HOSTS_JOB else labels.get("instance")
        return cls(job, str(key or ""), str(data.get("health", "")), str(data.get("lastError", "")))


def targets(base_url: str, timeout: float = 3.0) -> list[Target] | None:
    """Active targets of the Prometheus at ``base_url`` (with its prefix); None while it does not answer."""
    try:
        response = httpx.get(
            f"{base_url}/api/v1/targets", params={"state": "active"}, timeout=timeout, trust_env=False
        )
        if response.status_code != 200:
            return None
        active = response.json()["data"]["activeTargets"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
    return [Target.from_api(t) for t in active]


def expected_health(settings: LabSettings, down: Iterable[str]) -> dict[tuple[str, str], str]:
    """(job, host or instance) → the health Prometheus must report for a lab running ``down`` exporters down."""
    skipped = set(down)
    expected = {
        ("prometheus", f"{settings.node}:{settings.prometheus_port}"): "up",
        (CLUSTER_NODES_JOB, f"{settings.node}:{settings.exporter_base_port}"): "up",
    }
    for host in LAB_HOSTS:
        expected[(HOSTS_JOB, host.name)] = "down" if host.name in skipped else "up"
    return expected


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _check_alive(records: Iterable[ProcessRecord | None]) -> None:
    for record in records:
        if record is not None and not record.alive():
            raise KbError(f"{record.name} (pid {record.pid}) exited; see {record.log}")


def wait_monitoring(
    settings: LabSettings,
    down: Iterable[str],
    timeout: float,
    records: Sequence[ProcessRecord | None] = (),
) -> list[Target]:
    """Wait until Prometheus is ready and reports every expected target with its expected health.

    Then Prometheus and Grafana must also answer through nginx (their Ingresses), so the URLs the
    tunnel shows work as soon as ``kb lab up`` returns. KbError naming what is missing otherwise.
    """
    expected = expected_health(settings, down)
    seen: list[Target] = []

    def prometheus_ready() -> bool:
        _check_alive(records)
        return _answers(f"{settings.prometheus_url}/-/ready")

    if not wait_until(prometheus_ready, timeout, interval=0.2):
        raise KbError(f"Prometheus is not ready at {settings.prometheus_url} after {timeout:.0f}s")

    def scraped() -> bool:
        _check_alive(records)
        seen[:] = targets(settings.prometheus_url) or []
        found = {(t.job, t.key): t.health for t in seen}
        return all(found.get(key) == health for key, health in expected.items())

    if not wait_until(scraped, timeout, interval=0.2):
        found = {(t.job, t.key): t.health for t in seen}
        wrong = [f"{job}/{key}: {found.get((job, key), 'absent')} (want {health})"
                 for (job, key), health in expected.items() if found.get((job, key)) != health]  # fmt: skip
        raise KbError(f"Prometheus targets not as expected after {timeout:.0f}s: {'; '.join(wrong)}")
    for url in (
        f"{settings.ingress_url}{PROMETHEUS_PATH}/-/ready",
        f"{settings.ingress_url}{GRAFANA_PATH}/api/health",
    ):
        if not wait_until(lambda u=url: _check_alive(records) or _answers(u), timeout, interval=0.2):
            raise KbError(f"{url} does not answer 200 through nginx after {timeout:.0f}s")
    return seen


def exporter_ports_closed(settings: LabSettings, names: Iterable[str], timeout: float = 10.0) -> bool:
    ports = settings.exporter_ports()
    return wait_until(lambda: not any(port_open(settings.node, ports[n]) for n in names), timeout)


def check_monitoring_prerequisites() -> list[str]:
    """Messages naming the missing Debian packages (empty when both are installed)."""
    missing = []
    for probe in (find_prometheus, find_node_exporter):
        try:
            probe()
        except MissingPrerequisite as exc:
            missing.append(str(exc))
    return missing
