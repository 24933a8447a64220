"""The in-process data path of the paramiko backend: local listeners -> direct-tcpip channels.

Fourth step of the tunnel flow (paramiko backend only; the OpenSSH backend leaves the data path
to ``ssh``). Each :class:`Listener` owns one bound local socket. Pooled worker threads take turns
accepting (leader/follower): the worker that accepted a connection opens a ``direct-tcpip``
channel on the *current* bastion session (after a reconnect, the new one) and pumps the client's
bytes to it, while a second worker pumps the answers back — blocking calls, no select loop, no
polling timeouts, so a request is forwarded the moment it arrives. Accepted sockets get
``TCP_NODELAY`` and quick ACKs like the SSH socket.
"""

from __future__ import annotations

import errno
import logging
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import paramiko

from ..profiles import ForwardSpec
from .errors import LocalPortInUse
from .session import SshSession, explain_open_failure, quickack, tune_socket

log = logging.getLogger("platform_kb.tunnel")

CHUNK = 256 * 1024


@dataclass
class Listener:
    """One forward's bound local socket (bound before any SSH connection, so port 0 resolves early)."""

    spec: ForwardSpec
    sock: socket.socket

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return host, port


class Workers:
    """Reusable daemon threads without an upper bound.

    A new forwarded connection costs a queue put instead of two thread starts (~0.3 ms each
    on this kind of machine). Unbounded, because every open connection holds two workers for
    its lifetime (long polls, streaming logs); idle workers exit after ``idle_timeout``.
    """

    def __init__(self, name: str, idle_timeout: float = 30.0) -> None:
        self._name = name
        self._idle_timeout = idle_timeout
        self._tasks: queue.SimpleQueue[tuple[Callable[..., None], tuple[object, ...]]] = queue.SimpleQueue()
        self._idle = 0  # idle workers not yet claimed by a submitted task
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., None], *args: object) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
        self._tasks.put((fn, args))
        if spawn:
            threading.Thread(target=self._work, name=self._name, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                fn, args = self._tasks.get(timeout=self._idle_timeout)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # more idle workers than queued tasks: this one may go
                        self._idle -= 1
                        return
                continue  # we were claimed by a task that is about to arrive
            try:
                fn(*args)
            except Exception:  # a pump must never kill the worker; the connection is closed by then
                log.debug("forwarder task failed", exc_info=True)
            with self._lock:
                self._idle += 1


@dataclass
class _Pair:
    """One forwarded connection: the local socket and its channel, closed when both pumps end."""

    conn: socket.socket
    channel: paramiko.Channel
    done: Callable[[_Pair], None]
    _remaining: int = 2
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def finish(self) -> None:
        with self._lock:
            self._remaining -= 1
            last = self._remaining == 0
        if last:
            self.channel.close()
            _close_quietly(self.conn)
            self.done(self)


@dataclass
class Forwarder:
    """Serves all listeners from a worker pool; connections go over ``session()`` (None while reconnecting)."""

    listeners: list[Listener]
    session: Callable[[float], SshSession | None]
    channel_timeout: float = 10.0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _conns: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: Workers = field(default_factory=lambda: Workers("kb-tunnel-conn"))

    def start(self) -> None:
        for listener in self.listeners:
            self._workers.submit(self._lead, listener)

    def stop(self) -> None:
        """Stop accepting, close every open connection, release the local ports."""
        self._stopping.set()
        for listener in self.listeners:
            try:
                listener.sock.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
            except OSError:
                pass
            listener.sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _close_quietly(conn)

    def _lead(self, listener: Listener) -> None:
        """Leader/follower: accept one connection, hand the listener to another worker, serve it here.

        The thread that accepted carries the connection on, so no thread wake-up sits between a
        new connection and its channel open; the next accept waits in another worker meanwhile.
        """
        try:
            conn, peer = listener.sock.accept()
        except OSError:
            return  # listener closed by stop()
        if self._stopping.is_set():
            _close_quietly(conn)
            return
        self._workers.submit(self._lead, listener)
        tune_socket(conn)
        with self._lock:
            self._conns.add(conn)
        self._handle(listener.spec, conn, peer)

    def _forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    def _handle(self, spec: ForwardSpec, conn: socket.socket, peer: tuple[str, int]) -> None:
        channel = self._open(spec, peer)
        if channel is None:
            _close_quietly(conn)
            self._forget(conn)
            return
        pair = _Pair(conn, channel, lambda p: self._forget(p.conn))
        self._workers.submit(_pump_channel_to_socket, pair)
        _pump_socket_to_channel(pair)

    def _open(self, spec: ForwardSpec, peer: tuple[str, int]) -> paramiko.Channel | None:
        session = self.session(self.channel_timeout)
        if session is None:
            log.warning(
                "forward %s: no bastion connection, dropping a connection from %s:%s", spec.name, *peer[:2]
            )
            return None
        try:
            return session.open_channel(spec.remote_host, spec.remote_port, peer[:2], self.channel_timeout)
        except paramiko.ChannelException as exc:
            log.warning(
                "forward %s: %s:%s refused on the bastion side: %s",
                spec.name,
                spec.remote_host,
                spec.remote_port,
                explain_open_failure(exc),
            )
        except (paramiko.SSHException, OSError, EOFError) as exc:
            log.warning("forward %s: channel open failed: %s", spec.name, exc)
        return None


def _pump_socket_to_channel(pair: _Pair) -> None:
    conn, channel = pair.conn, pair.channel
    try:
        while True:
            quickack(conn)  # a client writing one request in two pieces must not wait for our delayed ACK
            data = conn.recv(CHUNK)
            if not data:
                channel.shutdown_write()  # EOF to the remote end, keep reading its answer
                return
            channel.sendall(data)
    except (OSError, EOFError, paramiko.SSHException):
        channel.close()
    finally:
        pair.finish()


def _pump_channel_to_socket(pair: _Pair) -> None:
    conn, channel = pair.conn, pair.channel
    try:
        while True:
            data = channel.recv(CHUNK)
            if not data:
                conn.shutdown(socket.SHUT_WR)
                return
            conn.sendall(data)
    except (OSError, EOFError, paramiko.SSHException):
        _close_quietly(conn)
    finally:
        pair.finish()


def _close_quietly(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def bind_listener(spec: ForwardSpec) -> Listener:
    """Bind ``spec``'s local address (port 0 picks a free one); LocalPortInUse if taken."""
    family = socket.AF_INET6 if ":" in spec.local_host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
    )  # as ssh does; TIME_WAIT must not block a restart
    try:
        sock.bind((spec.local_host, spec.local_port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise LocalPortInUse(
            f"forward {spec.name}: cannot listen on {spec.local_host}:{spec.local_port}: {exc.strerror}"
            + (
                " (another process uses it; pick another port or 0 for a free one)"
                if exc.errno == errno.EADDRINUSE
                else ""
            )
        ) from exc
    return Listener(spec, sock)
