"""The lab Kubernetes API's verbs on resources: get, list, create, update, patch, delete, watch.

Where this sits: ``server.py`` hands every request to :meth:`KubeApi.handle` (testable without
sockets); it asks :class:`.discovery.Discovery` about non-resource paths, routes the rest with
:func:`.routing.parse_route` and renders the store's answer as the real API server's REST handlers
do (kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers``): lists carry
``kind: XList`` and ``metadata.resourceVersion`` and honour ``labelSelector``, ``fieldSelector``,
``limit`` and ``continue``; ``kubectl get`` gets a server-side Table (:mod:`.tables`); PATCH takes
merge, strategic merge, JSON and apply patches by Content-Type; ``dryRun=All`` changes nothing;
``?watch=true`` is :mod:`.watch`; ``pods/{name}/log`` asks a log provider; errors are ``v1 Status``
objects.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from platform_kb_lab.kubeapi.discovery import Discovery
from platform_kb_lab.kubeapi.errors import BadRequest, KubeApiError, UnsupportedMediaType
from platform_kb_lab.kubeapi.objects import Query, StoredObject
from platform_kb_lab.kubeapi.routing import (
    Response,
    Route,
    decode_body,
    error_response,
    int_param,
    json_response,
    not_allowed,
    not_found_path,
    parse_route,
    wants_watch,
)
from platform_kb_lab.kubeapi.store import ObjectStore
from platform_kb_lab.kubeapi.tables import render_table, wants_table
from platform_kb_lab.kubeapi.watch import watch_response

PodLogProvider = Callable[[str, str, Mapping[str, str]], str | None]
"""``(namespace, pod, query_params) -> log text`` (None: no log yet) for ``pods/{name}/log``."""

PATCH_CONTENT_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
}


class KubeApi:
    """Routing and rendering, independent of the HTTP framing (testable without sockets)."""

    def __init__(self, store: ObjectStore, pod_log: PodLogProvider | None = None, address: str = "") -> None:
        self.store = store
        self.pod_log = pod_log
        self.address = address
        self.stopping = threading.Event()
        self.discovery = Discovery(store.resources)

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        url = urlsplit(target)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        segments = [unquote(s) for s in url.path.split("/") if s]
        try:
            if method == "GET":
                fixed = self.discovery.answer(segments, headers or {}, self.address)
                if fixed is not None:
                    return fixed
            route = parse_route(segments, self.store.resources)
            if route is None:
                raise not_found_path()
            return self._resource(method, route, params, headers, body)
        except KubeApiError as exc:
            return error_response(exc)

    def _resource(
        self, method: str, route: Route, params: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> Response:
        if (
            route.subresource == "log"
            and route.resource.kind == "Pod"
            and not route.resource.group
            and route.name
        ):
            if method != "GET":
                raise not_allowed(method)
            return self._pod_log(route, params)
        if route.name is None:
            return self._collection(method, route, params, headers, body)
        if route.subresource not in (None, "status") or (
            route.subresource == "status" and not route.resource.has_status
        ):
            raise not_found_path()
        return self._object(method, route, params, headers, body)

    def _collection(
        self, method: str, route: Route, params: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> Response:
        res, store = route.resource, self.store
        dry_run = params.get("dryRun", "") == "All"
        if method == "GET":
            query = store.query(
                res, route.namespace, params.get("labelSelector"), params.get("fieldSelector")
            )
            if wants_watch(params, route):
                return watch_response(store, res, query, params, self.stopping)
            return self._list(route, query, params, headers)
        if route.namespace is None and res.namespaced:
            raise not_allowed(method)  # writes to /api/v1/{plural} need a namespace in the path
        if method == "POST":
            obj = decode_body(body, headers)
            return json_response(
                201, store.create(res, route.namespace, obj, dry_run=dry_run, keep_status=False)
            )
        if method == "DELETE":
            selectors = (params.get("labelSelector"), params.get("fieldSelector"))
            deleted = store.delete_collection(res, route.namespace, *selectors, dry_run=dry_run)
            meta = {"resourceVersion": str(store.resource_version)}
            return json_response(
                200,
                {"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta, "items": deleted},
            )
        raise not_allowed(method)

    def _object(
        self, method: str, route: Route, params: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> Response:
        res, store, ns, name, sub = (
            route.resource,
            self.store,
            route.namespace,
            str(route.name),
            route.subresource,
        )
        dry_run = params.get("dryRun", "") == "All"
        if method == "GET":
            if sub is None and wants_watch(params, route):
                query = store.query(res, ns, params.get("labelSelector"), f"metadata.name={name}")
                return watch_response(store, res, query, params, self.stopping)
            stored = store.get_stored(res, ns, name)
            if wants_table(headers):
                return json_response(200, render_table(res, [stored], str(stored.rv)))
            return Response(200, stored.encoded())
        if method == "PUT":
            obj = decode_body(body, headers)
            return json_response(200, store.replace(res, ns, name, obj, subresource=sub, dry_run=dry_run))
        if method == "PATCH":
            patch_type = PATCH_CONTENT_TYPES.get(
                headers.get("Content-Type", "").split(";")[0].strip().lower()
            )
            if patch_type is None:
                raise UnsupportedMediaType(
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(PATCH_CONTENT_TYPES)
                )
            patch = decode_body(body, headers, yaml_body=patch_type == "apply")
            return json_response(
                200, store.patch(res, ns, name, patch, sub, patch_type=patch_type, dry_run=dry_run)
            )
        if method == "DELETE" and sub is None:
            return json_response(200, self._delete(route, name, params, headers, body))
        raise not_allowed(method)

    def _delete(
        self, route: Route, name: str, params: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        options = decode_body(body, headers) if body.strip() else {}
        options = options if isinstance(options, dict) else {}
        preconditions = options.get("preconditions") or {}
        dry_run = params.get("dryRun", "") == "All" or "All" in (options.get("dryRun") or [])
        return self.store.delete(
            route.resource,
            route.namespace,
            name,
            dry_run=dry_run,
            precondition_uid=preconditions.get("uid"),
            precondition_rv=preconditions.get("resourceVersion"),
        )

    def _list(
        self, route: Route, query: Query, params: dict[str, str], headers: Mapping[str, str]
    ) -> Response:
        res = route.resource
        rv, found = self.store.select(res, query)
        token = params.get("continue")
        if token:
            start = _decode_continue(token)
            found = [s for s in found if _sort_key(s) > start]
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = int_param(params, "limit")
        if limit and len(found) > limit:
            meta["continue"] = _encode_continue(rv, _sort_key(found[limit - 1]))
            meta["remainingItemCount"] = len(found) - limit
            found = found[:limit]
        if wants_table(headers):
            table = render_table(res, found, str(rv))
            table["metadata"].update({k: v for k, v in meta.items() if k != "resourceVersion"})
            return json_response(200, table)
        head = json.dumps(
            {"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta}, separators=(",", ":")
        ).encode()
        return Response(200, head[:-1] + b',"items":[' + b",".join(s.encoded() for s in found) + b"]}")

    def _pod_log(self, route: Route, params: dict[str, str]) -> Response:
        self.store.get_stored(route.resource, route.namespace, str(route.name))
        text = self.pod_log(str(route.namespace), str(route.name), params) if self.pod_log else None
        return Response(200, (text or "").encode(), "text/plain; charset=utf-8")


def _sort_key(stored: StoredObject) -> list[str]:
    meta = stored.obj["metadata"]
    return [meta.get("namespace", ""), meta["name"]]


def _encode_continue(rv: int, key: list[str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token: str) -> list[str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        start = data["start"]
        if not (isinstance(start, list) and len(start) == 2 and all(isinstance(s, str) for s in start)):
            raise ValueError("bad start key")
        return start
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadRequest(f"invalid continue token: {exc}") from exc
