"""Server-side ``Table`` rendering, so ``kubectl get`` against the lab API prints real columns.

Called by ``server.py`` when a GET asks for ``application/json;as=Table;g=meta.k8s.io`` (what
kubectl sends). Columns follow the real printers (kubernetes/kubernetes
``pkg/printers/internalversion/printers.go``) for pods, services, endpoints, ingresses,
namespaces and events, and a resource's ``printer_columns`` (CRD ``additionalPrinterColumns``) otherwise;
ages are formatted like k8s.io/apimachinery ``pkg/util/duration.HumanDuration``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from platform_kb_lab.kubeapi.objects import StoredObject
from platform_kb_lab.kubeapi.resources import Resource

Column = tuple[str, str, int]  # name, type, priority (1 = only with -o wide)
Cells = Callable[[Mapping[str, Any]], list[Any]]


def wants_table(headers: Mapping[str, str]) -> bool:
    accept = headers.get("Accept", "")
    return "as=Table" in accept and "g=meta.k8s.io" in accept


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes, hours = s // 60, s // 3600
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = hours // (24 * 365), (hours // 24) % 365
    if hours < 24 * 365 * 8:
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{years}y"


def _age(obj: Mapping[str, Any], stamp: str | None = None) -> str:
    stamp = stamp or obj.get("metadata", {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    try:
        created = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - created).total_seconds())


def _get(obj: Any, path: str) -> Any:
    for part in path.strip(".").split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


def _pod_cells(pod: Mapping[str, Any]) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    reason = status.get("reason") or status.get("phase") or ""
    for container in statuses:
        state = container.get("state") or {}
        for key in ("waiting", "terminated"):
            if (state.get(key) or {}).get("reason"):
                reason = state[key]["reason"]
    if pod.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    containers = len(spec.get("containers") or [])
    return [
        f"{ready}/{containers}",
        reason,
        restarts,
        _age(pod),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
    ]


def _service_cells(svc: Mapping[str, Any]) -> list[Any]:
    spec = svc.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    ports = []
    for port in spec.get("ports") or []:
        text = f"{port.get('port')}:{port['nodePort']}" if port.get("nodePort") else f"{port.get('port')}"
        ports.append(f"{text}/{port.get('protocol', 'TCP')}")
    external = ",".join(spec.get("externalIPs") or []) or (
        "<pending>" if kind == "LoadBalancer" else "<none>"
    )
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    return [
        kind,
        spec.get("clusterIP") or "<none>",
        external,
        ",".join(ports) or "<none>",
        _age(svc),
        selector,
    ]


def _endpoints_cells(ep: Mapping[str, Any]) -> list[Any]:
    pairs = []
    for subset in ep.get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or [{}]:
                pairs.append(
                    f"{address.get('ip')}:{port.get('port')}" if port.get("port") else str(address.get("ip"))
                )
    text = ",".join(pairs[:3]) + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "")
    return [text or "<none>", _age(ep)]


def _ingress_cells(ing: Mapping[str, Any]) -> list[Any]:
    spec = ing.get("spec") or {}
    hosts = [r.get("host") for r in spec.get("rules") or [] if r.get("host")]
    balancer = (ing.get("status") or {}).get("loadBalancer") or {}
    address = ",".join(i.get("ip") or i.get("hostname") or "" for i in balancer.get("ingress") or [])
    return [
        spec.get("ingressClassName") or "<none>",
        ",".join(hosts) or "*",
        address,
        "80, 443" if spec.get("tls") else "80",
        _age(ing),
    ]


def _event_cells(event: Mapping[str, Any]) -> list[Any]:
    involved = event.get("involvedObject") or {}
    seen = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
    target = f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"
    return [
        _age(event, seen),
        event.get("type", ""),
        event.get("reason", ""),
        target,
        event.get("message", ""),
    ]


def _namespace_cells(ns: Mapping[str, Any]) -> list[Any]:
    return [(ns.get("status") or {}).get("phase", ""), _age(ns)]


_BUILTIN: dict[tuple[str, str], tuple[Sequence[Column], Cells]] = {
    ("", "Pod"): ((("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "integer", 0), ("Age", "string", 0),
                   ("IP", "string", 1), ("Node", "string", 1)), _pod_cells),
    ("", "Service"): ((("Type", "string", 0), ("Cluster-IP", "string", 0), ("External-IP", "string", 0),
                       ("Port(s)", "string", 0), ("Age", "string", 0), ("Selector", "string", 1)), _service_cells),
    ("", "Endpoints"): ((("Endpoints", "string", 0), ("Age", "string", 0)), _endpoints_cells),
    ("", "Namespace"): ((("Status", "string", 0), ("Age", "string", 0)), _namespace_cells),
    ("", "Event"): ((("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
                     ("Object", "string", 0), ("Message", "string", 0)), _event_cells),
    ("networking.k8s.io", "Ingress"): ((("Class", "string", 0), ("Hosts", "string", 0), ("Address", "string", 0),
                                        ("Ports", "string", 0), ("Age", "string", 0)), _ingress_cells),
}  # fmt: skip


def _columns(resource: Resource) -> tuple[Sequence[Column], Cells]:
    builtin = _BUILTIN.get((resource.group, resource.kind))
    if builtin is not None:
        return builtin
    extra = resource.printer_columns
    columns = [(name, kind, 0) for name, kind, _ in extra] + [("Age", "date", 0)]
    return columns, lambda obj: [_get(obj, path) for _, _, path in extra] + [_age(obj)]


def render_table(resource: Resource, found: Sequence[StoredObject], resource_version: str) -> dict[str, Any]:
    """A ``meta.k8s.io/v1 Table`` of the objects, rows carrying ``PartialObjectMetadata``."""
    columns, cells = _columns(resource)
    name_priority = (
        1 if (resource.group, resource.kind) == ("", "Event") else 0
    )  # events show NAME only with -o wide
    definitions = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name of the object",
            "priority": name_priority,
        }
    ]
    definitions += [
        {"name": n, "type": t, "format": "", "description": n, "priority": p} for n, t, p in columns
    ]
    rows = [
        {
            "cells": [s.obj["metadata"]["name"], *cells(s.obj)],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": s.obj["metadata"],
            },
        }
        for s in found
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
