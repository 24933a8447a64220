"""The Prometheus targets check against canned /api/v1/targets answers (httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx

from platform_kb.checks import prometheus as prom
from platform_kb.inventory import inventory_from_dict
from platform_kb.probes import Prober

INVENTORY = inventory_from_dict({"hosts": [
    {"name": "pve-01", "address": "pve-01.example.internal", "role": "proxmox"},
    {"name": "pve-02", "address": "pve-02.example.internal", "role": "proxmox"},
    {"name": "desktop", "address": "desktop.example.internal"},
]})  # fmt: skip


def target(job: str, instance: str, health: str = "up", error: str = "", **labels: str) -> dict:
    # the shape of prometheus/prometheus web/api/v1/api.go Target
    return {
        "discoveredLabels": {"__address__": instance},
        "labels": {"job": job, "instance": instance, **labels},
        "scrapePool": job, "scrapeUrl": f"http://{instance}/metrics", "globalUrl": f"http://{instance}/metrics",
        "lastError": error, "lastScrape": "2026-02-10T10:00:00Z", "lastScrapeDuration": 0.01,
        "health": health, "scrapeInterval": "30s", "scrapeTimeout": "10s",
    }  # fmt: skip


TARGETS = [
    target("hosts", "pve-01.example.internal:9100", host="pve-01", role="proxmox"),
    target("hosts", "pve-02.example.internal:9100", "down", 'Get "http://pve-02.example.internal:9100/metrics": dial tcp 192.0.2.12:9100: '
           "connect: connection refused", host="pve-02", role="proxmox"),
    target("node-exporter", "192.0.2.21:9100", node="k8s-1"),
    target("kube-controller-manager", "192.0.2.21:10257", "down", "connect: connection refused"),
]  # fmt: skip


def client(targets: list[dict], seen: list[str] | None = None, status: int = 200) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        body = {"status": "success", "data": {"activeTargets": targets, "droppedTargets": []}}
        return httpx.Response(status, text=json.dumps(body), headers={"content-type": "application/json"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_down_host_target_has_the_hosts_fix_and_last_error() -> None:
    seen: list[str] = []
    results = prom.check_targets(client(TARGETS, seen), "http://127.0.0.1:8080", "/prometheus", INVENTORY)
    assert seen == ["http://127.0.0.1:8080/prometheus/api/v1/targets?state=active"]
    down = [c for c in results if c.id == "target-down"]
    assert [c.title for c in down] == ["Prometheus 대상 hosts / host pve-02",
                                       "Prometheus 대상 kube-controller-manager / 192.0.2.21:10257"]  # fmt: skip
    host = down[0]
    assert not host.ok and host.severity == "error"
    assert "connection refused" in host.detail and host.evidence["lastError"].endswith("connection refused")
    assert host.evidence["host"] == "pve-02"
    assert "ssh -J <배스천> pve-02.example.internal systemctl status prometheus-node-exporter" in host.fix
    assert "pve-firewall" in host.fix and "9100" in host.fix
    kcm = down[1]
    assert "--bind-address=0.0.0.0" in kcm.fix and "kubeControllerManager.enabled: false" in kcm.fix
    summary = next(c for c in results if c.id == "targets")
    assert not summary.ok and summary.detail == "2/4 up (3 job(s))"
    missing = [c for c in results if c.id == "host-not-scraped"]
    assert [c.evidence["host"] for c in missing] == ["desktop"]
    assert "additionalScrapeConfigs" in missing[0].fix
    coverage = next(c for c in results if c.id == "hosts-scraped")
    assert not coverage.ok and coverage.detail == "2/3 host(s)"


def test_all_up_and_covered() -> None:
    up = [target("hosts", f"{h.address}:9100", host=h.name) for h in INVENTORY.hosts]
    results = prom.check_targets(client(up), "http://127.0.0.1:8080", "/prometheus/", INVENTORY)
    assert [(c.id, c.ok) for c in results] == [("targets", True), ("hosts-scraped", True)]


def test_other_jobs_get_their_own_fixes() -> None:
    for job, words in [("node-exporter", "DaemonSet"), ("kube-proxy", "metricsBindAddress"),
                       ("kube-etcd", "--listen-metrics-urls"), ("kube-scheduler", "kubeScheduler.enabled"),
                       ("kube-prometheus-stack-grafana", "grafana.serviceMonitor.path"), ("other", "lastError")]:  # fmt: skip
        (check, _summary) = prom.target_checks([prom.Target.from_api(target(job, "192.0.2.1:1", "down"))])
        assert words in check.fix, job


def test_api_unreachable_is_a_check_not_a_crash() -> None:
    (only,) = prom.check_targets(client([], status=404), "http://127.0.0.1:8080", "/prometheus")
    assert only.id == "targets-api" and not only.ok and "404" in only.detail and "routePrefix" in only.fix


def test_prometheus_ui_under_the_prefix() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/prometheus/":
            return httpx.Response(302, headers={"location": "/prometheus/query"})
        if request.url.path == "/prometheus/query":
            html = '<html><script src="./assets/index.js"></script></html>'
            return httpx.Response(200, text=html, headers={"content-type": "text/html"})
        if request.url.path == "/prometheus/assets/index.js":
            return httpx.Response(200, text="//js", headers={"content-type": "text/javascript"})
        return httpx.Response(404)

    prober = Prober(transport=httpx.MockTransport(handler))
    check = prom.check_ui("http://127.0.0.1:8080", "/prometheus", prober)
    assert check.ok, check.detail
