"""Prometheus targets through the tunnel: every target up, every inventory host scraped, the UI under its prefix.

Where this sits: ``install-monitoring`` (and any troubleshooting runbook) calls :func:`check_targets`
after the install; it reads ``GET <base><prometheus_path>/api/v1/targets?state=active`` through the
bastion tunnel (ingress-nginx NodePort 30998) with httpx and returns
:class:`~platform_kb.results.Check` results — one per target that is not ``up``
(``id="target-down"``, with a Korean fix that depends on the job), one per inventory host missing from
the ``hosts`` job (``id="host-not-scraped"``), and a summary. :func:`check_ui` checks the Prometheus
UI under the prefix with :func:`platform_kb.checks.pages.ui_check` (the browser-grade page probe).

Upstream: the response shape is prometheus/prometheus ``web/api/v1/api.go`` (``TargetDiscovery`` with
``activeTargets``: ``Target{DiscoveredLabels, Labels, ScrapePool, ScrapeURL, GlobalURL, LastError,
LastScrape, LastScrapeDuration, Health, ScrapeInterval, ScrapeTimeout}``, health ``up|down|unknown``;
documented in ``docs/querying/api.md`` "Targets"). Job names of kube-prometheus-stack's ServiceMonitors
come from the Services' ``jobLabel`` (prometheus-community/helm-charts
``charts/kube-prometheus-stack/values.yaml``: ``kube-controller-manager``, ``kube-scheduler``,
``kube-etcd``, ``kube-proxy``, ``node-exporter``). On kubeadm (an assumption until the homelab's
distribution is known, #3-11) the controller-manager and scheduler bind
their metrics to 127.0.0.1 (``--bind-address``), etcd serves metrics on ``http://127.0.0.1:2381``
(``--listen-metrics-urls``); on any distribution kube-proxy serves them on ``127.0.0.1:10249`` by default
(``metricsBindAddress``, ``pkg/proxy/apis/config/v1alpha1/defaults.go``), so these
targets are down until that is changed or the ServiceMonitor is turned off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..inventory import Host, Inventory
from ..probes import Prober
from ..results import Check
from ..scrape import CLUSTER_NODES_JOB, HOST_LABEL, HOSTS_JOB
from .pages import ui_check

CONTROL_PLANE_JOBS = {
    # job -> (kubeadm static pod manifest, the flag to change, the chart value that turns the ServiceMonitor off)
    "kube-controller-manager": ("kube-controller-manager.yaml", "--bind-address=0.0.0.0", "kubeControllerManager.enabled"),
    "kube-scheduler": ("kube-scheduler.yaml", "--bind-address=0.0.0.0", "kubeScheduler.enabled"),
    "kube-etcd": ("etcd.yaml", "--listen-metrics-urls=http://0.0.0.0:2381", "kubeEtcd.enabled"),
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One active target of ``/api/v1/targets`` (the fields this check uses)."""

    job: str
    instance: str
    health: str
    last_error: str = ""
    scrape_url: str = ""
    scrape_pool: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Target:
        labels = {str(k): str(v) for k, v in (data.get("labels") or {}).items()}
        return cls(
            job=labels.get("job", ""),
            instance=labels.get("instance", ""),
            health=str(data.get("health") or "unknown"),
            last_error=str(data.get("lastError") or ""),
            scrape_url=str(data.get("scrapeUrl") or ""),
            scrape_pool=str(data.get("scrapePool") or ""),
            labels=labels,
        )

    @property
    def host(self) -> str:
        return self.labels.get(HOST_LABEL, "")

    @property
    def up(self) -> bool:
        return self.health == "up"

    def evidence(self) -> dict[str, str]:
        shown = {
            "job": self.job,
            "instance": self.instance,
            "health": self.health,
            "scrapeUrl": self.scrape_url,
        }
        if self.host:
            shown["host"] = self.host
        if self.last_error:
            shown["lastError"] = self.last_error
        return shown


class TargetsUnavailable(Exception):
    """The targets API could not be read (network, status, body)."""


def targets_url(base_url: str, prometheus_path: str) -> str:
    prefix = "/" + prometheus_path.strip("/") if prometheus_path.strip("/") else ""
    return f"{base_url.rstrip('/')}{prefix}/api/v1/targets?state=active"


