"""``?watch=true`` on the lab Kubernetes API: JSON event lines from the store's event log.

Where this sits: :class:`.handlers.KubeApi` answers a watch with :func:`watch_response`; the
stream replays :meth:`.store.ObjectStore.events_after` from ``resourceVersion`` (initial ADDED
events when it is absent or ``0``) until ``timeoutSeconds`` or the server stops, and turns
selector transitions into ADDED/DELETED as the API server's watch cache does
(kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go``).
A too old ``resourceVersion`` ends the stream with an ERROR event (410 Expired).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping

from platform_kb_lab.kubeapi.errors import BadRequest, KubeApiError
from platform_kb_lab.kubeapi.objects import DELETED, MODIFIED, Query, StoredObject, StoreEvent
from platform_kb_lab.kubeapi.resources import Resource
from platform_kb_lab.kubeapi.routing import Response, int_param
from platform_kb_lab.kubeapi.store import ObjectStore

DEFAULT_WATCH_SECONDS = 1800  # the API server's --min-request-timeout
_POLL_SECONDS = 0.25


def watch_response(
    store: ObjectStore, res: Resource, query: Query, params: Mapping[str, str], stopping: threading.Event
) -> Response:
    rv_param = params.get("resourceVersion", "")
    start: int | None = None
    if rv_param not in ("", "0"):
        if not rv_param.isdigit():
            raise BadRequest(f"invalid resource version: {rv_param!r}")
        start = int(rv_param)
    timeout = int_param(params, "timeoutSeconds") or DEFAULT_WATCH_SECONDS
    return Response(200, stream=watch_stream(store, res, query, start, timeout, stopping))


def watch_stream(
    store: ObjectStore,
    res: Resource,
    query: Query,
    start: int | None,
    timeout: int,
    stopping: threading.Event,
) -> Iterator[bytes | None]:
    deadline = time.monotonic() + timeout
    if start is None:
        start, found = store.select(res, query)
        for stored in found:
            yield event_line("ADDED", stored)
    rv = start
    while not stopping.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            events = store.events_after(rv, min(remaining, _POLL_SECONDS))
        except KubeApiError as exc:
            yield b'{"type":"ERROR","object":' + json.dumps(exc.status()).encode() + b"}\n"
            return
        for event in events:
            rv = event.rv
            line = filtered_event(event, res, query)
            if line is not None:
                yield line
        yield None


def filtered_event(event: StoreEvent, res: Resource, query: Query) -> bytes | None:
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
            return event_line("ADDED", event.current)
        if before and not now:
            return event_line(DELETED, event.current)
    return event_line(event.type, event.current) if now else None


def event_line(event_type: str, stored: StoredObject) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + stored.encoded() + b"}\n"
