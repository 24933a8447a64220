"""Airflow after apply: pods Ready, the UI and its CSS/JS through the tunnel, the log prefix on S3."""

from __future__ import annotations

from typing import Any

from ...checks.pages import ui_check
from ...results import Check
from ..connect import Cluster
from ..pipeline import verify_pods, verify_s3
from .params import Params


def verify_airflow(rb: Any, c: Cluster, p: Params) -> list[Check]:
    results = []
    if p.check_pods:
        selector = f"tier=airflow,release={p.release}"
        results.append(verify_pods(c, p.namespace, selector, "Airflow 파드 Ready", p.pod_timeout))
    if p.check_ui:
        prefix = p.ui_path.rstrip("/")
        results.append(
            ui_check(
                c.base_url, p.ui_path, f"Airflow UI ({p.ui_path}) + CSS/JS", prefix=prefix, prober=c.prober
            )
        )
    results += verify_s3(rb, c, p.bucket, p.log_prefix, p.probe_write, require_objects=False)
    return results
