"""The objects the operator renders for a SparkApplication: UI Service, UI Ingress, driver pod.

Reproduces kubeflow/spark-operator ``internal/controller/sparkapplication/driveringress.go``
(``createDriverIngressService``: selector, labels, type; ``createDriverIngressV1``:
``<path>(/|$)(.*)``, ``rewrite-target: /$2``, ``pathType: ImplementationSpecific``, host from the
URL) and the driver pod as Spark on Kubernetes names and labels it, with the pod statuses the lab
gives it when its driver process starts and ends (a lab stand-in: the driver is a local process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_kb_lab.operator.model import OperatorSettings
from platform_kb_lab.operator.naming import (
    DRIVER_CONTAINER,
    LABEL_APP_NAME,
    LABEL_LAUNCHED_BY_OPERATOR,
    LABEL_SPARK_ROLE,
    LABEL_SUBMISSION_ID,
    REWRITE_TARGET,
    SPARK_ROLE_DRIVER,
    IngressURL,
    app_spec,
    driver_pod_name,
    owner_reference,
    resource_labels,
    ui_ingress_name,
    ui_options,
    ui_service_name,
    ui_service_port,
    ui_service_port_name,
    ui_target_port,
)


def build_ui_service(app: Mapping[str, Any], submission_id: str) -> dict[str, Any]:
    """The UI Service (``createWebUIService`` → ``createDriverIngressService``)."""
    meta = app["metadata"]
    options = ui_options(app) or {}
    labels = resource_labels(meta["name"], submission_id)
    if options.get("serviceLabels"):
        labels = dict(options["serviceLabels"])  # upstream replaces, it does not merge
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": ui_service_name(meta["name"]),
            "namespace": meta.get("namespace", "default"),
            "labels": labels,
            "ownerReferences": [owner_reference(app)],
        },
        "spec": {
            "ports": [
                {
                    "name": ui_service_port_name(app),
                    "port": ui_service_port(app),
                    "targetPort": ui_target_port(app),
                }
            ],
            "selector": {LABEL_APP_NAME: meta["name"], LABEL_SPARK_ROLE: SPARK_ROLE_DRIVER},
            "type": str(options.get("serviceType") or "ClusterIP"),
        },
    }
    if options.get("serviceAnnotations"):
        service["metadata"]["annotations"] = dict(options["serviceAnnotations"])
    return service


def build_ui_ingress(
    app: Mapping[str, Any],
    submission_id: str,
    service_name: str,
    service_port: int,
    url: IngressURL,
    settings: OperatorSettings,
) -> dict[str, Any]:
    """The UI Ingress (``createDriverIngressV1``)."""
    meta = app["metadata"]
    options = ui_options(app) or {}
    path = url.path + "(/|$)(.*)" if url.has_subpath else url.path
    annotations = {**dict(settings.ingress_annotations), **dict(options.get("ingressAnnotations") or {})}
    if url.has_subpath:
        annotations[REWRITE_TARGET] = "/$2"
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": "ImplementationSpecific",
                    "backend": {"service": {"name": service_name, "port": {"number": service_port}}},
                }
            ]
        }
    }
    if url.host:
        rule = {"host": url.host, **rule}
    ingress: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": ui_ingress_name(meta["name"]),
            "namespace": meta.get("namespace", "default"),
            "labels": resource_labels(meta["name"], submission_id),
            "ownerReferences": [owner_reference(app)],
        },
        "spec": {"rules": [rule]},
    }
    if annotations:
        ingress["metadata"]["annotations"] = annotations
    if options.get("ingressTLS"):
        ingress["spec"]["tls"] = list(options["ingressTLS"])
    if settings.ingress_class_name:
        ingress["spec"]["ingressClassName"] = settings.ingress_class_name
    return ingress


def build_driver_pod(app: Mapping[str, Any], submission_id: str) -> dict[str, Any]:
    """The driver pod as Spark on Kubernetes names and labels it (phase Pending until the UI is up)."""
    meta = app["metadata"]
    spec = app_spec(app)
    driver = spec.get("driver") or {}
    labels = {
        **dict(driver.get("labels") or {}),
        LABEL_SPARK_ROLE: SPARK_ROLE_DRIVER,
        LABEL_APP_NAME: meta["name"],
        LABEL_SUBMISSION_ID: submission_id,
        LABEL_LAUNCHED_BY_OPERATOR: "true",
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": driver_pod_name(app),
            "namespace": meta.get("namespace", "default"),
            "labels": labels,
            "annotations": dict(driver.get("annotations") or {}),
            "ownerReferences": [owner_reference(app)],
        },
        "spec": {
            "serviceAccountName": str(driver.get("serviceAccount") or "default"),
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": DRIVER_CONTAINER,
                    "image": str(spec.get("image") or "spark:4.3.0"),
                    "args": ["driver", "--properties-file", "/opt/spark/conf/spark.properties"],
                    "ports": [
                        {"name": "driver-rpc-port", "containerPort": 7078, "protocol": "TCP"},
                        {"name": "blockmanager", "containerPort": 7079, "protocol": "TCP"},
                        {"name": "spark-ui", "containerPort": ui_target_port(app), "protocol": "TCP"},
                    ],
                }
            ],
        },
        "status": {"phase": "Pending"},
    }


def running_pod_status(host: str, image: str, now: str) -> dict[str, Any]:
    """The driver pod's status once its UI answers: Running and Ready on the node address."""
    return {
        "phase": "Running",
        "podIP": host,
        "podIPs": [{"ip": host}],
        "hostIP": host,
        "startTime": now,
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
        ],
        "containerStatuses": [_driver_container_status(image, True, {"running": {"startedAt": now}})],
    }


def terminated_pod_status(image: str, exit_code: int, reason: str, now: str) -> dict[str, Any]:
    """The driver pod's status once the driver process exited: Succeeded (exit code 0) or Failed."""
    terminated = {"terminated": {"exitCode": exit_code, "reason": reason, "finishedAt": now}}
    return {
        "phase": "Succeeded" if exit_code == 0 else "Failed",
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": now},
            {
                "type": "ContainersReady",
                "status": "False",
                "reason": "PodCompleted",
                "lastTransitionTime": now,
            },
        ],
        "containerStatuses": [_driver_container_status(image, False, terminated)],
    }


def _driver_container_status(image: str, running: bool, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": DRIVER_CONTAINER,
        "image": image,
        "imageID": f"lab://{image}",
        "ready": running,
        "started": running,
        "restartCount": 0,
        "state": state,
    }
