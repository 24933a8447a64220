"""Command runners: where helm and kubectl actually run.

The plan (``plan.py``) reads facts and yields :mod:`commands`; a runner executes them:

* :class:`LocalRunner` — subprocess on the operator's machine; ``KUBECONFIG`` points at a
  kubeconfig written by :func:`write_tunnel_kubeconfig` for the tunnel's local API address.
* :class:`BastionRunner` — paramiko ``exec`` on the bastion over the tunnel's SSH session (host
  key verified against known_hosts, never auto-added); values files are written with ``cat`` over the same connection.
* :class:`RecordingRunner` — records every command and returns canned results (tests: there is
  no helm binary here).

Each runner stages a command's files (``-f values.yaml``) in its working directory and runs the
command there, so command lines stay identical whichever runner executes them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import yaml

from .. import kube
from ..errors import KbError, MissingPrerequisite, UsageProblem
from ..profiles import BastionSpec
from .commands import Command, Shell

RUNNER_KINDS = ("local", "bastion")


@dataclass(frozen=True)
class Result:
    rc: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0


class CommandFailed(KbError):
    """A command exited non-zero; the message carries the masked command line and stderr's tail."""

    def __init__(self, command: Command, result: Result):
        tail = "\n".join(command.masker().text(result.stderr).strip().splitlines()[-8:])
        super().__init__(
            f"`{command.line()}` failed with exit code {result.rc}" + (f":\n{tail}" if tail else "")
        )
        self.command = command
        self.result = result


class Runner(Protocol):
    name: str

    def run(self, command: Command, check: bool = True) -> Result: ...

    def has_tool(self, tool: str) -> bool: ...

    def close(self) -> None: ...


def _checked(command: Command, result: Result, check: bool) -> Result:
    if check and not result.ok:
        raise CommandFailed(command, result)
    return result


