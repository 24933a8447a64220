"""The operator's reconcile handlers: submission, cleanup, and the driver's start and end.

Reproduces kubeflow/spark-operator ``internal/controller/sparkapplication/controller.go``
(``submitSparkApplication``, the Submitted-state web UI creation, ``updateDriverState``,
``GetDriverState``, ``deleteSparkResources``): status ``applicationState.state`` SUBMITTED →
RUNNING → SUCCEEDING/FAILING → COMPLETED/FAILED, ``driverInfo`` web UI fields, ``submissionID``,
``sparkApplicationId``, ``terminationTime``, and the events the operator records.
:func:`default_registry` registers them with the endpoints controller stand-in (:mod:`.endpoints`).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from platform_kb_lab.driver import DriverRequest
from platform_kb_lab.kubeapi.errors import NotFound
from platform_kb_lab.operator.context import DriverRun, Handler, HandlerRegistry, OperatorContext
from platform_kb_lab.operator.endpoints import on_pod, on_service
from platform_kb_lab.operator.model import (
    COMPLETED,
    FAILED,
    FAILING,
    NEW,
    RUNNING,
    SUBMISSION_FAILED,
    SUBMITTED,
    SUCCEEDING,
    utc_now,
)
from platform_kb_lab.operator.naming import (
    LABEL_SPARK_APP_SELECTOR,
    PORTS_ANNOTATION,
    app_conf,
    app_spec,
    driver_pod_name,
    ingress_url,
    operator_spark_conf,
    ui_target_port,
)
from platform_kb_lab.operator.resources import (
    build_driver_pod,
    build_ui_ingress,
    build_ui_service,
    running_pod_status,
    terminated_pod_status,
)

log = logging.getLogger(__name__)


def submit_application(ctx: OperatorContext, event_type: str, app: dict[str, Any]) -> None:
    """New SparkApplication: launch the driver, create its pod, UI Service and Ingress, set status."""
    meta = app["metadata"]
    state = ((app.get("status") or {}).get("applicationState") or {}).get("state", NEW)
    if state != NEW:
        return
    key = (meta.get("namespace", "default"), meta["name"])
    running = ctx.drivers.get(key)
    if running is not None and running.app_uid == meta.get("uid"):
        return
    namespace, name = key
    submission_id = str(uuid.uuid4())
    pod_name = driver_pod_name(app)
    web_conf = operator_spark_conf(app, ctx.settings)
    driver_conf = {**app_conf(app), **(web_conf if ctx.settings.proxy_conf_reaches_driver else {})}
    spec = app_spec(app)
    request = DriverRequest(
        namespace=namespace,
        app_name=name,
        pod_name=pod_name,
        submission_id=submission_id,
        main_application_file=str(spec.get("mainApplicationFile") or ""),
        arguments=tuple(str(a) for a in spec.get("arguments") or ()),
        spark_conf=driver_conf,
    )
    attempt = {
        "submissionID": submission_id,
        "lastSubmissionAttemptTime": utc_now(),
        "submissionAttempts": int((app.get("status") or {}).get("submissionAttempts") or 0) + 1,
    }
    try:
        handle = ctx.launcher.launch(request)
    except Exception as exc:  # spark-submit failed: SUBMISSION_FAILED, as upstream
        log.exception("could not launch the driver of %s/%s", namespace, name)
        ctx.patch_status(
            "sparkapplications",
            namespace,
            name,
            {**attempt, "applicationState": {"state": SUBMISSION_FAILED, "errorMessage": str(exc)}},
        )
        ctx.record_event(
            app,
            "Warning",
            "SparkApplicationSubmissionFailed",
            f"failed to submit SparkApplication {name}: {exc}",
        )
        return
    image = str(spec.get("image") or "spark:4.3.0")
    ctx.drivers[key] = DriverRun(
        namespace, name, meta.get("uid", ""), submission_id, pod_name, handle, ui_target_port(app), image
    )
    ctx.save_records()
    ctx.delete_quietly("pods", namespace, pod_name)  # a leftover of an earlier run with the same name
    ctx.store.create("pods", namespace, build_driver_pod(app, submission_id))
    driver_info: dict[str, Any] = {"podName": pod_name}
    ctx.patch_status(
        "sparkapplications",
        namespace,
        name,
        {
            **attempt,
            "applicationState": {"state": SUBMITTED},
            "executionAttempts": int((app.get("status") or {}).get("executionAttempts") or 0) + 1,
            "driverInfo": driver_info,
        },
    )
    ctx.record_event(
        app, "Normal", "SparkApplicationSubmitted", f"SparkApplication {name} was submitted successfully"
    )
    driver_info.update(_create_web_ui(ctx, app, submission_id))
    ctx.patch_status("sparkapplications", namespace, name, {"driverInfo": driver_info})


def _create_web_ui(ctx: OperatorContext, app: dict[str, Any], submission_id: str) -> dict[str, Any]:
    """The Submitted-state part of ``controller.go``: UI Service, then the UI Ingress when urlFormat is set."""
    if not ctx.settings.ui_service_enable:
        return {}
    meta = app["metadata"]
    service = ctx.create_or_replace("services", build_ui_service(app, submission_id))
    port = service["spec"]["ports"][0]["port"]
    info: dict[str, Any] = {
        "webUIServiceName": service["metadata"]["name"],
        "webUIPort": port,
        "webUIAddress": f"{service['spec'].get('clusterIP', '')}:{port}",
    }
    if ctx.settings.url_format:
        url = ingress_url(ctx.settings.url_format, meta["name"], meta.get("namespace", "default"))
        ingress = ctx.create_or_replace(
            "ingresses",
            build_ui_ingress(app, submission_id, service["metadata"]["name"], port, url, ctx.settings),
        )
        info["webUIIngressName"] = ingress["metadata"]["name"]
        info["webUIIngressAddress"] = str(url)
    return info


def cleanup_application(ctx: OperatorContext, event_type: str, app: dict[str, Any]) -> None:
    """Deleted SparkApplication: stop the driver; delete its pod, UI Service and UI Ingress."""
    meta = app["metadata"]
    namespace, name = meta.get("namespace", "default"), meta["name"]
    run = ctx.drivers.pop((namespace, name), None)
    if run is not None:
        run.handle.stop()
        ctx.save_records()
    info = (app.get("status") or {}).get("driverInfo") or {}
    ctx.delete_quietly("pods", namespace, info.get("podName") or driver_pod_name(app))
    if info.get("webUIServiceName"):
        ctx.delete_quietly("services", namespace, info["webUIServiceName"])
    if info.get("webUIIngressName"):
        ctx.delete_quietly("ingresses", namespace, info["webUIIngressName"])


def driver_started(ctx: OperatorContext, run: DriverRun) -> None:
    """The driver's UI answers: pod Running and Ready on the node address, app RUNNING."""
    address = run.handle.ui_address()
    if address is None:
        return
    host, port = address
    now = utc_now()
    app_id = run.handle.application_id() or ""
    annotations = {PORTS_ANNOTATION: json.dumps({str(run.ui_target_port): port})}
    try:
        ctx.store.patch(
            "pods",
            run.namespace,
            run.pod_name,
            {"metadata": {"labels": {LABEL_SPARK_APP_SELECTOR: app_id}, "annotations": annotations}},
        )
    except NotFound:
        return
    ctx.patch_status("pods", run.namespace, run.pod_name, running_pod_status(host, run.image, now))
    app = ctx.patch_status(
        "sparkapplications",
        run.namespace,
        run.app_name,
        {"applicationState": {"state": RUNNING}, "sparkApplicationId": app_id},
    )
    run.phase = "running"
    if app is not None:
        ctx.record_event(app, "Normal", "SparkDriverRunning", f"Driver {run.pod_name} is running")