def fetch_targets(http: httpx.Client, base_url: str, prometheus_path: str) -> list[Target]:
    """``GET <base><prefix>/api/v1/targets?state=active`` -> the active targets."""
    url = targets_url(base_url, prometheus_path)
    try:
        response = http.get(url, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise TargetsUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise TargetsUnavailable(f"{url} answered {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise TargetsUnavailable(f"{url}: not JSON (is {prometheus_path} really Prometheus?)") from exc
    if body.get("status") != "success":
        raise TargetsUnavailable(f"{url}: status {body.get('status')!r}: {body.get('error', '')}")
    return [Target.from_api(t) for t in (body.get("data") or {}).get("activeTargets") or []]


# --- fixes (Korean) -----------------------------------------------------------------------------------
def _address(target: Target) -> tuple[str, str]:
    host, _, port = target.instance.rpartition(":")
    return (host or target.instance), port


def fix_for(target: Target, inventory: Inventory | None = None) -> str:
    """The Korean fix for a target that is down, by job."""
    job = target.job
    if job == HOSTS_JOB or target.host:
        return _fix_host(target, inventory)
    if job == CLUSTER_NODES_JOB:
        node = target.labels.get("node") or target.labels.get("pod") or target.instance
        return (
            f"클러스터 노드 `{node}`의 node-exporter DaemonSet 파드를 확인하세요: "
            "`kubectl -n monitoring get pods -l app.kubernetes.io/name=prometheus-node-exporter -o wide`, "
            "파드가 없거나 Pending이면 `kubectl describe`로 taint/toleration과 hostPort 9100 충돌"
            "(노드에 이미 시스템 node-exporter가 떠 있는지)을, Running이면 노드 방화벽에서 9100/tcp를 확인하세요."
        )
    if job in CONTROL_PLANE_JOBS:
        manifest, flag, value = CONTROL_PLANE_JOBS[job]
        return (
            # kubernetes/kubernetes cmd/kubeadm/app/phases/controlplane/manifests.go (bind-address 127.0.0.1),
            # cmd/kubeadm/app/phases/etcd/local.go (listen-metrics-urls http://127.0.0.1:2381); the homelab's
            # distribution is not known yet (#3-11 "가정한 것"), so the fix says "if kubeadm"
            f"kubeadm 클러스터라면 {job}은 메트릭을 127.0.0.1에만 엽니다(배포판은 #3-11에서 아직 확인하지 않은 가정). "
            f"kubeadm이면 컨트롤 플레인 노드의 `/etc/kubernetes/manifests/{manifest}`에서 `{flag}`로 바꾸면"
            "(kubelet이 정적 파드를 다시 띄움) 수집됩니다. 다른 배포판(k3s, RKE2 등)이면 그 배포판 설정에서 바인드 "
            f"주소를 바꾸세요 — 또는 수집하지 않을 거면 extra_values에 `{value}: false`를 넣어 ServiceMonitor를 끄세요."
        )
    if job == "kube-proxy":
        # kubernetes/kubernetes pkg/proxy/apis/config/v1alpha1/defaults.go: SetDefaults_KubeProxyConfiguration
        # fills an empty MetricsBindAddress with 127.0.0.1 ([::1] for IPv6) and ports.ProxyStatusPort (10249)
        return (
            "kube-proxy는 기본으로 메트릭을 127.0.0.1:10249에만 엽니다. "
            "`kubectl -n kube-system edit configmap kube-proxy`에서 `metricsBindAddress: 0.0.0.0:10249`로 바꾸고 "
            "`kubectl -n kube-system rollout restart daemonset kube-proxy` — 또는 extra_values에 "
            "`kubeProxy.enabled: false`를 넣어 ServiceMonitor를 끄세요."
        )
    if "grafana" in job:
        return (
            "Grafana를 하위 경로로 서비스하면(serve_from_sub_path) 메트릭도 그 아래(`/grafana/metrics`)에 있습니다: "
            "`grafana.serviceMonitor.path`가 grafana_path + `/metrics`인지 확인하세요."
        )
    return (
        f"대상 `{target.instance}`(job `{job}`)에 Prometheus 파드에서 닿는지 확인하세요: "
        f"`kubectl -n monitoring exec prometheus-<이름>-0 -c prometheus -- wget -qO- {target.scrape_url or target.instance}`; "
        "lastError가 원인을 알려 줍니다(연결 거부 = 프로세스/포트, 시간 초과 = 방화벽/네트워크)."
    )


def _fix_host(target: Target, inventory: Inventory | None) -> str:
    name = target.host or _address(target)[0]
    host: Host | None = None
    if inventory is not None:
        host = next((h for h in inventory.hosts if h.name == name or h.target == target.instance), None)
    port = str(host.exporter_port) if host else (_address(target)[1] or "9100")
    if host is not None:
        user = f"{host.user}@" if host.user else ""
        ssh = f"ssh -J <배스천> {user}{host.address}" + (
            f" -p {host.ssh_port}" if host.ssh_port != 22 else ""
        )
    else:
        ssh = f"ssh -J <배스천> {name}"
    lines = [
        f"호스트 `{name}`: `{ssh} systemctl status prometheus-node-exporter`로 서비스가 떠 있는지 보세요"
        "(내려가 있으면 이 런북을 다시 실행해 호스트 적용 단계가 `systemctl enable --now`하게 하거나 직접 "
        "`sudo systemctl enable --now prometheus-node-exporter`).",
        f"`{ssh} ss -ltn 'sport = :{port}'`로 {port} 포트에서 듣는지, "
        f"`/etc/default/prometheus-node-exporter`의 ARGS가 `--web.listen-address=:{port}`인지 확인하세요.",
    ]
    if host is None or host.role.lower() == "proxmox":
        lines.append(
            f"Proxmox 호스트라면 pve-firewall이 {port}/tcp를 막을 수 있습니다: `{ssh} pve-firewall status`, "
            f"필요하면 호스트 방화벽 규칙에 `IN ACCEPT -p tcp -dport {port}`(데이터센터/노드 Firewall)를 추가하세요."
        )
    else:
        lines.append(f"호스트 방화벽(nftables/ufw)이 {port}/tcp를 막지 않는지 확인하세요.")
    lines.append(
        "연결 거부(connection refused)는 프로세스/포트, 시간 초과(timeout)는 방화벽 또는 경로 문제입니다."
    )
    if host is not None and host.lab:
        lines.append("랩에서는 `kb lab up --scenario healthy`가 이 호스트의 exporter를 다시 띄웁니다.")
    return " ".join(lines)


# --- checks -------------------------------------------------------------------------------------------
def target_checks(targets: Iterable[Target], inventory: Inventory | None = None) -> list[Check]:
    """One ``target-down`` Check per target that is not up, then the summary Check."""
    targets = list(targets)
    results = []
    for t in targets:
        if t.up:
            continue
        who = f"host {t.host}" if t.host else t.instance
        severity = "warning" if t.health == "unknown" else "error"
        results.append(
            Check.failed(
                "target-down", f"Prometheus 대상 {t.job} / {who}",
                f"health {t.health}" + (f": {t.last_error}" if t.last_error else ""),
                t.evidence(), severity, fix_for(t, inventory),
            )
        )  # fmt: skip
    down = len(results)
    jobs = sorted({t.job for t in targets})
    summary = f"{len(targets) - down}/{len(targets)} up ({len(jobs)} job(s))"
    if not targets:
        results.append(Check.failed("targets", "Prometheus 대상", "no active target at all",
                                    fix="Prometheus가 ServiceMonitor를 고르는지(`serviceMonitorSelector`)와 operator 로그를 보세요"))  # fmt: skip
    else:
        results.append(
            Check.judged(
                down == 0,
                "targets",
                "Prometheus 대상 모두 up",
                summary,
                {"jobs": ", ".join(jobs)},
                fix="대상마다 남긴 `verify-target-down` 발견 사항의 해결 방법을 따르세요.",
            )
        )
    return results


def host_coverage(targets: Iterable[Target], inventory: Inventory, job: str = HOSTS_JOB) -> list[Check]:
    """Every inventory host appears as a target of ``job`` (labelled ``host=<name>``)."""
    scraped = {t.host or t.instance: t for t in targets if t.job == job}
    results = []
    for host in inventory.hosts:
        if host.name in scraped or host.target in scraped:
            continue
        results.append(
            Check.failed(
                "host-not-scraped", f"호스트 {host.name} 수집", f"no target of job {job} for {host.target}",
                {"host": host.name, "target": host.target, "job": job},
                fix=(
                    f"Prometheus 설정에 job `{job}`의 `{host.target}`가 없습니다: "
                    "`prometheus.prometheusSpec.additionalScrapeConfigs`가 인벤토리로 렌더링됐는지(이 런북의 values), "
                    "`kubectl -n monitoring get secret -l app=kube-prometheus-stack-prometheus`의 "
                    "additional-scrape-configs 내용과 operator 로그(설정 재적재 실패)를 확인하세요."
                ),
            )
        )  # fmt: skip
    covered = len(inventory.hosts) - len(results)
    results.append(Check.judged(not results, "hosts-scraped", f"인벤토리 호스트가 job {job}에 있음",
                                f"{covered}/{len(inventory.hosts)} host(s)"))  # fmt: skip
    return results


def check_targets(
    http: httpx.Client, base_url: str, prometheus_path: str, inventory: Inventory | None = None,
    job: str = HOSTS_JOB,
) -> list[Check]:  # fmt: skip
    """Read the targets through the tunnel and check them (and the inventory's coverage)."""
    try:
        targets = fetch_targets(http, base_url, prometheus_path)
    except TargetsUnavailable as exc:
        return [
            Check.failed("targets-api", "Prometheus 대상 API", str(exc), {"url": targets_url(base_url, prometheus_path)},
                  fix=f"Prometheus가 {prometheus_path} 아래에서 서비스되는지(routePrefix, externalUrl)와 "
                  "인그레스 경로를 확인하세요")
        ]  # fmt: skip
    results = target_checks(targets, inventory)
    if inventory is not None:
        results += host_coverage(targets, inventory, job)
    return results


def check_ui(base_url: str, prometheus_path: str, prober: Prober | None = None) -> Check:
    """The Prometheus UI loads under the prefix, redirects and CSS/JS included (``ui_check``)."""
    prefix = "/" + prometheus_path.strip("/")
    return ui_check(base_url, prefix + "/", f"Prometheus UI {prefix}/ + CSS/JS", prefix=prefix, prober=prober)
