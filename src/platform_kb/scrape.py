"""Prometheus scrape configuration for the hosts outside the cluster (node-exporter on each host).

Where this sits: ``install.monitoring.values.render`` puts :func:`host_scrape_configs` under
``prometheus.prometheusSpec.additionalScrapeConfigs`` of kube-prometheus-stack (the Prometheus
Operator appends them to the generated configuration: prometheus-operator
``Documentation/user-guides/additional-scrape-config.md``), and the lab's real Prometheus
(``platform_kb_lab.monitoring``) is started with exactly the same list, so what the lab verifies is
what the runbook renders.

The cluster's own nodes are not here: kube-prometheus-stack's node-exporter DaemonSet is scraped
through its ServiceMonitor, whose job label is ``node-exporter``
(prometheus-community/helm-charts ``charts/kube-prometheus-stack/values.yaml``, ``nodeExporter``
and ``prometheus-node-exporter.prometheus.monitor``).
"""

from __future__ import annotations

from typing import Any

from .inventory import Inventory

HOSTS_JOB = "hosts"  # the job of the hosts' node-exporters (Proxmox hosts, the desktop)
CLUSTER_NODES_JOB = "node-exporter"  # kube-prometheus-stack's node-exporter ServiceMonitor
HOST_LABEL = "host"
ROLE_LABEL = "role"


def host_scrape_configs(
    inventory: Inventory, job: str = HOSTS_JOB, scrape_interval: str | None = None
) -> list[dict[str, Any]]:
    """One scrape job with a static target per host, labelled ``host=<name>`` (and ``role``)."""
    static = []
    for host in inventory.hosts:
        labels = {HOST_LABEL: host.name}
        if host.role:
            labels[ROLE_LABEL] = host.role
        static.append({"targets": [host.target], "labels": labels})
    config: dict[str, Any] = {"job_name": job, "static_configs": static}
    if scrape_interval:
        config["scrape_interval"] = scrape_interval
    return [config]
