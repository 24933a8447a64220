"""API-server defaulting for the kinds the lab cares about, and ClusterIP/NodePort allocation.

Where this sits: :class:`.store.ObjectStore` calls :func:`apply_defaults` on create (lock held)
and keeps one :class:`ServiceAddresses` per store. Defaults follow kubernetes/kubernetes
``pkg/apis/core/v1/defaults.go`` (Namespace, Pod, Service, Secret) and the Service IP allocator
(``pkg/registry/core/service/ipallocator``: ClusterIPs from 10.96.0.0/12, NodePorts 30000-32767).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from typing import Any

from platform_kb_lab.kubeapi.errors import Invalid
from platform_kb_lab.kubeapi.resources import Resource


class ServiceAddresses:
    """The ClusterIPs and NodePorts in use (the store's lock guards it)."""

    def __init__(self) -> None:
        self._used_ips: set[str] = set()
        self._next_ip = int(ipaddress.IPv4Address("10.96.0.10"))
        self._used_node_ports: set[int] = set()

    def allocate_ip(self) -> str:
        while True:
            candidate = str(ipaddress.IPv4Address(self._next_ip))
            self._next_ip += 1
            if candidate not in self._used_ips:
                self._used_ips.add(candidate)
                return candidate

    def reserve_ip(self, ip: str) -> None:
        self._used_ips.add(ip)

    def allocate_node_port(self) -> int:
        for port in range(30000, 32768):
            if port not in self._used_node_ports:
                self._used_node_ports.add(port)
                return port
        raise Invalid("no NodePort left in 30000-32767")

    def reserve_node_port(self, port: int) -> None:
        self._used_node_ports.add(port)

    def release(self, resource: Resource, obj: dict[str, Any]) -> None:
        """Free a deleted Service's ClusterIP and NodePorts."""
        if resource.group or resource.kind != "Service":
            return
        spec = obj.get("spec") or {}
        self._used_ips.discard(spec.get("clusterIP", ""))
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and port.get("nodePort"):
                self._used_node_ports.discard(int(port["nodePort"]))


def apply_defaults(resource: Resource, obj: dict[str, Any], addresses: ServiceAddresses) -> None:
    """Defaulting of a new core object, in place."""
    if resource.group:
        return
    if resource.kind == "Namespace":
        meta = obj["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": meta["name"]}
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": "Active", **(obj.get("status") or {})}
    elif resource.kind == "Pod":
        spec = obj.setdefault("spec", {})
        for key, value in (
            ("restartPolicy", "Always"),
            ("dnsPolicy", "ClusterFirst"),
            ("schedulerName", "default-scheduler"),
            ("serviceAccountName", "default"),
        ):
            spec.setdefault(key, value)
        status = obj.get("status") or {}
        obj["status"] = {"phase": "Pending", **status}
    elif resource.kind == "Service":
        _default_service(obj.setdefault("spec", {}), addresses)
    elif resource.kind == "Secret":
        obj.setdefault("type", "Opaque")
        fold_string_data(obj)


def _default_service(spec: dict[str, Any], addresses: ServiceAddresses) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])
            if spec["type"] in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
                port["nodePort"] = addresses.allocate_node_port()
            elif port.get("nodePort"):
                addresses.reserve_node_port(int(port["nodePort"]))
    if spec["type"] == "ExternalName":
        return
    if not spec.get("clusterIP"):
        spec["clusterIP"] = addresses.allocate_ip()
    elif spec["clusterIP"] != "None":
        addresses.reserve_ip(spec["clusterIP"])
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")


def fold_string_data(secret: dict[str, Any]) -> None:
    """``stringData`` is write-only: the API server base64-encodes it into ``data`` (pkg/apis/core/v1/conversion.go)."""
    plain = secret.pop("stringData", None)
    if isinstance(plain, dict) and plain:
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in plain.items()}
        secret["data"] = {**(secret.get("data") or {}), **encoded}


def keep_cluster_ip(old: Mapping[str, Any], new: dict[str, Any]) -> None:
    """An update that leaves ``spec.clusterIP`` out keeps the allocated one (it is immutable)."""
    old_spec, spec = old.get("spec") or {}, new.get("spec")
    if isinstance(spec, dict) and not spec.get("clusterIP") and old_spec.get("clusterIP"):
        new["spec"] = {
            **spec,
            "clusterIP": old_spec["clusterIP"],
            "clusterIPs": old_spec.get("clusterIPs") or [old_spec["clusterIP"]],
        }
