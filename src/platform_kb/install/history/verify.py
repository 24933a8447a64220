"""The History Server after apply: pods Ready, its UI under the prefix, the event-log prefix on S3, and a
smoke app that, once finished, the History Server lists and whose event log lands on the prefix."""

from __future__ import annotations

from typing import Any

from ...checks.pages import ui_check
from ...results import Check
from .. import sparkapp, verify
from ..connect import Cluster
from ..pipeline import verify_pods, verify_s3
from .params import Params


def verify_history(rb: Any, c: Cluster, p: Params) -> list[Check]:
    results = []
    if p.check_pods:
        selector = f"app.kubernetes.io/name={p.name}"
        results.append(verify_pods(c, p.namespace, selector, "History Server 파드 Ready", p.pod_timeout))
    prefix = p.ui_path.rstrip("/")
    results.append(
        ui_check(
            c.base_url, prefix + "/", f"History Server UI {prefix}/ + CSS/JS", prefix=prefix, prober=c.prober
        )
    )
    results += verify_s3(rb, c, p.bucket, p.log_prefix, p.probe_write, require_objects=False)
    before = {o.key for o in c.s3.list_objects(p.bucket, p.log_prefix)} if c.s3 else set()
    namespace = p.smoke_namespace or "spark"
    secret = p.smoke_event_log_secret or None
    manifest = sparkapp.smoke_manifest(
        p, namespace, p.log_directory, p.s3_endpoint, secret, p.smoke_fetch_jars
    )
    app = manifest["metadata"]["name"]
    if not sparkapp.submit(rb, c, manifest):
        return results
    status = sparkapp.wait(c, namespace, app, ("COMPLETED", "FAILED"), p.smoke_timeout)
    state, app_id = verify.app_state(status), str(status.get("sparkApplicationId") or "")
    if state != "COMPLETED" or not app_id:
        results.append(Check.failed("smoke-app", f"검증 앱 {namespace}/{app}", f"state {state or 'unknown'}, "
                                    f"application id {app_id or '-'}"))  # fmt: skip
        return results
    results.append(Check.passed("smoke-app", f"검증 앱 {namespace}/{app}", f"COMPLETED ({app_id})"))
    results.append(
        verify.history_lists(c.http, c.base_url, prefix, app_id, "History Server가 검증 앱을 나열", 60)
    )
    if c.s3 is not None:
        results.append(
            verify.s3_new_objects(
                c.s3, p.bucket, p.log_prefix, before, f"s3://{p.bucket}/{p.log_prefix} 이벤트 로그 수신", 60
            )
        )
    return results
