"""The operator's loop: store events to handlers on one thread, and a watch over the drivers.

Where this sits: the lab daemon builds a :class:`SparkOperator` over its store with the scenario's
:class:`~.model.OperatorSettings` and a driver launcher and starts it; handlers run one at a time
on the operator's own thread (kopf style), a second thread polls the drivers and reports their
start and end (:func:`.handlers.driver_started`, :func:`.handlers.driver_ended`).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from platform_kb_lab.driver import DriverLauncher
from platform_kb_lab.operator.context import DriverRun, HandlerRegistry, OperatorContext
from platform_kb_lab.operator.handlers import default_registry, driver_ended, driver_started
from platform_kb_lab.operator.model import OperatorSettings

log = logging.getLogger(__name__)


class SparkOperator:
    """Runs the registry's handlers for store events on one thread and watches the drivers."""

    def __init__(
        self,
        store: Any,
        settings: OperatorSettings,
        launcher: DriverLauncher,
        *,
        node: str = "127.0.0.2",
        registry: HandlerRegistry | None = None,
        records_path: Any = None,
        poll_interval: float = 0.2,
    ) -> None:
        self.registry = registry if registry is not None else default_registry()
        self.context = OperatorContext(store, settings, launcher, node, records_path=records_path)
        self.poll_interval = poll_interval
        self.errors: list[tuple[str, BaseException]] = []
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._idle = threading.Event()

    @property
    def drivers(self) -> dict[tuple[str, str], DriverRun]:
        return self.context.drivers

    def start(self) -> None:
        store = self.context.store
        self._unsubscribe = store.subscribe(self._on_store_event)
        for plural in sorted(self.registry.plurals):
            for obj in store.list(plural, None):
                self._queue.put(("ADDED", plural, obj))
        for target, name in ((self._work, "operator-handlers"), (self._watch_drivers, "operator-drivers")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop handling events and stop every driver still running (in parallel)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        with self._lock:
            runs = list(self.context.drivers.values())
        stoppers = [threading.Thread(target=r.handle.stop, daemon=True) for r in runs]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join(timeout)
        self.context.save_records()

    def pod_log(self, namespace: str, pod: str, params: Mapping[str, str]) -> str | None:
        """``kubectl logs`` for a driver pod: the driver process's output (``tailLines`` honoured)."""
        with self._lock:
            run = next(
                (r for r in self.context.drivers.values() if r.namespace == namespace and r.pod_name == pod),
                None,
            )
        path = getattr(run.handle, "log_path", None) if run else None
        if path is None:
            return None
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            return None
        tail = params.get("tailLines")
        if tail and str(tail).isdigit():
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :]) if int(tail) else ""
        return text

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the queue is empty, including events the handlers caused (for tests)."""
        self._idle.clear()
        self._queue.put(("__idle__", "", {}))
        return self._idle.wait(timeout)

    # -- internals -----------------------------------------------------------------------

    def _on_store_event(self, event_type: str, resource: Any, obj: dict[str, Any]) -> None:
        plural = getattr(resource, "plural", str(resource))
        if plural in self.registry.plurals:
            self._queue.put((event_type, plural, obj))

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                return
            event_type, plural, obj = item
            if event_type == "__idle__":  # quiet only when nothing was queued behind the marker
                if self._queue.empty():
                    self._idle.set()
                else:
                    self._queue.put(item)
                continue
            for handler in self.registry.handlers_for(event_type, plural):
                with self._lock:
                    try:
                        handler.fn(self.context, event_type, obj)
                    except Exception as exc:  # a handler failure must not stop the operator
                        log.exception("handler %s failed on %s %s", handler.id, event_type, plural)
                        self.errors.append((handler.id, exc))

    def _watch_drivers(self) -> None:
        while not self._stop.wait(self.poll_interval):
            with self._lock:
                for run in list(self.context.drivers.values()):
                    try:
                        self._check(run)
                    except Exception as exc:
                        log.exception("watching driver %s/%s failed", run.namespace, run.pod_name)
                        self.errors.append(("driver-watch", exc))

    def _check(self, run: DriverRun) -> None:
        if run.phase == "done":
            return
        exit_code = run.handle.poll()
        if run.phase == "pending" and run.handle.ui_address() is not None:
            driver_started(self.context, run)
        if exit_code is not None:
            driver_ended(self.context, run, exit_code)
            self.context.save_records()
