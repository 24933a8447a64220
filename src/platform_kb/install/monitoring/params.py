"""Monitoring's parameters: the single schema of ``runbooks/install-monitoring.py``, and what follows
from them (Grafana's ``root_url``, Prometheus's ``externalUrl``, the host inventory)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from ...errors import UsageProblem
from ...inventory import Inventory, load_inventory
from ...runner.params import param
from .. import params as shared
from ..chart import ChartRef
from ..hosts import SUDO_MODES
from ..params import InstallParams
from .chart import CHART


@dataclass(frozen=True)
class Params(InstallParams):
    # the hosts are reached through the bastion too (ProxyJump): one known_hosts file for both
    known_hosts: str = param("", "배스천과 호스트의 호스트 키를 확인할 known_hosts 파일")
    # host inventory YAML (platform_kb.inventory); the profile's `inventory:`
    inventory: str = param("", "호스트 목록 YAML (프로필의 inventory; 비우면 클러스터 밖 호스트는 건너뜀)")
    hosts: str = param("", "목록 중 이번에 다룰 호스트 이름 (쉼표로 구분, 비우면 전부)")
    install_hosts: bool = param(True, "호스트에 node-exporter 설치 (false면 스크레이프 설정만)")
    host_sudo: str = param("auto", "호스트에서 root 권한: root가 아니면 sudo -n(auto)", choices=SUDO_MODES)
    exporter_extra_args: str = param(
        "", "node-exporter에 더 줄 플래그 (공백으로 구분, 예: --collector.systemd)"
    )
    release: str = shared.release("kube-prometheus-stack")
    namespace: str = param("monitoring", "네임스페이스")
    chart_version: str = param(CHART.version, "kube-prometheus-stack 차트 버전 (고정)")
    ingress_class: str = shared.ingress_class("Ingress")
    prometheus_path: str = param("/prometheus", "Prometheus의 인그레스 경로 (routePrefix)")
    grafana_path: str = param("/grafana", "Grafana의 인그레스 경로")
    # the browser's origin through the tunnel
    external_url_base: str = param(
        "http://localhost:8080", "브라우저가 터널로 여는 주소 (Prometheus externalUrl의 앞부분)"
    )
    # empty: the browser's address through the tunnel, external_url_base + grafana_path + "/" (root_url)
    grafana_root_url: str = param("", "Grafana root_url (비우면 external_url_base + grafana_path + /)")
    serve_from_sub_path: bool = param(True, "Grafana server.serve_from_sub_path")
    retention: str = param("15d", "Prometheus 보존 기간")
    # Prometheus units B, KB, MB, GB, TB, PB, EB
    retention_size: str = param("", "Prometheus 보존 크기 (예: 40GB, 비우면 제한 없음)")
    storage_class: str = param("", "Prometheus PVC의 StorageClass (비우면 클러스터 기본값)")
    storage_size: str = param(
        "", "Prometheus PVC 크기 (예: 50Gi, 비우면 emptyDir: 파드가 다시 뜨면 데이터가 사라짐)"
    )
    grafana_admin_user: str = param(
        "admin", "Grafana 관리자 사용자 이름 (비밀 아님, Secret에 암호와 함께 저장)"
    )
    grafana_admin_password_ref: str = param("env:GRAFANA_ADMIN_PASSWORD", "Grafana 관리자 암호", secret=True)
    grafana_admin_secret: str = param(
        "grafana-admin", "관리자 계정 Secret 이름 (grafana.admin.existingSecret)"
    )
    cluster_node_exporter: bool = param(
        True, "클러스터 노드의 node-exporter DaemonSet (nodeExporter.enabled)"
    )
    hosts_job: str = param("hosts", "호스트 node-exporter의 스크레이프 잡 이름")
    hosts_scrape_interval: str = param("", "호스트 잡의 스크레이프 주기 (비우면 Prometheus 전역값)")
    extra_values: str = param("", "더 얹을 Helm values (JSON 또는 YAML)")
    verify: bool = shared.verify()
    verify_only: bool = shared.verify_only()
    check_pods: bool = shared.check_pods("Operator, Prometheus, Grafana")
    pod_timeout: float = shared.pod_timeout()
    targets_timeout: float = param(180.0, "모든 타깃이 up이 되기를 기다릴 최대 시간(초)", low=1)

    @property
    def chart(self) -> ChartRef:
        return CHART.with_version(self.chart_version)

    @property
    def host_names(self) -> list[str]:
        return [n.strip() for n in str(self.hosts).split(",") if n.strip()]

    @property
    def prometheus_prefix(self) -> str:
        return "/" + self.prometheus_path.strip("/")

    @property
    def grafana_prefix(self) -> str:
        return "/" + self.grafana_path.strip("/")

    @property
    def root_url(self) -> str:
        """Grafana's ``[server] root_url``: the address the browser uses, proxy host and port included.

        Grafana builds absolute URLs (some redirects, alert and share links) from ``root_url``; behind a
        proxy it must be the proxy's address, not Grafana's own ``%(http_port)s`` (3000): grafana/grafana
        issues #15497 and #10007 (maintainers: "root_url should be the URL the browser uses"). The
        tutorial's ``%(protocol)s://%(domain)s:%(http_port)s/grafana/`` expands to ``localhost:3000`` and
        so leaves the tunnel at ``localhost:8080``.
        """
        if str(self.grafana_root_url or "").strip():
            return str(self.grafana_root_url)
        return self.external_url_base.rstrip("/") + self.grafana_prefix + "/"

    @property
    def external_url(self) -> str:
        """``prometheusSpec.externalUrl``: the browser's origin + the route prefix (links, redirects, alerts)."""
        return self.external_url_base.rstrip("/") + self.prometheus_prefix


def load_monitoring_inventory(p: Params) -> Inventory | None:
    """The inventory named by ``p.inventory`` narrowed to ``p.hosts``; None when no inventory is given."""
    if not str(p.inventory or "").strip():
        if p.host_names:
            raise UsageProblem("hosts names inventory hosts but no inventory is given (-p inventory PATH)")
        return None
    inventory = load_inventory(p.inventory)
    return inventory.select(p.host_names) if p.host_names else inventory


def grafana_ini_filled(root_url: str) -> str:
    """Grafana's ``root_url`` with its ``%(protocol)s``-style placeholders filled in with Grafana's
    defaults (``conf/defaults.ini``: protocol http, domain localhost, http_port 3000)."""
    filled = root_url.replace("%(protocol)s", "http").replace("%(domain)s", "localhost")
    return filled.replace("%(http_port)s", "3000")


def grafana_ini_path(root_url: str) -> str:
    """The path of Grafana's ``root_url`` with its placeholders filled in."""
    return urlparse(grafana_ini_filled(root_url)).path


def grafana_ini_origin(root_url: str) -> str:
    """``scheme://host:port`` of Grafana's ``root_url`` with its placeholders filled in."""
    parsed = urlparse(grafana_ini_filled(root_url))
    return f"{parsed.scheme}://{parsed.netloc}"
