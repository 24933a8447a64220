"""The public :class:`Tunnel`: one bastion connection carrying any number of local forwards.

Top of the tunnel flow. ``open()`` resolves the route (:mod:`.sshconfig`), claims the local
ports (a port in use fails here, before any connection; ``0`` picks a free one), then hands over
to a supervisor thread that connects (:mod:`.session`: host keys verified, keys tried), probes
every forward's remote end through the bastion so a refused NodePort or API port is reported
now rather than on first use, and starts the data path — an ``ssh -N -L`` process
(:mod:`.openssh`, the default when ``ssh`` is installed) or the in-process forwarder
(:mod:`.forwarder`). The supervisor then watches the connection; when the bastion drops it
reconnects with exponential backoff on the same local ports, and gives up only on a host-key
problem (never retried) or when closed.

Used as a context manager, or in a notebook: ``t.open()`` in one cell keeps the tunnel up across
cells; it is closed by ``t.close()`` or when the interpreter exits (atexit).
"""

from __future__ import annotations

import atexit
import errno
import logging
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import UsageProblem
from ..profiles import DEFAULT_API_PORT, DEFAULT_INGRESS_NODEPORT, BastionSpec, ForwardSpec, NodeSpec, Profile
from ..profiles import default_forwards as profile_default_forwards
from .errors import ForwardUnreachable, HostKeyError, LocalPortInUse, TunnelError
from .forwarder import Forwarder, Listener, bind_listener
from .openssh import OpenSshProcess, build_argv, equivalent_command, find_ssh
from .session import ConnectOptions, SshSession, connect
from .sshconfig import Route, SshConfigFile, resolve_route

log = logging.getLogger("platform_kb.tunnel")

BACKENDS = ("auto", "openssh", "paramiko")


@dataclass(frozen=True)
class TunnelOptions:
    """How the tunnel connects and stays up; every field has an OpenSSH-like default."""

    backend: str = "auto"  # auto: openssh if `ssh` is installed, else paramiko
    connect_timeout: float = 10.0  # TCP connect + SSH handshake + auth, per hop (ConnectTimeout)
    keepalive_interval: float = 15.0  # ServerAliveInterval; 0 turns keepalives off
    keepalive_count_max: int = 3  # ServerAliveCountMax
    reconnect: bool = True
    backoff_initial: float = 0.5
    backoff_max: float = 10.0  # a refused connect is cheap; a restarted lab is back within seconds
    probe: bool = True  # check each forward's remote end when the tunnel opens
    require_forwards: bool = False  # a refused remote end fails open() instead of a warning
    ssh_config: str | None = None  # None: ~/.ssh/config; "none": no file; else a path
    use_agent: bool = True

    def connect_options(self) -> ConnectOptions:
        return ConnectOptions(
            self.connect_timeout, self.keepalive_interval, self.keepalive_count_max, self.use_agent
        )


