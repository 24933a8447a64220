"""Airflow (#3-10): the official ``apache-airflow/airflow`` chart, KubernetesExecutor, git-sync DAGs,
task logs on MinIO. ``runbooks/install-airflow.py`` runs :data:`COMPONENT` through the install pipeline.

``params`` (the runbook's parameter schema) · ``chart`` (pinned chart, known keys) · ``values`` (values
and Secrets) · ``checks`` (the project's checks) · ``verify`` (after apply).
"""

from __future__ import annotations

from ..pipeline import Component
from .checks import check
from .params import Params
from .values import render
from .verify import verify_airflow

COMPONENT = Component("airflow", Params, render, check, verify_airflow)

__all__ = ["COMPONENT", "Params"]
