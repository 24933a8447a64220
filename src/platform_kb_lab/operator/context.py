"""What the operator's handlers get and how they are registered, kopf style.

Where this sits: :class:`.controller.SparkOperator` calls each :class:`Handler` of its
:class:`HandlerRegistry` for store events, with one :class:`OperatorContext`: the store, the
settings, the driver launcher, the drivers in flight (:class:`DriverRun`), and small store helpers (status patches,
create-or-replace, quiet deletes, core/v1 Events as the operator's recorder writes them).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from platform_kb.processes import ProcessRecord, save_records
from platform_kb_lab.driver import DriverHandle, DriverLauncher
from platform_kb_lab.kubeapi.errors import AlreadyExists, NotFound
from platform_kb_lab.operator.model import OperatorSettings, utc_now
from platform_kb_lab.operator.naming import DEFAULT_UI_PORT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handler:
    """One reaction: call ``fn(context, event_type, obj)`` for these events on this resource."""

    id: str
    plural: str
    events: frozenset[str]
    fn: Callable[[OperatorContext, str, dict[str, Any]], None]


class HandlerRegistry:
    """Handlers in registration order; build your own in tests, or start from :func:`default_registry`."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def register(self, handler: Handler) -> Handler:
        if any(h.id == handler.id for h in self._handlers):
            raise ValueError(f"handler id {handler.id!r} is already registered")
        self._handlers.append(handler)
        return handler

    def on(self, plural: str, *events: str, id: str | None = None) -> Callable:
        """Decorator form: ``@registry.on("sparkapplications", "ADDED")``."""

        def decorate(fn: Callable[[OperatorContext, str, dict[str, Any]], None]) -> Callable:
            self.register(Handler(id or fn.__name__, plural, frozenset(events), fn))
            return fn

        return decorate

    def handlers_for(self, event_type: str, plural: str) -> list[Handler]:
        return [h for h in self._handlers if h.plural == plural and event_type in h.events]

    @property
    def plurals(self) -> set[str]:
        return {h.plural for h in self._handlers}

    def __iter__(self) -> Iterator[Handler]:
        return iter(list(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)


@dataclass
class DriverRun:
    """A driver the operator launched for one submission of one application."""

    namespace: str
    app_name: str
    app_uid: str
    submission_id: str
    pod_name: str
    handle: DriverHandle
    ui_target_port: int = DEFAULT_UI_PORT  # the container port the Service targets
    image: str = "spark:4.3.0"
    phase: str = "pending"  # pending -> running -> done


@dataclass
class OperatorContext:
    """What handlers get: the store, the settings, the launcher and the drivers in flight."""

    store: Any
    settings: OperatorSettings
    launcher: DriverLauncher
    node: str
    drivers: dict[tuple[str, str], DriverRun] = field(default_factory=dict)
    records_path: Any = None  # Path for the drivers' process records (read by `kb lab down`)

    # -- small store helpers -------------------------------------------------------------

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> dict | None:
        try:
            return self.store.patch(plural, namespace, name, {"status": status}, subresource="status")
        except NotFound:
            return None

    def create_or_replace(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        try:
            return self.store.create(plural, meta.get("namespace"), obj)
        except AlreadyExists:
            current = self.store.get(plural, meta.get("namespace"), meta["name"])
            replacement = json.loads(json.dumps(obj))
            replacement["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return self.store.replace(plural, meta.get("namespace"), meta["name"], replacement)

    def delete_quietly(self, plural: str, namespace: str, name: str) -> None:
        try:
            self.store.delete(plural, namespace, name)
        except NotFound:
            pass

    def record_event(self, app: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """A core/v1 Event on the SparkApplication, as the operator's recorder writes them."""
        meta = app["metadata"]
        now = utc_now()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{uuid.uuid4().hex[:16]}",
                "namespace": meta.get("namespace"),
            },
            "involvedObject": {
                "apiVersion": "sparkoperator.k8s.io/v1beta2",
                "kind": "SparkApplication",
                "name": meta["name"],
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid", ""),
            },
            "type": type_,
            "reason": reason,
            "message": message,
            "source": {"component": "spark-operator"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self.store.create("events", meta.get("namespace"), event)
        except Exception:  # events are best effort, as in client-go's recorder
            log.debug("could not record event %s for %s", reason, meta["name"], exc_info=True)

    def save_records(self) -> None:
        if self.records_path is None:
            return
        records: list[ProcessRecord] = [r.handle.record for r in self.drivers.values() if r.handle.record]
        save_records(self.records_path, records)
