"""Spark Operator (#3-10): kubeflow ``spark-operator`` with a UI Ingress per application under
``/spark-ui/<namespace>/<app>``. ``runbooks/install-spark-operator.py`` runs :data:`COMPONENT`.

``params`` (the runbook's parameter schema) · ``chart`` (pinned chart, minimum version, known keys) ·
``values`` · ``checks`` (chart version, ``urlFormat``) · ``verify`` (smoke app, its UI Ingress and UI).
"""

from __future__ import annotations

from ..pipeline import Component
from .checks import check
from .params import Params
from .values import render
from .verify import verify_spark_operator

COMPONENT = Component("spark-operator", Params, render, check, verify_spark_operator)

__all__ = ["COMPONENT", "Params"]
