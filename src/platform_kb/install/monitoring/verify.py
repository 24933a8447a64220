"""Monitoring after apply: pods Ready, the Prometheus UI under its prefix, every target up (the inventory's
hosts included), Grafana's sub-path (``checks.prometheus``, ``checks.grafana``)."""

from __future__ import annotations

from typing import Any

from ...inventory import Inventory
from ...results import Check
from .. import verify
from ..connect import Cluster
from ..pipeline import verify_pods
from ..spec import parse_extra_values
from .params import Params, load_monitoring_inventory


def monitoring_selectors(p: Params) -> dict[str, str]:
    """Pod selectors of the release, as the charts label them.

    prometheus-community/helm-charts ``charts/kube-prometheus-stack/templates/prometheus-operator/deployment.yaml``
    (``app: <name>-operator``, ``release``), ``_helpers.tpl`` (fullname: the release name when it contains
    the chart name, truncated to 26; the Prometheus CR ``<fullname>-prometheus``); prometheus-operator labels the
    Prometheus pods ``app.kubernetes.io/name=prometheus`` + ``operator.prometheus.io/name=<CR>``;
    grafana/helm-charts ``grafana.selectorLabels`` (``app.kubernetes.io/name=grafana``, ``instance=<release>``).
    """
    extra = parse_extra_values(p.extra_values)
    name = str(extra.get("nameOverride") or "kube-prometheus-stack")
    if extra.get("fullnameOverride"):
        full = str(extra["fullnameOverride"])[:26].rstrip("-")
    elif name in p.release:
        full = p.release[:26].rstrip("-")
    else:
        full = f"{p.release}-{name}"[:26].rstrip("-")
    cr = full if extra.get("cleanPrometheusOperatorObjectNames") else f"{full}-prometheus"
    return {
        "operator": f"app={name}-operator,release={p.release}",
        "prometheus": f"app.kubernetes.io/name=prometheus,operator.prometheus.io/name={cr}",
        "grafana": f"app.kubernetes.io/name=grafana,app.kubernetes.io/instance={p.release}",
    }


def verify_monitoring(rb: Any, c: Cluster, p: Params, inventory: Inventory | None = None) -> list[Check]:
    """Pods Ready, the Prometheus UI under its prefix, every target up (inventory hosts included), Grafana's
    sub-path. ``inventory`` defaults to the file named by ``p.inventory``."""
    from ...checks import prometheus as prom

    inventory = inventory if inventory is not None else load_monitoring_inventory(p)
    results: list[Check] = []
    timeout = p.pod_timeout
    if p.check_pods:
        titles = {"operator": "Prometheus Operator 파드 Ready", "prometheus": "Prometheus 파드 Ready",
                  "grafana": "Grafana 파드 Ready"}  # fmt: skip
        for key, selector in monitoring_selectors(p).items():
            results.append(verify_pods(c, p.namespace, selector, titles[key], timeout))
    results.append(
        verify.poll(
            lambda: prom.check_ui(c.base_url, p.prometheus_path, prober=c.prober), lambda r: r.ok, 60, 2.0
        )
    )
    targets_timeout = p.targets_timeout
    results += verify.poll(
        lambda: prom.check_targets(c.http, c.base_url, p.prometheus_path, inventory, p.hosts_job),
        lambda checks_: all(x.ok for x in checks_), targets_timeout, 5.0,
    )  # fmt: skip
    results += _grafana_subpath(c, p)
    return results


def _grafana_subpath(c: Cluster, p: Params) -> list[Check]:
    try:
        from ...checks.grafana import check_grafana_subpath
    except ImportError as exc:
        return [
            Check.skipped("grafana-subpath", f"Grafana {p.grafana_prefix}/", f"check not available ({exc})")
        ]
    return list(check_grafana_subpath(c.http, c.base_url, p.grafana_prefix))
