"""The lab Kubernetes API over HTTP: real REST paths in front of an :class:`ObjectStore`.

Last stop in the flow: a client (the official ``kubernetes`` Python client, ``kubectl``, the
runbooks through the lab tunnel) sends a request; :class:`KubeApi` routes it to the store and
renders the answer as the real API server would (kubernetes/kubernetes
``staging/src/k8s.io/apiserver/pkg/endpoints``): discovery (``/api``, ``/api/v1``, ``/apis``,
``/apis/{group}[/{version}]``), ``/version``, ``/healthz``/``/readyz``/``/livez``; collections
``/api/v1/namespaces/{ns}/{plural}``, ``/apis/{group}/{version}/namespaces/{ns}/{plural}``,
cluster-scoped ``/api/v1/namespaces``, all-namespace lists ``/api/v1/{plural}``; objects with
``/status`` (and ``pods/{name}/log`` when a log provider is given). Lists carry ``kind: XList``
and ``metadata.resourceVersion`` and honour ``labelSelector``, ``fieldSelector``, ``limit`` and
``continue``; ``?watch=true`` streams JSON lines over chunked HTTP from ``resourceVersion``
(initial ADDED events when it is absent or ``0``) until ``timeoutSeconds``; errors are ``v1 Status``
objects. Plain HTTP, no authentication: it is a lab stand-in, bound to loopback.

Why not kmock (PyPI ``kmock`` 0.8, an HTTP Kubernetes API emulator): checked its source before
writing this. It runs on aiohttp (four more dependencies) and, as of 0.8, fills neither ``uid`` nor
``resourceVersion`` nor ``creationTimestamp``, answers lists with ``resourceVersion: "..."``,
ignores ``labelSelector``/``fieldSelector``, ignores ``resourceVersion``/``timeoutSeconds`` on
watches, and keeps its objects in an asyncio-locked structure that in-process lab parts could not
call synchronously. Closing those gaps meant rewriting most of its Kubernetes layer, so this
module is a small threaded server over the standard library instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from platform_kb.errors import KbError
from platform_kb_lab.kubeapi.errors import (
    BadRequest,
    KubeApiError,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
    status_body,
)
from platform_kb_lab.kubeapi.openapi import (
    PROTOBUF_V2,
    OpenApiDocuments,
)
from platform_kb_lab.kubeapi.resources import ALL_VERBS, Resource
from platform_kb_lab.kubeapi.store import DELETED, MODIFIED, ObjectStore, Query, StoredObject, StoreEvent
from platform_kb_lab.kubeapi.tables import render_table, wants_table

log = logging.getLogger(__name__)

PodLogProvider = Callable[[str, str, Mapping[str, str]], str | None]
"""``(namespace, pod, query_params) -> log text`` (None: no log yet) for ``pods/{name}/log``."""

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0+platform-kb-lab",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "n/a (platform-kb lab stand-in, Python)",
    "compiler": "n/a",
    "platform": "linux/amd64",
}
PATCH_CONTENT_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
}
DEFAULT_WATCH_SECONDS = 1800  # the API server's --min-request-timeout
_POLL_SECONDS = 0.25


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


def _not_allowed(method: str) -> MethodNotAllowed:
    return MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")


def not_found_path() -> NotFound:
    return NotFound("the server could not find the requested resource")


def parse_route(segments: list[str], api: KubeApi) -> Route | None:
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
    lookup = api.store.resources.lookup
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


class KubeApi:
    """Routing and rendering, independent of the HTTP framing (testable without sockets)."""

    def __init__(self, store: ObjectStore, pod_log: PodLogProvider | None = None, address: str = "") -> None:
        self.store = store
        self.pod_log = pod_log
        self.address = address
        self.stopping = threading.Event()
        self._openapi_docs = OpenApiDocuments(store.resources)

    # ------------------------------------------------------------- entry point

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        url = urlsplit(target)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        segments = [unquote(s) for s in url.path.split("/") if s]
        try:
            if method == "GET":
                fixed = self._non_resource(segments, headers)
                if fixed is not None:
                    return fixed
            route = parse_route(segments, self)
            if route is None:
                raise not_found_path()
            return self._resource(method, route, params, headers, body)
        except KubeApiError as exc:
            return error_response(exc)

    # ------------------------------------------------------------- discovery and health

    def _non_resource(self, segments: list[str], headers: Mapping[str, str] | None = None) -> Response | None:
        if not segments:
            paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]
            paths += [f"/apis/{g}" for g in self._groups()] + [
                f"/apis/{g}/{v}" for g, vs in self._groups().items() for v in vs
            ]
            return json_response(200, {"paths": sorted(paths)})
        head = segments[0]
        if head in ("healthz", "readyz", "livez"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if head == "version" and len(segments) == 1:
            return json_response(200, VERSION_INFO)
        if head == "api" and len(segments) == 1:
            return json_response(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": self.address}
                    ],
                },
            )
        if head == "api" and len(segments) == 2:
            return self._resource_list("", segments[1])
        if head == "apis" and len(segments) == 1:
            return json_response(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [self._group_doc(g, vs) for g, vs in self._groups().items()],
                },
            )
        if head == "apis" and len(segments) == 2:
            versions = self._groups().get(segments[1])
            if versions is None:
                raise not_found_path()
            return json_response(
                200, {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(segments[1], versions)}
            )
        if head == "apis" and len(segments) == 3:
            return self._resource_list(segments[1], segments[2])
        if head == "openapi":
            return self._openapi(segments[1:], (headers or {}).get("Accept", ""))
        if head in ("swagger.json", "metrics", "logs"):
            raise not_found_path()
        return None

    def _openapi(self, rest: list[str], accept: str) -> Response:
        """``/openapi/v2`` (protobuf as client-go asks, or JSON) and ``/openapi/v3[/{gv}]`` (see .openapi)."""
        if rest == ["v2"]:
            if PROTOBUF_V2 in accept:
                return Response(200, self._openapi_docs.v2(protobuf=True), "application/octet-stream")
            return Response(200, self._openapi_docs.v2(protobuf=False))
        if rest == ["v3"]:
            return Response(200, self._openapi_docs.index())
        if rest[:1] == ["v3"]:
            body = self._openapi_docs.document("/".join(rest[1:]))
            if body is not None:
                return Response(200, body)
        raise not_found_path()

    def _groups(self) -> dict[str, list[str]]:
        return {g: vs for g, vs in self.store.resources.group_versions().items() if g}

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
        docs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": docs, "preferredVersion": docs[0]}

    def _resource_list(self, group: str, version: str) -> Response:
        resources = self.store.resources.in_group_version(group, version)
        if not resources:
            raise not_found_path()
        entries: list[dict[str, Any]] = []
        for r in resources:
            entry: dict[str, Any] = {
                "name": r.plural,
                "singularName": r.singular_name,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": list(ALL_VERBS),
            }
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.categories:
                entry["categories"] = list(r.categories)
            entries.append(entry)
            for sub in r.subresources:
                verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
                entries.append(
                    {
                        "name": f"{r.plural}/{sub}",
                        "singularName": "",
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "verbs": verbs,
                    }
                )
        group_version = f"{group}/{version}" if group else version
        return json_response(
            200,
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": group_version,
                "resources": entries,
            },
        )

    # ------------------------------------------------------------- resources

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
                raise _not_allowed(method)
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
            if params.get("watch", "").lower() in ("true", "1") or route.watch_path:
                return self._watch(route, query, params)
            return self._list(route, query, params, headers)
        if route.namespace is None and res.namespaced:
            raise _not_allowed(method)  # writes to /api/v1/{plural} need a namespace in the path
        if method == "POST":
            obj = _decode(body, headers)
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
        raise _not_allowed(method)

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
            if sub is None and (params.get("watch", "").lower() in ("true", "1") or route.watch_path):
                query = store.query(res, ns, params.get("labelSelector"), f"metadata.name={name}")
                return self._watch(route, query, params)
            stored = store.get_stored(res, ns, name)
            if wants_table(headers):
                return json_response(200, render_table(res, [stored], str(stored.rv)))
            return Response(200, stored.encoded())
        if method == "PUT":
            obj = _decode(body, headers)
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
            patch = _decode(body, headers, yaml_body=patch_type == "apply")
            return json_response(
                200, store.patch(res, ns, name, patch, sub, patch_type=patch_type, dry_run=dry_run)
            )
        if method == "DELETE" and sub is None:
            options = _decode(body, headers) if body.strip() else {}
            options = options if isinstance(options, dict) else {}
            preconditions = options.get("preconditions") or {}
            dry_run = dry_run or "All" in (options.get("dryRun") or [])
            deleted = store.delete(
                res,
                ns,
                name,
                dry_run=dry_run,
                precondition_uid=preconditions.get("uid"),
                precondition_rv=preconditions.get("resourceVersion"),
            )
            return json_response(200, deleted)
        raise _not_allowed(method)

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
        limit = _int_param(params, "limit")
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

    def _watch(self, route: Route, query: Query, params: dict[str, str]) -> Response:
        rv_param = params.get("resourceVersion", "")
        start: int | None = None
        if rv_param not in ("", "0"):
            if not rv_param.isdigit():
                raise BadRequest(f"invalid resource version: {rv_param!r}")
            start = int(rv_param)
        timeout = _int_param(params, "timeoutSeconds") or DEFAULT_WATCH_SECONDS
        return Response(200, stream=self._watch_stream(route.resource, query, start, timeout))

    def _watch_stream(
        self, res: Resource, query: Query, start: int | None, timeout: int
    ) -> Iterator[bytes | None]:
        deadline = time.monotonic() + timeout
        if start is None:
            start, found = self.store.select(res, query)
            for stored in found:
                yield _event_line("ADDED", stored)
        rv = start
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                events = self.store.events_after(rv, min(remaining, _POLL_SECONDS))
            except KubeApiError as exc:
                yield b'{"type":"ERROR","object":' + json.dumps(exc.status()).encode() + b"}\n"
                return
            for event in events:
                rv = event.rv
                line = _filtered_event(event, res, query)
                if line is not None:
                    yield line
            yield None

    def _pod_log(self, route: Route, params: dict[str, str]) -> Response:
        self.store.get_stored(route.resource, route.namespace, str(route.name))
        text = self.pod_log(str(route.namespace), str(route.name), params) if self.pod_log else None
        return Response(200, (text or "").encode(), "text/plain; charset=utf-8")


def _filtered_event(event: StoreEvent, res: Resource, query: Query) -> bytes | None:
    """The event as this watch sees it: selector transitions become ADDED/DELETED (as the watch cache does)."""
    if event.resource != res or (query.namespace is not None and event.namespace != query.namespace):
        return None
    now = query.matches(event.current)
    if (
        event.type == MODIFIED
        and event.previous is not None
        and not (query.labels.empty and query.fields.empty)
    ):
        before = query.matches(event.previous)
        if now and not before:
            return _event_line("ADDED", event.current)
        if before and not now:
            return _event_line(DELETED, event.current)
    return _event_line(event.type, event.current) if now else None


def _event_line(event_type: str, stored: StoredObject) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + stored.encoded() + b"}\n"


def _decode(body: bytes, headers: Mapping[str, str], yaml_body: bool = False) -> Any:
    content_type = headers.get("Content-Type", "").lower()
    try:
        if yaml_body or "yaml" in content_type:
            return yaml.safe_load(body.decode() or "null")
        return json.loads(body or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise BadRequest(f"the request body could not be decoded: {exc}") from exc


def _int_param(params: Mapping[str, str], name: str) -> int:
    value = params.get(name, "")
    if not value:
        return 0
    try:
        return max(int(value), 0)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer, not {value!r}") from exc


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


# --------------------------------------------------------------------------- HTTP framing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "platform-kb-lab-kubeapi"
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    # headers and body leave in one segment, without Nagle: otherwise every answer waits ~40 ms
    # for the client's delayed ACK
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    server: _HttpServer

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        api = self.server.api
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(error_response(BadRequest("the request body could not be read")))
            return
        try:
            response = api.handle(method, self.path, self.headers, body)
        except Exception as exc:  # a bug here must still answer like an API server
            log.exception("lab kube API failed on %s %s", method, self.path)
            response = json_response(500, status_body(500, "InternalError", f"internal error: {exc}"))
        log.debug("%s %s -> %d", method, self.path, response.code)
        if response.stream is None:
            self._send(response)
        else:
            self._stream(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        self.send_response(response.code)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()

    def _stream(self, response: Response) -> None:
        assert response.stream is not None
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        try:
            for item in response.stream:
                if item is None:
                    if self._client_gone():
                        return
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(item), item))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            return
        finally:
            close = getattr(response.stream, "close", None)
            if close is not None:
                close()

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server signature
        log.debug("%s - " + format, self.address_string(), *args)


class _HttpServer(HTTPServer):
    """One thread per connection; every connection and thread is tracked so stop() ends them."""

    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], api: KubeApi) -> None:
        self.api = api
        self._guard = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            daemon=True,
            name=f"kubeapi-conn-{client_address[1]}",
        )
        with self._guard:
            self._connections.add(request)
            self._threads.add(thread)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            log.debug("connection from %s ended with an error", client_address, exc_info=True)
        finally:
            self.shutdown_request(request)
            with self._guard:
                self._connections.discard(request)
                self._threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error on connection from %s", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        with self._guard:
            connections, threads = list(self._connections), list(self._threads)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))


class KubeApiServer:
    """The lab API server: ``start()`` serves in a background thread, ``stop()`` ends every connection."""

    def __init__(
        self,
        store: ObjectStore,
        host: str = "127.0.0.2",
        port: int = 6443,
        *,
        pod_log: PodLogProvider | None = None,
    ) -> None:
        self.store = store
        self.host = host
        self.port = port
        self.api = KubeApi(store, pod_log)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> None:
        """Listen on host:port (port 0 picks a free one and updates ``port``); KbError when taken."""
        if self._httpd is not None:
            return
        try:
            self._httpd = _HttpServer((self.host, self.port), self.api)
        except OSError as exc:
            raise KbError(f"lab kube API cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._httpd.server_address[1]
        self.api.address = f"{self.host}:{self.port}"
        self.api.stopping.clear()

    def start(self) -> KubeApiServer:
        """Bind and serve in a daemon thread; returns self."""
        self.bind()
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kubeapi-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end watches and open connections, free the port."""
        httpd = self._httpd
        if httpd is None:
            return
        self.api.stopping.set()
        self.store.wake_watchers()
        httpd.shutdown()
        httpd.close_connections(timeout)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kubeconfig(server_url: str, namespace: str = "default", name: str = "lab") -> dict[str, Any]:
    """A kubeconfig for the lab API (no credentials: the lab API has no authentication)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server_url}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }
