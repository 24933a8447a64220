"""Spark Operator after apply: pods Ready, a smoke app's UI Ingress at the ``urlFormat`` path, its UI.

The UI Ingress is found by label ``sparkoperator.k8s.io/app-name``, never by rebuilding the name
(kubeflow/spark-operator ``pkg/util/sparkapplication.go``; :func:`..verify.ui_ingress`).
"""

from __future__ import annotations

from typing import Any

from ...checks.pages import ui_check
from ...results import Check
from .. import sparkapp, verify
from ..connect import Cluster
from ..pipeline import verify_pods
from .params import Params


def verify_spark_operator(rb: Any, c: Cluster, p: Params) -> list[Check]:
    results = []
    if p.check_pods:
        selector = f"app.kubernetes.io/instance={p.release}"
        results.append(verify_pods(c, p.namespace, selector, "Spark Operator 파드 Ready", p.pod_timeout))
    namespace = p.smoke_namespace or p.namespaces[0]
    manifest = sparkapp.smoke_manifest(p, namespace)
    app = manifest["metadata"]["name"]
    if not sparkapp.submit(rb, c, manifest):
        return results  # --plan: the smoke application is only listed
    status = sparkapp.wait(c, namespace, app, ("RUNNING", *verify.FINISHED_STATES), p.smoke_timeout)
    path = verify.expected_ui_path(p.url_format, app, namespace, str(status.get("sparkApplicationId") or ""))
    ingress = verify.poll(
        lambda: verify.ui_ingress(c.net, namespace, app, path, "UI Ingress 경로"), lambda r: r.ok, 60, 1.0
    )
    results.append(ingress)
    if verify.app_state(status) == "RUNNING":
        # the ingress controller needs a moment to route to a driver that just became ready (503 meanwhile)
        results.append(
            verify.poll(
                lambda: ui_check(
                    c.base_url, path + "/", f"Spark UI {path}/ + CSS/JS", prefix=path, prober=c.prober
                ),
                lambda r: r.ok,
                60,
                1.0,
            )
        )
    else:
        results.append(Check.failed("ui", f"Spark UI {path}/", f"app state {verify.app_state(status) or 'unknown'}, "
                                    "not RUNNING: the UI could not be checked", severity="warning"))  # fmt: skip
    return results
