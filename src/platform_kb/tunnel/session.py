"""An authenticated paramiko SSH connection along a :class:`.sshconfig.Route`.

Third step of the tunnel flow. For each hop: a TCP connection (or, behind a jump host, a
``direct-tcpip`` channel through the previous hop — that is how ProxyJump works, as in
openssh/openssh-portable ssh.c ``-J``), the SSH handshake with a bounded timeout, the host key
checked by :mod:`.hostkeys` before anything else, then public-key authentication with the key
files and the ssh-agent. The result carries the in-process forwarder (:mod:`.forwarder`) and
is also the pre-flight check of the OpenSSH-process backend (:mod:`.openssh`), which gives
both backends identical host-key and authentication errors.

Sockets get ``TCP_NODELAY``: without it Nagle's algorithm meets the peer's delayed ACKs and
every new forwarded connection waits ~40 ms (the reason sshtunnel as shipped is slow).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from .errors import AuthenticationError, BastionUnreachable, ForwardUnreachable, TunnelError
from .hostkeys import KnownHosts, Verified, fingerprint, preferred_key_types, verify_host_key
from .sshconfig import Hop, Route, default_identities

log = logging.getLogger("platform_kb.tunnel")

# Bigger than paramiko's defaults (2 MiB window, 32 KiB packets): fewer window adjustments and
# fewer, larger packets on bulk transfers. OpenSSH accepts packets up to 256 KiB.
WINDOW_SIZE = 16 * 1024 * 1024
MAX_PACKET_SIZE = 128 * 1024
# AES-GCM first: one AEAD pass instead of AES-CTR plus a separate HMAC (paramiko's default order).
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")


# RFC 4254 section 5.1 reason codes of SSH_MSG_CHANNEL_OPEN_FAILURE
_OPEN_FAILURES = {
    1: "administratively prohibited (the server forbids this forward: AllowTcpForwarding / PermitOpen)",
    2: "connect failed (connection refused, or the host is unreachable from there)",
    3: "unknown channel type",
    4: "resource shortage on the server",
}


def explain_open_failure(exc: paramiko.ChannelException) -> str:
    return _OPEN_FAILURES.get(exc.code, f"{exc.text or 'channel open failed'} (code {exc.code})")


@dataclass(frozen=True)
class ConnectOptions:
    connect_timeout: float = 10.0
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 3
    use_agent: bool = True


class QuickAckSocket(socket.socket):
    """A socket that re-arms ``TCP_QUICKACK`` before every read.

    sshd sends the answer to one request as several small SSH packets and, like most servers,
    with Nagle's algorithm on: its second packet waits for our ACK of the first, and Linux
    delays that ACK by up to 40 ms on a request/response connection. Quick ACKs remove the
    stall (measured: 60 of 300 keep-alive requests took ~44 ms without, none with). Linux
    clears the flag by itself, hence the re-arm on each ``recv``.
    """

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        quickack(self)
        return super().recv(bufsize, flags)


def quickack(sock: socket.socket) -> None:
    if hasattr(socket, "TCP_QUICKACK"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


def tune_socket(sock: socket.socket, options: ConnectOptions | None = None) -> None:
    """TCP_NODELAY always; with ``options``, kernel keepalives and a user timeout so a dead peer is noticed."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if options is None or options.keepalive_interval <= 0:
        return
    interval = max(1, int(options.keepalive_interval))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (
        ("TCP_KEEPIDLE", interval),
        ("TCP_KEEPINTVL", interval),
        ("TCP_KEEPCNT", options.keepalive_count_max),
        ("TCP_USER_TIMEOUT", interval * options.keepalive_count_max * 1000),
    ):
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


@dataclass
class SshSession:
    """One authenticated connection per hop; ``transport`` is the bastion's."""

    route: Route
    transports: list[paramiko.Transport] = field(default_factory=list)
    verified: list[Verified] = field(default_factory=list)

    @property
    def transport(self) -> paramiko.Transport:
        return self.transports[-1]

    def is_active(self) -> bool:
        return bool(self.transports) and all(t.is_active() for t in self.transports)

    def wait_closed(self, timeout: float) -> None:
        """Block up to ``timeout`` seconds or until the bastion connection ends (its reader thread exits)."""
        if self.transports:
            self.transports[-1].join(timeout)

    def open_channel(self, host: str, port: int, origin: tuple[str, int], timeout: float) -> paramiko.Channel:
        return self.transport.open_channel("direct-tcpip", (host, port), origin, timeout=timeout)

    def probe(self, host: str, port: int, timeout: float) -> None:
        """Open and close a direct-tcpip channel to ``host:port``; ForwardUnreachable if the bastion cannot connect."""
        try:
            channel = self.open_channel(host, port, ("127.0.0.1", 0), timeout)
        except paramiko.ChannelException as exc:
            raise ForwardUnreachable(
                f"{host}:{port} is not reachable from the bastion {self.route.bastion.describe()}: "
                f"{explain_open_failure(exc)}"
            ) from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise TunnelError(f"probe of {host}:{port} failed: {exc}") from exc
        channel.close()

    def close(self) -> None:
        for transport in reversed(self.transports):
            try:
                transport.close()
            except Exception:  # closing a half-dead transport may raise anything; nothing to do about it
                log.debug("error closing transport", exc_info=True)
        self.transports.clear()


def connect(route: Route, options: ConnectOptions) -> SshSession:
    """Connect hop by hop (each through the previous one); the first failure closes what was opened."""
    session = SshSession(route)
    try:
        previous: paramiko.Transport | None = None
        for hop in route.hops:
            sock = _open_socket(hop, previous, route, options)
            transport, verified = _handshake(hop, sock, options)
            session.transports.append(transport)
            session.verified.append(verified)
            _authenticate(transport, hop, options)
            if options.keepalive_interval > 0:
                transport.set_keepalive(int(options.keepalive_interval))
            previous = transport
    except BaseException:
        session.close()
        raise
    return session


def _open_socket(
    hop: Hop, previous: paramiko.Transport | None, route: Route, options: ConnectOptions
) -> socket.socket | paramiko.Channel:
    if previous is not None:
        jump = route.hops[route.hops.index(hop) - 1]
        try:
            return previous.open_channel(
                "direct-tcpip", (hop.hostname, hop.port), ("127.0.0.1", 0), timeout=options.connect_timeout
            )
        except paramiko.ChannelException as exc:
            raise BastionUnreachable(
                f"jump host {jump.describe()} cannot reach {hop.hostname}:{hop.port}: {explain_open_failure(exc)}"
            ) from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise BastionUnreachable(
                f"jump host {jump.describe()} lost while reaching {hop.describe()}: {exc}"
            ) from exc
    try:
        sock = socket.create_connection((hop.hostname, hop.port), timeout=options.connect_timeout)
    except socket.gaierror as exc:
        raise BastionUnreachable(f"cannot resolve {hop.hostname} ({hop.describe()}): {exc.strerror}") from exc
    except TimeoutError as exc:
        raise BastionUnreachable(
            f"cannot reach {hop.describe()}: no answer within {options.connect_timeout:g}s (connect timeout)"
        ) from exc
    except OSError as exc:
        raise BastionUnreachable(f"cannot reach {hop.describe()}: {exc.strerror or exc}") from exc
    sock = QuickAckSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    tune_socket(sock, options)
    return sock


