"""Spark Operator's values: kubeflow/spark-operator with the UI Ingress on (``controller.uiIngress``)."""

from __future__ import annotations

from typing import Any

from ..spec import InstallSpec, Release, deep_merge, ns_manifest, parse_extra_values
from .params import Params


def render(p: Params) -> InstallSpec:
    """Values for kubeflow/spark-operator ``charts/spark-operator-chart`` with the UI Ingress on."""
    values: dict[str, Any] = {
        "controller": {
            "uiService": {"enable": True},  # required for uiIngress (chart README)
            "uiIngress": {
                "enable": True,
                "urlFormat": p.url_format,
                "ingressClassName": p.ingress_class,
            },
        },
        "spark": {"jobNamespaces": p.namespaces},
        "webhook": {"enable": bool(p.webhook_enable)},
    }
    values = deep_merge(values, parse_extra_values(p.extra_values))
    # spark.jobNamespaces "must already exist" (chart values.yaml); the runbook creates them
    objects = tuple(ns_manifest(ns) for ns in p.namespaces)
    release = Release(p.release, p.namespace, p.chart, values, f"{p.release}-values.yaml")
    return InstallSpec("spark-operator", objects, release)
