"""Spark History Server (#3-10): plain manifests (no official chart) reading the event logs on MinIO
through S3A, under the ingress path ``/spark-history``. ``runbooks/install-spark-history-server.py``
runs :data:`COMPONENT`.

``params`` (the runbook's parameter schema; the S3A jar pair is ``..s3a``) · ``manifests``
(what it applies) · ``checks`` · ``verify`` (UI, S3 prefix, a smoke app the History Server lists).
"""

from __future__ import annotations

from ..pipeline import Component
from .checks import check
from .manifests import render
from .params import Params
from .verify import verify_history

COMPONENT = Component(
    "spark-history-server", Params, render, check, verify_history, render_title="매니페스트 렌더링과 검사"
)

__all__ = ["COMPONENT", "Params"]