# --- local --------------------------------------------------------------------------------------
@dataclass
class LocalRunner:
    """Runs commands with subprocess in ``workdir`` (values files are written there)."""

    workdir: Path
    kubeconfig: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 900.0
    name: str = "local"
    # removes a temporary workdir this runner owns (set by install.connect.make_runner)
    cleanup: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    def _env(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        if self.kubeconfig:
            env["KUBECONFIG"] = str(self.kubeconfig)
        return env

    def has_tool(self, tool: str) -> bool:
        return shutil.which(tool, path=self._env().get("PATH")) is not None

    def run(self, command: Command, check: bool = True) -> Result:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for staged in command.files():
            target = self.workdir / staged.name
            target.write_text(staged.content, encoding="utf-8")
            target.chmod(0o600)
        try:
            proc = subprocess.run(
                list(command.argv()),
                input=command.stdin(),
                capture_output=True,
                text=True,
                cwd=self.workdir,
                env=self._env(),
                timeout=self.timeout,
            )
        except FileNotFoundError:
            result = Result(127, "", f"{command.tool}: command not found on this machine")
        except subprocess.TimeoutExpired:
            result = Result(124, "", f"timed out after {self.timeout:.0f}s")
        else:
            result = Result(proc.returncode, proc.stdout, proc.stderr)
        return _checked(command, result, check)

    def close(self) -> None:
        if self.cleanup is not None:
            self.cleanup()


def write_tunnel_kubeconfig(source: str | Path, api_url: str, dest: Path, context: str | None = None) -> Path:
    """Copy ``source`` with the (current) context's cluster pointed at ``api_url`` (the tunnel's end).

    For an ``https`` API server the original host name is kept as ``tls-server-name`` so the
    server certificate still verifies through 127.0.0.1.
    """
    path = Path(source).expanduser()
    if not path.is_file():
        raise UsageProblem(f"kubeconfig not found: {path}")
    server = kube.context_server(path, context)  # the official loader resolves context and cluster
    data = kube.merged_kubeconfig(path)
    cluster = next(c["cluster"] for c in data["clusters"] if c.get("name") == server.cluster)
    target = urlparse(api_url)
    scheme = urlparse(server.server or "").scheme or target.scheme or "https"
    cluster["server"] = f"{scheme}://{target.hostname}:{target.port}"
    if scheme == "https" and server.hostname and "tls-server-name" not in cluster:
        cluster["tls-server-name"] = server.hostname
    if context:
        data["current-context"] = context
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # created 0600 (never briefly readable by others): it holds the user's credentials
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(yaml.safe_dump(data, sort_keys=False))
    dest.chmod(0o600)
    return dest


# --- bastion --------------------------------------------------------------------------------------
@dataclass
class BastionRunner:
    """Runs commands on the bastion over SSH, in ``remote_dir`` there.

    The connection is the tunnel's (``platform_kb.tunnel.session``): ssh_config and ProxyJump are
    honoured and the host key is verified against known_hosts by ``platform_kb.tunnel.hostkeys``
    before authentication — the same checks and errors (``HostKeyError``) as ``kb tunnel``.
    """

    bastion: BastionSpec
    remote_dir: str = ".kb-install"
    remote_env: dict[str, str] = field(default_factory=dict)
    connect_timeout: float = 15.0
    timeout: float = 900.0
    name: str = "bastion"
    _session: Any = field(default=None, repr=False)

    def _transport(self):
        from ..tunnel.session import ConnectOptions, connect
        from ..tunnel.sshconfig import SshConfigFile, resolve_route

        if self._session is None or not self._session.is_active():
            route = resolve_route(self.bastion, SshConfigFile.load())
            self._session = connect(
                route, ConnectOptions(connect_timeout=self.connect_timeout, keepalive_interval=0)
            )
        return self._session.transport

    def _exec(self, script: str, stdin: str | None) -> Result:
        chan = self._transport().open_session(timeout=self.connect_timeout)
        chan.settimeout(self.timeout)
        chan.exec_command(script)
        if stdin is not None:
            chan.sendall(stdin.encode("utf-8"))
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        while not (chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready()):
            if chan.recv_ready():
                out += chan.recv(65536)
            elif chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
            else:
                chan.status_event.wait(0.05)
        rc = chan.recv_exit_status()
        out += _drain(chan.recv_ready, chan.recv)
        err += _drain(chan.recv_stderr_ready, chan.recv_stderr)
        chan.close()
        return Result(rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))

    def _stage(self, command: Command) -> None:
        """Write the command's files through ``cat`` (no SFTP subsystem needed on the bastion)."""
        folder = shlex.quote(self.remote_dir)
        for staged in command.files():
            target = shlex.quote(f"{self.remote_dir.rstrip('/')}/{staged.name}")
            result = self._exec(f"umask 077 && mkdir -p {folder} && cat > {target}", staged.content)
            if not result.ok:
                raise CommandFailed(command, result)

    def script(self, command: Command) -> str:
        """The shell line run on the bastion (working directory, environment, the command)."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.remote_env.items()))
        prefix = f"mkdir -p {shlex.quote(self.remote_dir)} && cd {shlex.quote(self.remote_dir)} && "
        return prefix + (f"env {env} " if env else "") + shlex.join(command.argv())

    def run(self, command: Command, check: bool = True) -> Result:
        self._stage(command)
        return _checked(command, self._exec(self.script(command), command.stdin()), check)

    def has_tool(self, tool: str) -> bool:
        return self.run(Shell(("sh", "-c", f"command -v {shlex.quote(tool)}")), check=False).ok

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _drain(ready: Callable[[], bool], recv: Callable[[int], bytes]) -> bytes:
    data = bytearray()
    while ready():
        chunk = recv(65536)
        if not chunk:
            break
        data += chunk
    return bytes(data)


# --- recording (tests) ------------------------------------------------------------------------
Responder = Callable[[Command], "Result | None"]


@dataclass
class RecordingRunner:
    """Records the commands it is given; ``responder`` returns canned results (default: rc 0, no output)."""

    responder: Responder | None = None
    tools: tuple[str, ...] = ("helm", "kubectl")
    name: str = "recording"
    commands: list[Command] = field(default_factory=list)
    staged: dict[str, str] = field(default_factory=dict)

    def run(self, command: Command, check: bool = True) -> Result:
        self.commands.append(command)
        for staged in command.files():
            self.staged[staged.name] = staged.content
        result = self.responder(command) if self.responder else None
        return _checked(command, result or Result(0), check)

    def has_tool(self, tool: str) -> bool:
        return tool in self.tools

    def lines(self, mutating_only: bool = False) -> list[str]:
        return [c.line() for c in self.commands if c.mutates or not mutating_only]

    def close(self) -> None:
        pass


def require_tools(runner: Runner, tools: tuple[str, ...]) -> None:
    """Stop before any change when the runner lacks a tool the apply needs."""
    missing = [t for t in tools if not runner.has_tool(t)]
    if missing:
        raise MissingPrerequisite(
            f"{', '.join(missing)} not found on the {runner.name} runner; install it there "
            "(helm: https://helm.sh/docs/intro/install/, kubectl: the kubernetes-client package) "
            "or choose the other runner (runner=local|bastion)"
        )
