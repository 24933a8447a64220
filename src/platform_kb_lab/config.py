"""Where the lab lives and which loopback addresses and ports it uses.

First step of every lab flow: ``kb lab up|status|down|submit`` and the lab daemon build a
:class:`LabSettings` (from the environment, or from the JSON the manager hands the daemon) and
take every path and port from it. Two labs run side by side when they differ in ``KB_LAB_DIR``
and ``KB_LAB_NODE``: the node's services (ingress 30998, API 6443, History Server 18080, driver
UIs 4040+, Prometheus 9090, Grafana 3000, node-exporters 9100+) bind on the node address only,
and the bastion sshd takes a free port on 127.0.0.1 (and the same port on the node address, where
the lab's hosts are reached over SSH).

Environment: ``KB_LAB_DIR`` (default ``<project>/.lab``), ``KB_LAB_NODE`` (default
``127.0.0.2``), ``KB_LAB_INGRESS_PORT``, ``KB_LAB_API_PORT``, ``KB_LAB_HISTORY_PORT``,
``KB_LAB_STATUS_PORT``, ``KB_LAB_UI_PORT`` (first driver UI port), ``KB_LAB_PROMETHEUS_PORT``,
``KB_LAB_GRAFANA_PORT``, ``KB_LAB_EXPORTER_PORT`` (the node's node-exporter; the lab hosts'
exporters take the next ports) and ``KB_LAB_LOCAL_INGRESS`` (the local end of the profile's ingress
forward, default ``127.0.0.1:8080``).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from platform_kb.errors import UsageProblem
from platform_kb.paths import ProjectPaths
from platform_kb.profiles import parse_hostport

DEFAULT_NODE = "127.0.0.2"
BASTION_HOST = "127.0.0.1"


@dataclass(frozen=True)
class LabHost:
    """A machine outside the cluster that the lab stands in for (its node-exporter runs on the node address)."""

    name: str
    role: str


# the homelab's hosts outside the cluster that monitoring scrapes: two Proxmox hosts and the desktop
LAB_HOSTS: tuple[LabHost, ...] = (
    LabHost("pve-01", "proxmox"),
    LabHost("pve-02", "proxmox"),
    LabHost("desktop", "desktop"),
)


def _port(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise UsageProblem(f"{key}: expected a port number 1..65535, got {raw!r}")
    return int(raw)


def _exporter_base(env: Mapping[str, str]) -> int:
    """``KB_LAB_EXPORTER_PORT``: the base port, leaving room for one exporter per lab host after it."""
    base = _port(env, "KB_LAB_EXPORTER_PORT", 9100)
    if base + len(LAB_HOSTS) > 65535:
        raise UsageProblem(
            f"KB_LAB_EXPORTER_PORT: {base} leaves no room for the {len(LAB_HOSTS)} lab hosts' exporters after it"
        )
    return base


def check_node_address(node: str) -> str:
    """The node address must be an IPv4 loopback address other than the bastion's 127.0.0.1."""
    try:
        address = ipaddress.IPv4Address(node)
    except ValueError as exc:
        raise UsageProblem(f"KB_LAB_NODE: expected an IPv4 address in 127.0.0.0/8, got {node!r}") from exc
    if not address.is_loopback:
        raise UsageProblem(f"KB_LAB_NODE: {node} is not a loopback address (use one in 127.0.0.0/8)")
    if node == BASTION_HOST:
        raise UsageProblem("KB_LAB_NODE: 127.0.0.1 is the bastion's address; pick another, e.g. 127.0.0.2")
    return node