def _handshake(
    hop: Hop, sock: socket.socket | paramiko.Channel, options: ConnectOptions
) -> tuple[paramiko.Transport, Verified]:
    transport = paramiko.Transport(
        sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE
    )
    transport.banner_timeout = options.connect_timeout
    transport.handshake_timeout = options.connect_timeout
    transport.auth_timeout = options.connect_timeout
    security = transport.get_security_options()
    known = KnownHosts.for_hop(hop)
    security.key_types = preferred_key_types(known.entries(hop.known_hosts_name), security.key_types)
    security.ciphers = [c for c in PREFERRED_CIPHERS if c in security.ciphers] + [
        c for c in security.ciphers if c not in PREFERRED_CIPHERS
    ]
    try:
        transport.start_client(timeout=options.connect_timeout)
        if not transport.is_active() or transport.get_remote_server_key() is None:
            raise paramiko.SSHException("negotiation timed out")
    except (paramiko.SSHException, OSError, EOFError) as exc:
        transport.close()
        raise BastionUnreachable(
            f"SSH handshake with {hop.describe()} failed within {options.connect_timeout:g}s: {exc or type(exc).__name__}"
        ) from exc
    try:
        verified = verify_host_key(hop, transport.get_remote_server_key(), known)
    except BaseException:
        transport.close()
        raise
    if verified.recorded:
        log.warning(
            "recorded new host key of %s (%s) in %s", verified.host, verified.fingerprint, verified.location
        )
    return transport, verified


@dataclass(frozen=True)
class _Candidate:
    label: str
    load: Callable[[], paramiko.PKey]


def _candidates(hop: Hop, options: ConnectOptions) -> tuple[list[_Candidate], list[str]]:
    """Keys to offer in order: explicit files, the agent's keys, then OpenSSH's default files."""
    notes: list[str] = []
    candidates: list[_Candidate] = []
    for path in hop.identity_files:
        if Path(path).is_file():
            candidates.append(_Candidate(path, lambda p=path: paramiko.PKey.from_path(p)))
        else:
            notes.append(f"{path}: not found")
    if options.use_agent and os.environ.get("SSH_AUTH_SOCK"):
        try:
            for key in paramiko.Agent().get_keys():
                candidates.append(_Candidate(f"agent key {key.get_name()}", lambda k=key: k))
        except paramiko.SSHException as exc:
            notes.append(f"ssh-agent: {exc}")
    if not hop.identity_files:
        for path in default_identities():
            if Path(path).is_file():
                candidates.append(_Candidate(path, lambda p=path: paramiko.PKey.from_path(p)))
    return candidates, notes


def _authenticate(transport: paramiko.Transport, hop: Hop, options: ConnectOptions) -> None:
    candidates, notes = _candidates(hop, options)
    tried: list[str] = []
    for candidate in candidates:
        try:
            key = candidate.load()
        except paramiko.PasswordRequiredException:
            notes.append(f"{candidate.label}: encrypted (load it into ssh-agent)")
            continue
        except (paramiko.SSHException, OSError, ValueError) as exc:
            notes.append(f"{candidate.label}: unreadable ({exc})")
            continue
        try:
            remaining = transport.auth_publickey(hop.user, key)
        except paramiko.BadAuthenticationType as exc:
            raise AuthenticationError(
                f"authentication failed for {hop.describe()}: the server does not accept public keys "
                f"(it allows: {', '.join(exc.allowed_types) or 'nothing'})"
            ) from exc
        except paramiko.AuthenticationException:
            tried.append(f"{candidate.label} ({key.get_name()} {fingerprint(key)})")
            continue
        except (paramiko.SSHException, EOFError, OSError) as exc:
            tried.append(f"{candidate.label} ({key.get_name()} {fingerprint(key)})")
            notes.append(f"connection closed by the server during authentication: {exc}")
            break
        if transport.is_authenticated():
            return
        notes.append(f"server asks for more methods: {', '.join(remaining)}")
    detail = "; ".join([f"offered: {', '.join(tried) or 'no usable key'}", *notes])
    raise AuthenticationError(
        f"authentication failed for {hop.describe()}: the server refused every key ({detail}). "
        f"Check the identity file (-i / identity_file) and the server's authorized_keys for user {hop.user!r}."
    )
