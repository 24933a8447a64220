"""Lab stand-in for kube-controller-manager's endpoints controllers: Endpoints and EndpointSlices.

Fills ``Endpoints`` and ``EndpointSlice`` of every selector Service from Running+Ready pods, as
kubernetes/kubernetes ``pkg/controller/endpoint`` and ``pkg/controller/endpointslice`` do. Because
every lab "pod" shares the node address, a pod's annotation ``lab.platform-kb/ports`` maps its
container ports to the real ports on the node (the Spark UI port is picked free per driver).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from platform_kb_lab.kubeapi.errors import NotFound
from platform_kb_lab.operator.context import OperatorContext
from platform_kb_lab.operator.naming import PORTS_ANNOTATION, SERVICE_NAME_LABEL


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or not status.get("podIP"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _resolve_target_port(pod: Mapping[str, Any], target: Any) -> int | None:
    """A Service targetPort on one pod: a number, or a container port name; then the lab port map."""
    if isinstance(target, str) and not target.isdigit():
        ports = [p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
        found = next((p for p in ports if p.get("name") == target), None)
        if found is None:
            return None
        container_port = int(found["containerPort"])
    else:
        container_port = int(target)
    mapping_raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(PORTS_ANNOTATION)
    if mapping_raw:
        try:
            mapping = json.loads(mapping_raw)
            return int(mapping.get(str(container_port), container_port))
        except (ValueError, TypeError, AttributeError):
            return container_port
    return container_port


def _labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def endpoints_for(service: Mapping[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Endpoints ``subsets`` for a selector Service: ready pods grouped by their resolved ports."""
    groups: dict[tuple, dict[str, Any]] = {}
    for pod in pods:
        if not _pod_ready(pod):
            continue
        ports = []
        for sp in (service.get("spec") or {}).get("ports") or []:
            real = _resolve_target_port(pod, sp.get("targetPort", sp.get("port")))
            if real is None:
                continue
            entry = {"port": real, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                entry["name"] = sp["name"]
            ports.append(entry)
        if not ports:
            continue
        key = tuple(sorted(json.dumps(p, sort_keys=True) for p in ports))
        meta = pod["metadata"]
        address = {
            "ip": pod["status"]["podIP"],
            "targetRef": {
                "kind": "Pod",
                "name": meta["name"],
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid", ""),
            },
        }
        group = groups.setdefault(key, {"addresses": [], "ports": ports})
        group["addresses"].append(address)
    return list(groups.values())


def _slice_name(service_name: str) -> str:
    digest = hashlib.sha1(service_name.encode()).hexdigest()[:5]
    return f"{service_name[:57]}-{digest}"


def sync_endpoints(ctx: OperatorContext, service: Mapping[str, Any]) -> None:
    """Write the Service's Endpoints and EndpointSlice when they differ from what the pods say."""
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    if not selector:
        return  # a Service without selector keeps hand-made Endpoints
    meta = service["metadata"]
    namespace, name = meta.get("namespace", "default"), meta["name"]
    pods = [
        p
        for p in ctx.store.list("pods", namespace)
        if _labels_match(selector, (p.get("metadata") or {}).get("labels") or {})
    ]
    subsets = endpoints_for(service, pods)
    labels = dict(meta.get("labels") or {})
    try:
        current = ctx.store.get("endpoints", namespace, name)
    except NotFound:
        current = None
    if current is None or (current.get("subsets") or []) != subsets:
        ctx.create_or_replace(
            "endpoints",
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "subsets": subsets,
            },
        )
    slice_ports = (
        subsets[0]["ports"]
        if subsets
        else [
            {
                k: v
                for k, v in (
                    ("name", p.get("name")),
                    ("port", p.get("targetPort", p.get("port"))),
                    ("protocol", p.get("protocol", "TCP")),
                )
                if v is not None
            }
            for p in spec.get("ports") or []
        ]
    )
    endpoints = [
        {
            "addresses": [a["ip"]],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "targetRef": a["targetRef"],
        }
        for s in subsets
        for a in s["addresses"]
    ]
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": _slice_name(name),
            "namespace": namespace,
            "labels": {
                **labels,
                SERVICE_NAME_LABEL: name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": slice_ports,
    }
    try:
        existing = ctx.store.get("endpointslices", namespace, endpoint_slice["metadata"]["name"])
    except NotFound:
        existing = None
    if existing is None or existing.get("endpoints") != endpoints or existing.get("ports") != slice_ports:
        ctx.create_or_replace("endpointslices", endpoint_slice)


def on_service(ctx: OperatorContext, event_type: str, service: dict[str, Any]) -> None:
    meta = service["metadata"]
    namespace, name = meta.get("namespace", "default"), meta["name"]
    if event_type == "DELETED":
        if (service.get("spec") or {}).get("selector"):
            ctx.delete_quietly("endpoints", namespace, name)
        for found in ctx.store.list("endpointslices", namespace, label_selector={SERVICE_NAME_LABEL: name}):
            ctx.delete_quietly("endpointslices", namespace, found["metadata"]["name"])
        return
    sync_endpoints(ctx, service)


def on_pod(ctx: OperatorContext, event_type: str, pod: dict[str, Any]) -> None:
    namespace = pod["metadata"].get("namespace", "default")
    for service in ctx.store.list("services", namespace):
        if (service.get("spec") or {}).get("selector"):
            sync_endpoints(ctx, service)
