"""The OpenSSH-process backend: ``ssh -N -L ...`` carries the data, supervised from Python.

Fourth step of the tunnel flow when ``ssh`` is installed (the default backend). The route was
already connected once with paramiko (:mod:`.session`): host keys verified (and recorded under
``accept-new``), authentication tried, forwards probed. Then ``ssh`` is started with exactly the
resolved settings — ``-F none`` so nothing else from ssh_config changes its behaviour, the same
known_hosts files and ``StrictHostKeyChecking`` policy, ``BatchMode`` (never a prompt),
``ExitOnForwardFailure`` (a local port it cannot bind ends it at once), ``ServerAliveInterval``
keepalives, and ProxyJump spelled out as nested ``ProxyCommand ssh -W`` so every hop gets the same
options. Readiness is read from ``/proc``: the tunnel is up when the ssh process owns a listening
socket on every local port, without sending anything through it.

``ssh`` runs in its own session (stopped by pid as a process group) under ``setpriv --pdeathsig``
when available, so it dies with the Python process even if that is killed hard.
"""

from __future__ import annotations

import math
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..processes import ProcessRecord, spawn, wait_until
from ..procnet import listening_ports
from ..profiles import ForwardSpec
from .errors import AuthenticationError, BastionUnreachable, HostKeyError, LocalPortInUse, TunnelError
from .session import ConnectOptions
from .sshconfig import Hop, Route


def find_ssh() -> str | None:
    return shutil.which("ssh")


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _file_list(paths: tuple[str, ...]) -> str:
    if not paths:
        return "/dev/null"
    return " ".join(f'"{p}"' if any(c.isspace() for c in p) else p for p in paths)


def hop_arguments(hop: Hop, options: ConnectOptions) -> list[str]:
    """Options that make ``ssh`` treat ``hop`` exactly as :mod:`.session` did."""
    args = [
        "-F", "none",
        "-o", "BatchMode=yes",
        "-o", f"StrictHostKeyChecking={hop.host_key_policy}",
        "-o", f"UserKnownHostsFile={_file_list(hop.known_hosts)}",
        "-o", f"GlobalKnownHostsFile={_file_list(hop.global_known_hosts)}",
        "-o", "CheckHostIP=no",
        "-o", "UpdateHostKeys=no",
        "-o", f"ConnectTimeout={max(1, math.ceil(options.connect_timeout))}",
        "-o", "ControlMaster=no",
        "-o", "ControlPath=none",
        "-o", "LogLevel=ERROR",
    ]  # fmt: skip
    if hop.host_key_alias:
        args += ["-o", f"HostKeyAlias={hop.host_key_alias}"]
    if options.keepalive_interval > 0:
        args += [
            "-o", f"ServerAliveInterval={max(1, int(options.keepalive_interval))}",
            "-o", f"ServerAliveCountMax={options.keepalive_count_max}",
        ]  # fmt: skip
    if not options.use_agent:
        args += ["-o", "IdentityAgent=none"]
    for identity in hop.identity_files:
        args += ["-i", identity]
    return [*args, "-p", str(hop.port), "-l", hop.user]


def _escape_percent(text: str) -> str:
    return text.replace("%", "%%")  # ProxyCommand values are %-expanded once per ssh level


def proxy_command(route: Route, index: int, options: ConnectOptions, ssh: str) -> str | None:
    """The ProxyCommand reaching ``route.hops[index]``: ``ssh -W host:port`` through the previous hop."""
    if index == 0:
        return None
    jump, target = route.hops[index - 1], route.hops[index]
    argv = [ssh, *hop_arguments(jump, options)]
    inner = proxy_command(route, index - 1, options, ssh)
    if inner:
        argv += ["-o", f"ProxyCommand={inner}"]
    argv += ["-W", f"{_bracket(target.hostname)}:{target.port}", jump.hostname]
    return _escape_percent(shlex.join(argv))


def forward_argument(spec: ForwardSpec, local_port: int) -> str:
    return f"{_bracket(spec.local_host)}:{local_port}:{_bracket(spec.remote_host)}:{spec.remote_port}"


def build_argv(
    route: Route, forwards: list[tuple[ForwardSpec, int]], options: ConnectOptions, ssh: str
) -> list[str]:
    """The full ``ssh -N -L ...`` command line for the route and the (already chosen) local ports."""
    argv = [ssh, "-N", *hop_arguments(route.bastion, options), "-o", "ExitOnForwardFailure=yes"]
    proxy = proxy_command(route, len(route.hops) - 1, options, ssh)
    if proxy:
        argv += ["-o", f"ProxyCommand={proxy}"]
    for spec, port in forwards:
        argv += ["-L", forward_argument(spec, port)]
    return [*argv, route.bastion.hostname]


def equivalent_command(route: Route, forwards: list[tuple[ForwardSpec, int]]) -> str:
    """What a person would type: ``ssh -N -L 8080:node:30998 [-J jump] -p PORT user@bastion``."""
    argv = ["ssh", "-N"]
    for spec, port in forwards:
        local = (
            f"{port}"
            if spec.local_host in ("127.0.0.1", "localhost")
            else f"{_bracket(spec.local_host)}:{port}"
        )
        argv += ["-L", f"{local}:{_bracket(spec.remote_host)}:{spec.remote_port}"]
    if route.jumps:
        argv += ["-J", ",".join(f"{h.user}@{_bracket(h.hostname)}:{h.port}" for h in route.jumps)]
    bastion = route.bastion
    if bastion.identity_files:
        argv += ["-i", bastion.identity_files[0]]
    if bastion.port != 22:
        argv += ["-p", str(bastion.port)]
    return shlex.join([*argv, f"{bastion.user}@{bastion.hostname}"])


_ERROR_PATTERNS: list[tuple[re.Pattern[str], type[TunnelError]]] = [
    (re.compile(r"Address already in use|cannot listen to port|Could not request local forwarding"), LocalPortInUse),
    (re.compile(r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known"), HostKeyError),
    (re.compile(r"Permission denied|Too many authentication failures"), AuthenticationError),
    (re.compile(r"Connection refused|timed out|Could not resolve|No route to host|Connection closed|kex_exchange_identification"), BastionUnreachable),
]  # fmt: skip


def classify(log_text: str) -> type[TunnelError]:
    for pattern, error in _ERROR_PATTERNS:
        if pattern.search(log_text):
            return error
    return TunnelError


@dataclass
class OpenSshProcess:
    """One running ``ssh -N -L ...``; ``start()`` returns when every local port listens."""

    argv: list[str]
    ports: list[int]
    log_path: Path
    record: ProcessRecord | None = None
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.record.pid if self.record else None

    def start(self, timeout: float) -> None:
        self.log_path.write_text("")
        argv = self.argv
        setpriv = shutil.which("setpriv")
        if setpriv:
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        self._proc, self.record = spawn("ssh-tunnel", argv, self.log_path)
        proc, wanted = self._proc, set(self.ports)
        ready = wait_until(
            lambda: proc.poll() is not None or wanted <= listening_ports(proc.pid), timeout, 0.005
        )
        if proc.poll() is not None:
            tail = self.log_tail()
            self.stop()
            raise classify(tail)(f"ssh exited with status {proc.returncode}: {tail or '(no message)'}")
        if not ready:
            self.stop()
            raise BastionUnreachable(
                f"ssh did not open its local ports within {timeout:g}s: {self.log_tail()}"
            )

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until ssh exits (its exit status) or ``timeout`` passes (None)."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        if self.record is not None:
            self.record.stop(timeout=5)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])
