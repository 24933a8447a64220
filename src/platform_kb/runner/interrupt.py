"""SIGINT and SIGTERM during ``kb run``: stop the kernel and everything it started, then let the
runner finish the record as ``interrupted``.

Where this sits in the flow: ``execute.run_runbook`` runs the notebook in a worker thread and
waits for it in the main thread under a :class:`SignalGuard`. The main thread owns the signal
handlers (nbclient's own ``loop.add_signal_handler`` only works in the main thread, so it steps
aside in a worker thread — nbclient/client.py ``async_setup_kernel``). On the first signal:

1. the kernel's process group gets SIGINT: the running cell sees ``KeyboardInterrupt``, its
   ``with``/``finally`` blocks run, and nbclient shuts the kernel down normally (so ``atexit``
   handlers such as ``Tunnel.close`` run in the kernel);
2. if the kernel is still there after :data:`GRACE` seconds, its process group gets SIGKILL;
3. :meth:`KernelHandle.sweep` (on every exit path, signal or not) kills whatever is left in the
   kernel's process group (jupyter_client starts the kernel in a new session —
   jupyter_client/launcher.py ``start_new_session=True`` — so its children share its group) and
   removes the kernel's private socket folder.

Further signals while this happens are noted, not acted on: the cleanup is bounded in time.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)
GRACE = 5.0  # seconds between the interrupt and SIGKILL
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as a shell reports


class Interrupted(Exception):
    """Raised in the engine instead of starting a cell once a signal came."""


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def exit_code_for(signum: int) -> int:
    return EXIT_CODES.get(signal.Signals(signum), 128 + int(signum))


@dataclass
class KernelHandle:
    """What the runner needs to stop the kernel from another thread: its process group and folder."""

    pgid: int | None = None
    private_dir: str | None = None
    stopping: bool = False  # a signal came: the engine starts no further cell
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, km: Any) -> None:
        """Called from the engine once the kernel runs (``km``: its kernel manager)."""
        provisioner = getattr(km, "provisioner", None)
        pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)
        with self._lock:
            if pgid:
                self.pgid = int(pgid)
            self.private_dir = getattr(km, "private_dir", None) or self.private_dir

    def signal_group(self, signum: int) -> bool:
        """Send ``signum`` to the kernel's process group; False if there is none (any more)."""
        with self._lock:
            pgid = self.pgid
        if not pgid:
            return False
        try:
            os.killpg(pgid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def group_alive(self) -> bool:
        return self.signal_group(0)

    def sweep(self, wait: float = 3.0) -> None:
        """Kill what is left of the kernel's process group; remove its private folder."""
        if self.signal_group(signal.SIGTERM):
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.group_alive():
                time.sleep(0.05)
            self.signal_group(signal.SIGKILL)
        if self.private_dir:
            shutil.rmtree(self.private_dir, ignore_errors=True)


@dataclass
class SignalGuard:
    """Installs SIGINT/SIGTERM handlers (main thread only) that record the first signal and stop
    the kernel through ``handle``; restores the previous handlers on exit."""

    handle: KernelHandle
    on_signal: Callable[[int], None] | None = None
    received: int | None = None
    _interrupted_at: float | None = None
    _delivered: bool = False
    _killed: bool = False
    _previous: dict[int, Any] = field(default_factory=dict)

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self._previous[signum] = signal.signal(signum, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return  # already stopping
        self.received = signum
        self._interrupted_at = time.monotonic()
        self.handle.stopping = True
        if self.on_signal is not None:
            self.on_signal(signum)
        self._delivered = self.handle.signal_group(signal.SIGINT)

    def escalate(self) -> None:
        """Called while waiting: interrupt a kernel that started after the signal; SIGKILL the
        kernel's group once the grace period is over."""
        if self._interrupted_at is None or self._killed:
            return
        if not self._delivered:
            self._delivered = self.handle.signal_group(signal.SIGINT)
        if time.monotonic() - self._interrupted_at >= GRACE:
            self._killed = True
            self.handle.signal_group(signal.SIGKILL)

    def wait(self, thread: threading.Thread, give_up: float = 30.0) -> None:
        """Join ``thread``, escalating after a signal; after a signal, wait at most ``give_up`` s."""
        while thread.is_alive():
            thread.join(0.1)
            self.escalate()
            if self._interrupted_at is not None and time.monotonic() - self._interrupted_at > give_up:
                return


def private_tmp(work: Path) -> Path:
    """The kernel's TMPDIR inside the run's private folder: whatever a cell leaves in a temporary
    folder (a tunnel's control socket, an install's kubeconfig copy) goes when the run's folder goes."""
    tmp = work / "tmp"
    tmp.mkdir(mode=0o700, exist_ok=True)
    return tmp
