"""Monitoring (#3-11): kube-prometheus-stack (Prometheus Operator, Prometheus, Grafana) in the cluster and
node-exporter on the hosts outside it. ``runbooks/install-monitoring.py`` runs :data:`COMPONENT`.

``params`` (the runbook's parameter schema, inventory) · ``chart`` (pinned chart, known keys) · ``values``
· ``checks`` · ``nodes`` (the hosts' node-exporter steps, :class:`~.nodes.MonitoringInstall`) · ``verify``.
"""

from __future__ import annotations

from ..pipeline import Component
from .checks import check
from .nodes import MonitoringInstall
from .params import Params
from .values import render
from .verify import verify_monitoring

COMPONENT = Component(
    "kube-prometheus-stack", Params, render, check, verify_monitoring,
    render_title="값 렌더링과 검사", plan_title="계획: 클러스터", job=MonitoringInstall,
)  # fmt: skip

__all__ = ["COMPONENT", "Params"]