@dataclass(frozen=True)
class LabSettings:
    """One lab: its directory, the node address and the ports of the node's services."""

    root: Path
    node: str = DEFAULT_NODE
    bastion_host: str = BASTION_HOST
    ingress_port: int = 30998
    api_port: int = 6443
    history_port: int = 18080
    status_port: int = 10246  # like ingress-nginx's internal status server; on the node address
    ui_base_port: int = 4040
    prometheus_port: int = 9090
    grafana_port: int = 3000
    exporter_base_port: int = 9100  # the node's node-exporter; the lab hosts' exporters follow
    local_ingress: str = "127.0.0.1:8080"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, paths: ProjectPaths | None = None) -> LabSettings:
        env = os.environ if env is None else env
        root_raw = env.get("KB_LAB_DIR")
        if root_raw:
            root = Path(root_raw).expanduser().resolve()
        else:
            root = (paths or ProjectPaths.discover()).lab
        local = env.get("KB_LAB_LOCAL_INGRESS") or "127.0.0.1:8080"
        parse_hostport(local, "KB_LAB_LOCAL_INGRESS")
        return cls(
            root=root,
            node=check_node_address(env.get("KB_LAB_NODE") or DEFAULT_NODE),
            ingress_port=_port(env, "KB_LAB_INGRESS_PORT", 30998),
            api_port=_port(env, "KB_LAB_API_PORT", 6443),
            history_port=_port(env, "KB_LAB_HISTORY_PORT", 18080),
            status_port=_port(env, "KB_LAB_STATUS_PORT", 10246),
            ui_base_port=_port(env, "KB_LAB_UI_PORT", 4040),
            prometheus_port=_port(env, "KB_LAB_PROMETHEUS_PORT", 9090),
            grafana_port=_port(env, "KB_LAB_GRAFANA_PORT", 3000),
            exporter_base_port=_exporter_base(env),
            local_ingress=local,
        )

    def with_root(self, root: Path) -> LabSettings:
        return replace(self, root=root)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["root"] = str(self.root)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LabSettings:
        values = dict(data)
        values["root"] = Path(values["root"])
        return cls(**values)

    # ------------------------------------------------------------------ node-side ports

    def node_ports(self) -> dict[str, int]:
        """The fixed ports the lab binds on the node address."""
        ports = {
            "ingress": self.ingress_port,
            "api": self.api_port,
            "history": self.history_port,
            "ingress-status": self.status_port,
            "prometheus": self.prometheus_port,
            "grafana": self.grafana_port,
        }
        for name, port in self.exporter_ports().items():
            ports[f"node-exporter {name}"] = port
        return ports

    def exporter_ports(self) -> dict[str, int]:
        """Port of each node-exporter on the node address: ``node`` (the cluster node), then each lab host."""
        ports = {"node": self.exporter_base_port}
        for offset, host in enumerate(LAB_HOSTS, start=1):
            ports[host.name] = self.exporter_base_port + offset
        return ports

    @property
    def api_url(self) -> str:
        return f"http://{self.node}:{self.api_port}"

    @property
    def ingress_url(self) -> str:
        return f"http://{self.node}:{self.ingress_port}"

    @property
    def history_url(self) -> str:
        return f"http://{self.node}:{self.history_port}"

    @property
    def prometheus_url(self) -> str:
        """Prometheus on the node, under its route prefix ``/prometheus``."""
        return f"http://{self.node}:{self.prometheus_port}/prometheus"

    @property
    def grafana_url(self) -> str:
        return f"http://{self.node}:{self.grafana_port}"

    # ------------------------------------------------------------------ files

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def run_context_file(self) -> Path:
        """The labels every run record against the lab profile keeps (the scenario), see ``LabState.save``."""
        return self.root / "run-context.json"

    @property
    def ports_file(self) -> Path:
        """Ports the lab chose itself (the bastion's), kept across ``down``/``up`` so tunnels reconnect."""
        return self.root / "ports.json"

    @property
    def pids_dir(self) -> Path:
        """One pid file per lab process (``NAME.json``: pid, start time, ports); ``down`` finds them without state."""
        return self.root / "pids"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def client_key(self) -> Path:
        return self.keys_dir / "lab_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def profile_path(self) -> Path:
        return self.root / "profiles" / "lab.yaml"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def sshd_dir(self) -> Path:
        return self.root / "sshd"

    @property
    def run_dir(self) -> Path:
        """Runtime files (pid files, nginx prefix, driver work dirs); removed by ``down``."""
        return self.root / "run"

    @property
    def nginx_prefix(self) -> Path:
        return self.run_dir / "nginx"

    @property
    def nginx_conf(self) -> Path:
        return self.nginx_prefix / "nginx.conf"

    @property
    def nginx_pid(self) -> Path:
        return self.nginx_prefix / "nginx.pid"

    @property
    def drivers_dir(self) -> Path:
        return self.run_dir / "drivers"

    @property
    def drivers_file(self) -> Path:
        """Process records of the Spark drivers the daemon started."""
        return self.run_dir / "drivers.json"

    @property
    def daemon_config(self) -> Path:
        return self.run_dir / "daemon.json"

    @property
    def inventory_path(self) -> Path:
        """The lab's host inventory (``platform_kb.inventory``); the lab profile names it."""
        return self.root / "inventory.yaml"

    @property
    def prometheus_dir(self) -> Path:
        """Prometheus's configuration and TSDB; under ``run/``, so ``down`` removes it."""
        return self.run_dir / "prometheus"

    @property
    def prometheus_config(self) -> Path:
        return self.prometheus_dir / "prometheus.yml"

    @property
    def prometheus_data(self) -> Path:
        return self.prometheus_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def events_dir(self) -> Path:
        """The Spark event-log directory: the lab's stand-in for ``s3a://datalake/logs/spark-log/``."""
        return self.root / "spark-events"
