"""Requests and answers of the lab Kubernetes API, independent of HTTP framing: paths to routes.

Where this sits: :class:`.handlers.KubeApi` parses each request path with :func:`parse_route`
(the real API server's resource paths, kubernetes/kubernetes
``staging/src/k8s.io/apiserver/pkg/endpoints/installer.go``: ``/api/v1[/namespaces/{ns}]/{plural}
[/{name}[/{subresource}]]``, ``/apis/{group}/{version}/...`` and the deprecated ``/watch/``
prefix) and answers a :class:`Response`, which ``server.py`` writes (a ``stream`` is a watch).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from platform_kb_lab.kubeapi.errors import (
    BadRequest,
    KubeApiError,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from platform_kb_lab.kubeapi.resources import Resource, ResourceRegistry


@dataclass
class Response:
    code: int
    body: bytes = b""
    content_type: str = "application/json"
    stream: Iterator[bytes | None] | None = None  # watch: JSON lines; None items are heartbeats


@dataclass(frozen=True)
class Route:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None
    watch_path: bool  # the deprecated /watch/ path prefix


def json_response(code: int, obj: Any) -> Response:
    return Response(code, json.dumps(obj, separators=(",", ":")).encode())


def error_response(exc: KubeApiError) -> Response:
    return json_response(exc.code, exc.status())


def not_allowed(method: str) -> MethodNotAllowed:
    return MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")


def not_found_path() -> NotFound:
    return NotFound("the server could not find the requested resource")


def parse_route(segments: list[str], resources: ResourceRegistry) -> Route | None:
    """Map path segments to a resource route; None when the path names no resource."""
    if len(segments) >= 2 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    watch = bool(rest) and rest[0] == "watch"
    if watch:
        rest = rest[1:]
    if not rest:
        return None
    lookup = resources.lookup
    namespace_subresource = not group and len(rest) == 3 and rest[2] in ("status", "finalize")
    if rest[0] == "namespaces" and len(rest) >= 3 and not namespace_subresource:
        if len(rest) > 5:
            return None
        resource = lookup(group, version, rest[2])
        if resource is None or not resource.namespaced:
            return None
        name = rest[3] if len(rest) > 3 else None
        sub = rest[4] if len(rest) > 4 else None
        return Route(resource, rest[1], name, sub, watch)
    if len(rest) > 3:
        return None
    resource = lookup(group, version, rest[0])
    if resource is None or (resource.namespaced and len(rest) > 1):
        return None
    return Route(
        resource, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None, watch
    )


def wants_watch(params: Mapping[str, str], route: Route) -> bool:
    return params.get("watch", "").lower() in ("true", "1") or route.watch_path


ACCEPTED_BODIES = ("application/json", "application/yaml")  # not protobuf: see decode_body


def decode_body(body: bytes, headers: Mapping[str, str], yaml_body: bool = False) -> Any:
    """A JSON or YAML request body. Protobuf (what ``kubectl create`` sends for built-in kinds) is
    refused with 415 as a server without it would refuse it: ``kubectl apply -f`` sends JSON."""
    content_type = headers.get("Content-Type", "").lower()
    if "protobuf" in content_type:
        raise UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(ACCEPTED_BODIES)
        )
    try:
        if yaml_body or "yaml" in content_type:
            return yaml.safe_load(body.decode() or "null")
        return json.loads(body or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise BadRequest(f"the request body could not be decoded: {exc}") from exc


def int_param(params: Mapping[str, str], name: str) -> int:
    value = params.get(name, "")
    if not value:
        return 0
    try:
        return max(int(value), 0)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer, not {value!r}") from exc