def driver_ended(ctx: OperatorContext, run: DriverRun, exit_code: int) -> None:
    """The driver process exited: pod Succeeded/Failed, app COMPLETED/FAILED (via SUCCEEDING/FAILING)."""
    run.phase = "done"
    now = utc_now()
    succeeded = exit_code == 0
    reason = "Completed" if succeeded else "Error"
    ctx.patch_status(
        "pods", run.namespace, run.pod_name, terminated_pod_status(run.image, exit_code, reason, now)
    )
    passing, final = (SUCCEEDING, COMPLETED) if succeeded else (FAILING, FAILED)
    state: dict[str, Any] = {"state": passing}
    if not succeeded:
        state["errorMessage"] = f"driver container failed with ExitCode: {exit_code}, Reason: {reason}"
    patch = {"applicationState": state, "terminationTime": now}
    if run.handle.application_id():
        patch["sparkApplicationId"] = run.handle.application_id()
    if ctx.patch_status("sparkapplications", run.namespace, run.app_name, patch) is None:
        return
    app = ctx.patch_status(
        "sparkapplications", run.namespace, run.app_name, {"applicationState": {**state, "state": final}}
    )
    if app is not None:
        if succeeded:
            ctx.record_event(app, "Normal", "SparkDriverCompleted", f"Driver {run.pod_name} completed")
            ctx.record_event(
                app, "Normal", "SparkApplicationCompleted", f"SparkApplication {run.app_name} completed"
            )
        else:
            ctx.record_event(app, "Warning", "SparkDriverFailed", f"Driver {run.pod_name} failed")
            ctx.record_event(
                app,
                "Warning",
                "SparkApplicationFailed",
                f"SparkApplication {run.app_name} failed: {state['errorMessage']}",
            )


def default_registry() -> HandlerRegistry:
    """The built-in handlers: submission, cleanup, and the endpoints controller stand-in."""
    registry = HandlerRegistry()
    registry.register(
        Handler("submit", "sparkapplications", frozenset({"ADDED", "MODIFIED"}), submit_application)
    )
    registry.register(Handler("cleanup", "sparkapplications", frozenset({"DELETED"}), cleanup_application))
    registry.register(
        Handler(
            "endpoints-from-services", "services", frozenset({"ADDED", "MODIFIED", "DELETED"}), on_service
        )
    )
    registry.register(
        Handler("endpoints-from-pods", "pods", frozenset({"ADDED", "MODIFIED", "DELETED"}), on_pod)
    )
    return registry