@dataclass(frozen=True)
class ProbeResult:
    """One forward's remote end, probed through the bastion when the tunnel opened."""

    name: str
    target: str
    ok: bool
    detail: str = ""


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _check_forwards(forwards: Iterable[ForwardSpec]) -> tuple[ForwardSpec, ...]:
    items = tuple(forwards)
    if not items:
        raise UsageProblem("a tunnel needs at least one forward")
    names = [f.name for f in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageProblem(f"forward names must be unique: {', '.join(duplicates)}")
    locals_ = [(f.local_host, f.local_port) for f in items if f.local_port]
    taken = sorted({f"{h}:{p}" for h, p in locals_ if locals_.count((h, p)) > 1})
    if taken:
        raise UsageProblem(f"two forwards use the same local address: {', '.join(taken)}")
    return items


def _reserve_port(spec: ForwardSpec) -> int:
    """For the ssh backend: check the local address is free (or pick one for port 0) without keeping it."""
    family = socket.AF_INET6 if ":" in spec.local_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((spec.local_host, spec.local_port))
        except OSError as exc:
            hint = " (another process uses it; pick another port or 0 for a free one)"
            raise LocalPortInUse(
                f"forward {spec.name}: cannot listen on {spec.local_host}:{spec.local_port}: {exc.strerror}"
                + (hint if exc.errno == errno.EADDRINUSE else "")
            ) from exc
        return sock.getsockname()[1]


class Tunnel:
    """``with Tunnel(...) as t: t.url("ingress")`` — see the module docstring for the flow."""

    def __init__(
        self,
        bastion: BastionSpec,
        forwards: Iterable[ForwardSpec],
        options: TunnelOptions | None = None,
        **overrides: Any,
    ) -> None:
        self.bastion = bastion
        self.forwards: tuple[ForwardSpec, ...] = ()
        self.route: Route | None = None
        self.backend: str | None = None
        self.probes: list[ProbeResult] = []
        self.reconnects = 0
        self.error: TunnelError | None = None
        self._ports: dict[str, int] = {}
        self._listeners: list[Listener] = []
        self._forwarder: Forwarder | None = None
        self._session: SshSession | None = None
        self._ssh: OpenSshProcess | None = None
        self._workdir: Path | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._ready = threading.Event()
        self._ended = threading.Event()
        self._closing = threading.Event()
        self._connected = threading.Event()
        self.forwards = _check_forwards(forwards)
        try:
            self.options = replace(options or TunnelOptions(), **overrides)
        except TypeError as exc:
            raise UsageProblem(f"unknown tunnel option: {exc}") from exc
        if self.options.backend not in BACKENDS:
            raise UsageProblem(f"backend must be one of {', '.join(BACKENDS)}, got {self.options.backend!r}")

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_profile(cls, profile: Profile, **options: Any) -> Tunnel:
        return cls(profile.bastion, profile.forwards, **options)

    @classmethod
    def from_parameters(cls, params: Mapping[str, Any], **options: Any) -> Tunnel:
        """From the flat runbook parameters of :meth:`Profile.as_parameters` (empty string = not set)."""

        def text(key: str) -> str | None:
            value = params.get(key)
            return str(value) if value not in (None, "") else None

        def number(key: str, default: int) -> int:
            value = params.get(key)
            if value in (None, ""):
                return default
            if isinstance(value, bool) or not str(value).isdigit() or not 0 <= int(value) <= 65535:
                raise UsageProblem(f"parameter {key}: expected a port number, got {value!r}")
            return int(value)

        host = text("bastion_host")
        node_host = text("node_host")
        if not host or not node_host:
            raise UsageProblem("parameters bastion_host and node_host are required to open the tunnel")
        port = number("bastion_port", 22)
        policy = text("host_key_policy") or "yes"
        bastion = BastionSpec(
            host=host,
            port=None if port == 22 else port,  # 22 is as_parameters()'s default: let ssh_config's Port win
            user=text("bastion_user"),
            identity_file=str(Path(text("identity_file")).expanduser()) if text("identity_file") else None,
            known_hosts=str(Path(text("known_hosts")).expanduser()) if text("known_hosts") else None,
            host_key_policy="yes" if policy in ("True", "true") else policy,
            proxy_jump=text("proxy_jump"),
        )
        node = NodeSpec(
            node_host,
            number("ingress_nodeport", DEFAULT_INGRESS_NODEPORT),
            number("api_port", DEFAULT_API_PORT),
        )
        forwards = profile_default_forwards(node, f"127.0.0.1:{number('local_port', 8080)}")
        return cls(bastion, forwards, **options)

    # ----------------------------------------------------------------- public API
    @property
    def addresses(self) -> dict[str, tuple[str, int]]:
        """Bound local address of every forward (after ``open()``)."""
        return {f.name: (f.local_host, self._ports[f.name]) for f in self.forwards if f.name in self._ports}

    def address(self, name: str) -> tuple[str, int]:
        try:
            return self.addresses[name]
        except KeyError:
            raise UsageProblem(
                f"no open forward named {name!r} (have: {', '.join(self.addresses) or 'none'})"
            ) from None

    def url(self, name: str, path: str = "") -> str:
        host, port = self.address(name)
        return f"http://{_bracket(host)}:{port}{path}"

    def describe(self, name: str) -> str:
        """``127.0.0.1:8080 -> HOST:PORT``, the line ``kb tunnel up`` prints per forward."""
        spec = self._spec(name)
        host, port = self.address(name)
        return f"{_bracket(host)}:{port} -> {_bracket(spec.remote_host)}:{spec.remote_port}"

    @property
    def state(self) -> str:
        if self.error is not None:
            return "failed"
        if self._closing.is_set():
            return "closed"
        if not self._ready.is_set():
            return "new"
        return "open" if self._connected.is_set() else "reconnecting"

    def pids(self) -> list[int]:
        """Processes this tunnel runs (the ssh process of the OpenSSH backend)."""
        ssh = self._ssh
        return [ssh.pid] if ssh is not None and ssh.pid is not None and ssh.alive() else []

    def equivalent_command(self) -> str:
        route = self.route or resolve_route(self.bastion, SshConfigFile.load(self.options.ssh_config))
        ports = [(f, self._ports.get(f.name, f.local_port)) for f in self.forwards]
        return equivalent_command(route, ports)

    def wait_connected(self, timeout: float) -> bool:
        """True once the bastion connection is up (again), False after ``timeout`` seconds."""
        return self._connected.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the tunnel has ended (closed or failed for good); True if it has."""
        return self._ended.wait(timeout)

    def open(self) -> Tunnel:
        """Connect and start forwarding; returns when every forward is ready. Raises TunnelError/UsageProblem."""
        if self._thread is not None:
            if self.error is not None or self._closing.is_set():
                raise TunnelError("this tunnel was closed; create a new Tunnel to open it again")
            return self
        self.route = resolve_route(self.bastion, SshConfigFile.load(self.options.ssh_config))
        self.backend = self._choose_backend()
        self._claim_ports()
        self._thread = threading.Thread(target=self._supervise, name="kb-tunnel-supervisor", daemon=True)
        self._thread.start()
        while not (self._ready.is_set() or self._ended.is_set()):
            self._ready.wait(0.05)
        if not self._ready.is_set():
            error = self.error
            self.close()
            assert error is not None
            raise error
        atexit.register(self.close)
        return self

    def close(self) -> None:
        """Stop forwarding, end the ssh connection/process, free the local ports. Idempotent."""
        self._closing.set()
        with self._cond:
            session, ssh = self._session, self._ssh
            self._cond.notify_all()
        if session is not None:
            session.close()
        if ssh is not None:
            ssh.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.options.connect_timeout + 10)
        if self._forwarder is not None:
            self._forwarder.stop()
            self._forwarder = None
        for listener in self._listeners:
            listener.sock.close()
        self._listeners = []
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._ended.set()
        atexit.unregister(self.close)

    def __enter__(self) -> Tunnel:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        forwards = ", ".join(f.describe() for f in self.forwards)
        return f"<Tunnel {self.bastion.host} [{forwards}] {self.state}>"

    # ----------------------------------------------------------------- opening
    def _spec(self, name: str) -> ForwardSpec:
        for spec in self.forwards:
            if spec.name == name:
                return spec
        raise UsageProblem(f"no forward named {name!r} (have: {', '.join(f.name for f in self.forwards)})")

    def _choose_backend(self) -> str:
        if self.options.backend == "openssh" and find_ssh() is None:
            raise UsageProblem("backend openssh needs the `ssh` client (Debian package openssh-client)")
        if self.options.backend == "auto":
            return "openssh" if find_ssh() else "paramiko"
        return self.options.backend

    def _claim_ports(self) -> None:
        if self.backend == "paramiko":
            try:
                for spec in self.forwards:
                    self._listeners.append(bind_listener(spec))
            except BaseException:
                for listener in self._listeners:
                    listener.sock.close()
                self._listeners = []
                raise
            self._ports = {li.spec.name: li.address[1] for li in self._listeners}
        else:
            self._ports = {spec.name: _reserve_port(spec) for spec in self.forwards}
            self._workdir = Path(tempfile.mkdtemp(prefix="kb-tunnel-"))

    # ----------------------------------------------------------------- supervisor thread
    def _supervise(self) -> None:
        options = self.options
        backoff = options.backoff_initial
        first = True
        outage = _Outage()
        try:
            while not self._closing.is_set():
                try:
                    self._connect(first)
                except TunnelError as exc:
                    if first or isinstance(exc, HostKeyError) or not options.reconnect:
                        self._fail(exc)
                        return
                    log.warning("%s", outage.failed(self._where(), exc, backoff))
                    self._closing.wait(backoff)
                    backoff = min(backoff * 2, options.backoff_max)
                    continue
                except Exception as exc:  # a bug or an unexpected library error: report, never hang open()
                    log.debug("unexpected error in the tunnel supervisor", exc_info=True)
                    self._fail(TunnelError(f"tunnel failed: {type(exc).__name__}: {exc}"))
                    return
                if first:
                    first = False
                    self._ready.set()
                else:
                    self.reconnects += 1
                    log.warning("%s", outage.ended(self._where()))
                backoff = options.backoff_initial
                self._watch()
                self._disconnect()
                if self._closing.is_set():
                    return
                if not options.reconnect:
                    self._fail(TunnelError(f"lost the connection to {self._where()}"))
                    return
                outage.begin()
                log.warning(
                    "lost the connection to %s; waiting for it to accept SSH connections again", self._where()
                )
        finally:
            self._disconnect()

    def _where(self) -> str:
        return self.route.describe() if self.route else self.bastion.host

    def _fail(self, exc: TunnelError) -> None:
        self.error = exc
        self._ended.set()

    def _connect(self, first: bool) -> None:
        assert self.route is not None
        session = connect(self.route, self.options.connect_options())
        try:
            if first and self.options.probe:
                self.probes = self._probe(session)
            if self.backend == "paramiko":
                if first:
                    self._forwarder = Forwarder(
                        self._listeners, self._current_session, self.options.connect_timeout
                    )
                    self._forwarder.start()
                with self._cond:
                    self._session, session = session, None
                    self._cond.notify_all()
            else:
                session.close()
                session = None
                self._start_ssh()
        finally:
            if session is not None:
                session.close()
        self._connected.set()
        if self._closing.is_set():
            self._disconnect()

    def _probe(self, session: SshSession) -> list[ProbeResult]:
        results = []
        for spec in self.forwards:
            target = f"{_bracket(spec.remote_host)}:{spec.remote_port}"
            try:
                session.probe(spec.remote_host, spec.remote_port, self.options.connect_timeout)
            except ForwardUnreachable as exc:
                results.append(ProbeResult(spec.name, target, False, str(exc)))
                log.warning("forward %s %s: %s", spec.name, self.describe(spec.name), exc)
                if self.options.require_forwards:
                    raise
            else:
                results.append(ProbeResult(spec.name, target, True))
        return results

    def _start_ssh(self) -> None:
        assert self.route is not None and self._workdir is not None
        forwards = [(f, self._ports[f.name]) for f in self.forwards]
        argv = build_argv(self.route, forwards, self.options.connect_options(), find_ssh() or "ssh")
        ssh = OpenSshProcess(argv, [p for _f, p in forwards], self._workdir / "ssh.log")
        with self._cond:
            self._ssh = ssh
        ssh.start(timeout=self.options.connect_timeout + 5)

    def _current_session(self, timeout: float) -> SshSession | None:
        """For the forwarder: the live bastion session, waiting up to ``timeout`` during a reconnect."""
        with self._cond:
            self._cond.wait_for(
                lambda: (
                    self._closing.is_set()
                    or self._ended.is_set()
                    or (self._session is not None and self._session.is_active())
                ),
                timeout,
            )
            session = self._session
        return session if session is not None and session.is_active() else None

    def _watch(self) -> None:
        """Block until the connection is lost or the tunnel is closing."""
        while not self._closing.is_set():
            with self._cond:
                session, ssh = self._session, self._ssh
            if ssh is not None:
                if ssh.wait(timeout=1.0) is not None:
                    if not self._closing.is_set():
                        log.info("ssh exited: %s", ssh.log_tail() or "(no message)")
                    return
            elif session is not None:
                session.wait_closed(1.0)
                if not session.is_active():
                    return
            else:
                return

    def _disconnect(self) -> None:
        self._connected.clear()
        with self._cond:
            session, ssh = self._session, self._ssh
            self._session = self._ssh = None
        if session is not None:
            session.close()
        if ssh is not None:
            ssh.stop()


@dataclass
class _Outage:
    """How long the bastion has been unreachable, for the supervisor's messages while it reconnects."""

    since: float = 0.0
    attempts: int = 0

    def begin(self) -> None:
        self.since, self.attempts = time.monotonic(), 0

    def failed(self, where: str, exc: Exception, backoff: float) -> str:
        if not self.since:
            self.begin()
        self.attempts += 1
        return (
            f"waiting for the bastion {where} to accept SSH connections again: down for "
            f"{time.monotonic() - self.since:.0f}s, attempt {self.attempts} failed ({exc}); "
            f"next try in {backoff:.1f}s"
        )

    def ended(self, where: str) -> str:
        took = time.monotonic() - self.since if self.since else 0.0
        attempts = self.attempts + 1
        self.since, self.attempts = 0.0, 0
        return f"reconnected to {where} after {took:.0f}s ({attempts} attempt{'s' if attempts > 1 else ''})"


_FORWARD_TOKEN = re.compile(r"\[[^\]]*\]|[^:]*")


def _split_forward(text: str) -> list[str]:
    tokens, pos = [], 0
    while True:
        match = _FORWARD_TOKEN.match(text, pos)
        assert match is not None  # the pattern also matches the empty string
        tokens.append(match.group(0).strip("[]"))
        pos = match.end()
        if pos >= len(text):
            return tokens
        if text[pos] != ":":
            return []
        pos += 1


def parse_local_forward(text: str, name: str, node_host: str | None = None) -> ForwardSpec:
    """``[BIND:]LPORT:HOST:PORT`` as ``ssh -L`` takes it (``[v6]`` brackets allowed; HOST ``node`` = profile node)."""
    usage = f"-L {text!r}: expected [BIND:]LPORT:HOST:PORT"
    tokens = _split_forward(str(text).strip())
    if len(tokens) == 3:
        tokens.insert(0, "127.0.0.1")
    if len(tokens) != 4 or not all(tokens[1:]):
        raise UsageProblem(usage)
    bind, lport, host, rport = tokens
    bind = {"": "127.0.0.1", "localhost": "127.0.0.1", "*": "0.0.0.0"}.get(bind, bind)
    if not lport.isdigit() or int(lport) > 65535:
        raise UsageProblem(f"{usage} (local port {lport!r} is not 0..65535)")
    if not rport.isdigit() or not 1 <= int(rport) <= 65535:
        raise UsageProblem(f"{usage} (remote port {rport!r} is not 1..65535)")
    if host == "node" and node_host:
        host = node_host
    return ForwardSpec(name, bind, int(lport), host, int(rport))
