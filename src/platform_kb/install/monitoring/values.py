"""Monitoring's values: kube-prometheus-stack with Grafana and Prometheus under ingress sub-paths, and one
scrape job for the inventory's hosts (their node-exporters are installed by ``nodes.py``)."""

from __future__ import annotations

from typing import Any

from ...inventory import Inventory
from ..spec import DesiredSecret, InstallSpec, Release, deep_merge, ns_manifest, parse_extra_values
from .params import Params, load_monitoring_inventory

# --- monitoring: kube-prometheus-stack + node-exporter on the inventory's hosts -------------------
GRAFANA_ADMIN_USER_KEY = "admin-user"  # grafana/helm-charts charts/grafana/values.yaml admin.userKey default
GRAFANA_ADMIN_PASSWORD_KEY = "admin-password"  # ... admin.passwordKey default


def render(p: Params, inventory: Inventory | None = None) -> InstallSpec:
    """Values for kube-prometheus-stack: Grafana under ``grafana_path``, Prometheus under ``prometheus_path``,
    retention/storage, admin credentials from a Secret, and one scrape job for the inventory's hosts.

    ``inventory`` defaults to the file named by ``p.inventory`` (the runbook passes it when it has loaded it).
    Upstream: prometheus-community/helm-charts ``charts/kube-prometheus-stack/values.yaml`` (prometheus.ingress
    ``paths`` default to ``prometheusSpec.routePrefix``; ``grafana.serviceMonitor.path`` must follow a
    sub-path ``root_url``, PR #364); grafana/helm-charts ``charts/grafana/values.yaml`` (``admin.existingSecret``).
    """
    from ...scrape import host_scrape_configs

    inventory = inventory if inventory is not None else load_monitoring_inventory(p)
    grafana_prefix, prom_prefix = p.grafana_prefix, p.prometheus_prefix
    admin_user = p.grafana_admin_user
    secret = DesiredSecret(
        p.grafana_admin_secret, p.namespace,
        {"grafana_admin_password_ref": p.grafana_admin_password_ref},
        lambda v: {GRAFANA_ADMIN_USER_KEY: admin_user,
                   GRAFANA_ADMIN_PASSWORD_KEY: v["grafana_admin_password_ref"]},
        purpose="Grafana admin credentials (grafana.admin.existingSecret)",
    )  # fmt: skip
    grafana: dict[str, Any] = {
        # the chart reads the admin user/password from this Secret; adminPassword is then ignored
        "admin": {
            "existingSecret": p.grafana_admin_secret,
            "userKey": GRAFANA_ADMIN_USER_KEY,
            "passwordKey": GRAFANA_ADMIN_PASSWORD_KEY,
        },
        "ingress": {
            "enabled": True,
            "ingressClassName": p.ingress_class,
            "hosts": [],  # no host: the rule matches whatever Host the tunnel sends
            "path": grafana_prefix,
            "pathType": "Prefix",
        },
        "grafana.ini": {
            "server": {"root_url": p.root_url, "serve_from_sub_path": bool(p.serve_from_sub_path)}
        },
    }
    if p.serve_from_sub_path:
        grafana["serviceMonitor"] = {"path": f"{grafana_prefix}/metrics"}
    spec: dict[str, Any] = {
        "routePrefix": prom_prefix,
        "externalUrl": p.external_url,
        "retention": p.retention,
    }
    if p.retention_size:
        spec["retentionSize"] = p.retention_size
    if p.storage_size:
        claim: dict[str, Any] = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": p.storage_size}},
        }
        if p.storage_class:
            claim["storageClassName"] = p.storage_class
        spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
    if inventory is not None and inventory.hosts:
        spec["additionalScrapeConfigs"] = host_scrape_configs(
            inventory, p.hosts_job, p.hosts_scrape_interval or None
        )
    values: dict[str, Any] = {
        "grafana": grafana,
        "prometheus": {
            "ingress": {
                "enabled": True,
                "ingressClassName": p.ingress_class,
                "hosts": [],
                "paths": [prom_prefix],
                "pathType": "Prefix",
            },
            "prometheusSpec": spec,
        },
        "nodeExporter": {"enabled": bool(p.cluster_node_exporter)},
    }
    values = deep_merge(values, parse_extra_values(p.extra_values))
    notes = [
        f"Grafana: {p.external_url_base.rstrip('/')}{grafana_prefix}/ (root_url {p.root_url}, "
        f"serve_from_sub_path {str(bool(p.serve_from_sub_path)).lower()})",
        f"Prometheus: {p.external_url}/ (routePrefix {prom_prefix}), 보존 {p.retention}"
        + (f" / {p.retention_size}" if p.retention_size else ""),
    ]
    if inventory is not None and inventory.hosts:
        notes.append(
            f"스크레이프 잡 `{p.hosts_job}`: " + ", ".join(f"{h.name} ({h.target})" for h in inventory.hosts)
        )
    else:
        notes.append("호스트 인벤토리가 없어 클러스터 밖 호스트는 스크레이프하지 않습니다.")
    release = Release(p.release, p.namespace, p.chart, values, f"{p.release}-values.yaml")
    return InstallSpec("kube-prometheus-stack", (ns_manifest(p.namespace), secret), release, tuple(notes))
