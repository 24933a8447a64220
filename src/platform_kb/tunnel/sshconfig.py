"""Where to connect: a bastion spec plus ``~/.ssh/config`` resolved into a route of SSH hops.

First step of the tunnel flow: :class:`platform_kb.profiles.BastionSpec` (or CLI flags) and the
user's OpenSSH client configuration become a :class:`Route` — the jump hosts (``ProxyJump``)
followed by the bastion, each a :class:`Hop` with its real host name, port, user, identity files
and known_hosts files. Both backends (:mod:`.session` and :mod:`.openssh`) connect from the same
route, so they reach the same hosts with the same keys and the same host-key files.

Precedence follows OpenSSH: values given explicitly (profile or flags) win over the ssh_config
``Host`` block, which wins over the defaults. ``StrictHostKeyChecking`` from ssh_config is
ignored on purpose: the policy always comes from the profile (``yes`` unless it says
``accept-new``), so a ``StrictHostKeyChecking no`` in someone's config never turns checking off.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from ..errors import UsageProblem
from ..profiles import HOST_KEY_POLICIES, BastionSpec

DEFAULT_PORT = 22
DEFAULT_SSH_CONFIG = "~/.ssh/config"
# OpenSSH's defaults (ssh_config(5) UserKnownHostsFile / GlobalKnownHostsFile)
DEFAULT_USER_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
DEFAULT_GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
# OpenSSH tries these when no IdentityFile is configured (ssh(1) -i); paramiko can load these three
DEFAULT_IDENTITIES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
MAX_JUMPS = 8

_DESTINATION = re.compile(
    r"^(?:ssh://)?(?:(?P<user>[^@/\s]+)@)?(?:\[(?P<v6>[0-9A-Fa-f:.%a-zA-Z]+)\]|(?P<host>[^:@/\[\]\s]+))(?::(?P<port>\d+))?/?$"
)


@dataclass(frozen=True)
class Destination:
    """``[USER@]HOST[:PORT]`` as written on a command line or in ``ProxyJump``."""

    host: str
    user: str | None = None
    port: int | None = None


def parse_destination(text: str, what: str = "destination") -> Destination:
    """Parse ``[user@]host[:port]``, ``ssh://user@host:port`` or ``[v6addr]:port``; UsageProblem otherwise."""
    match = _DESTINATION.match(str(text).strip())
    if not match:
        raise UsageProblem(f"{what}: expected [USER@]HOST[:PORT], got {text!r}")
    port = match.group("port")
    if port is not None and not 1 <= int(port) <= 65535:
        raise UsageProblem(f"{what}: port {port} is outside 1..65535")
    return Destination(
        host=match.group("v6") or match.group("host"),
        user=match.group("user"),
        port=int(port) if port is not None else None,
    )


@dataclass(frozen=True)
class Hop:
    """One SSH server on the way: a jump host or the bastion itself."""

    alias: str  # the name as written (profile, -J, ssh_config Host alias)
    hostname: str  # what we connect to (ssh_config HostName)
    port: int
    user: str
    identity_files: tuple[str, ...] = ()  # explicit ones; empty means OpenSSH's defaults
    known_hosts: tuple[str, ...] = ()  # user files; accept-new writes to the first
    global_known_hosts: tuple[str, ...] = ()  # read only
    host_key_policy: str = "yes"
    host_key_alias: str | None = None
    hash_known_hosts: bool = False

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH looks up in known_hosts: ``host`` on port 22, else ``[host]:port``.

        Mirrors get_hostfile_hostname_ipaddr() in openssh/openssh-portable sshconnect.c.
        """
        if self.host_key_alias:
            return self.host_key_alias
        host = self.hostname.lower()
        return host if self.port == DEFAULT_PORT else f"[{host}]:{self.port}"

    def describe(self) -> str:
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"{self.user}@{host}:{self.port}"


@dataclass(frozen=True)
class Route:
    """Jump hosts in order, then the bastion (always the last hop)."""

    hops: tuple[Hop, ...]

    @property
    def bastion(self) -> Hop:
        return self.hops[-1]

    @property
    def jumps(self) -> tuple[Hop, ...]:
        return self.hops[:-1]

    def describe(self) -> str:
        return " -> ".join(h.describe() for h in self.hops)


@dataclass
class SshConfigFile:
    """A parsed ssh_config (or none). ``path=None`` means no file, like ``ssh -F none``."""

    path: Path | None
    _config: paramiko.SSHConfig = field(default_factory=paramiko.SSHConfig)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> SshConfigFile:
        """``None``: ``~/.ssh/config`` if present; ``"none"``/``""``: no file; else that file (must exist)."""
        if path is None:
            default = Path(DEFAULT_SSH_CONFIG).expanduser()
            return cls._parse(default) if default.is_file() else cls(None)
        if str(path) in ("", "none"):
            return cls(None)
        file = Path(path).expanduser()
        if not file.is_file():
            raise UsageProblem(f"ssh config file not found: {file}")
        return cls._parse(file)

    @classmethod
    def _parse(cls, file: Path) -> SshConfigFile:
        try:
            return cls(file, paramiko.SSHConfig.from_path(str(file)))
        except (paramiko.ssh_exception.ConfigParseError, ValueError, OSError) as exc:
            raise UsageProblem(f"ssh config {file}: {exc}") from exc

    def lookup(self, alias: str) -> dict[str, object]:
        if self.path is None:
            return {"hostname": alias}
        try:
            return dict(self._config.lookup(alias))
        except Exception as exc:  # paramiko raises several types for Match/Canonicalize problems
            raise UsageProblem(f"ssh config {self.path}: cannot resolve {alias!r}: {exc}") from exc


def _expand(path: str) -> str:
    return str(Path(os.path.expandvars(path)).expanduser())


def _split_files(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    items = value if isinstance(value, list) else str(value).split()
    return tuple(_expand(str(v)) for v in items if str(v).lower() != "none")


def _config_port(config: dict[str, object], alias: str) -> int | None:
    raw = config.get("port")
    if raw is None:
        return None
    text = str(raw)
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UsageProblem(f"ssh config: Port for {alias!r} is not a port number: {text!r}")
    return int(text)


def _make_hop(
    dest: Destination,
    config: dict[str, object],
    *,
    identity_file: str | None,
    known_hosts: str | None,
    policy: str,
) -> Hop:
    user_files = (_expand(known_hosts),) if known_hosts else _split_files(config.get("userknownhostsfile"))
    if not known_hosts and not user_files:
        user_files = tuple(_expand(p) for p in DEFAULT_USER_KNOWN_HOSTS)
    global_files: tuple[str, ...] = ()
    if not known_hosts:  # an explicit known_hosts in the profile is the only trust anchor
        global_files = _split_files(config.get("globalknownhostsfile")) or DEFAULT_GLOBAL_KNOWN_HOSTS
    identities = (_expand(identity_file),) if identity_file else _split_files(config.get("identityfile"))
    return Hop(
        alias=dest.host,
        hostname=str(config.get("hostname") or dest.host),
        port=dest.port or _config_port(config, dest.host) or DEFAULT_PORT,
        user=dest.user or str(config.get("user") or "") or getpass.getuser(),
        identity_files=identities,
        known_hosts=user_files,
        global_known_hosts=global_files,
        host_key_policy=policy,
        host_key_alias=str(config["hostkeyalias"]) if config.get("hostkeyalias") else None,
        hash_known_hosts=str(config.get("hashknownhosts", "no")).lower() == "yes",
    )


def _jump_list(value: str | None) -> list[str]:
    if not value or value.strip().lower() == "none":
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def resolve_route(spec: BastionSpec, ssh_config: SshConfigFile | None = None) -> Route:
    """Resolve the bastion and its ``ProxyJump`` chain (explicit spec values win over ssh_config)."""
    if spec.host_key_policy not in HOST_KEY_POLICIES:
        raise UsageProblem(
            f"host_key_policy must be one of {', '.join(HOST_KEY_POLICIES)}, got {spec.host_key_policy!r}"
        )
    if not spec.host:
        raise UsageProblem("bastion host is empty")
    ssh_config = ssh_config or SshConfigFile(None)
    target = Destination(spec.host, spec.user, spec.port)
    config = ssh_config.lookup(target.host)
    bastion = _make_hop(
        target,
        config,
        identity_file=spec.identity_file,
        known_hosts=spec.known_hosts,
        policy=spec.host_key_policy,
    )
    jumps = spec.proxy_jump if spec.proxy_jump is not None else config.get("proxyjump")
    hops = _resolve_jumps(_jump_list(str(jumps) if jumps else None), spec, ssh_config, depth=0)
    return Route((*hops, bastion))


def _resolve_jumps(names: list[str], spec: BastionSpec, ssh_config: SshConfigFile, depth: int) -> list[Hop]:
    """Each jump host is resolved through ssh_config too; the first may itself have a ProxyJump."""
    if depth > MAX_JUMPS:
        raise UsageProblem(f"ProxyJump chain longer than {MAX_JUMPS} hops (a loop in ssh_config?)")
    hops: list[Hop] = []
    for i, name in enumerate(names):
        dest = parse_destination(name, "ProxyJump")
        config = ssh_config.lookup(dest.host)
        if i == 0:
            hops.extend(
                _resolve_jumps(_jump_list(_str_or_none(config.get("proxyjump"))), spec, ssh_config, depth + 1)
            )
        identity = spec.identity_file if not config.get("identityfile") else None
        hops.append(
            _make_hop(
                dest,
                config,
                identity_file=identity,
                known_hosts=spec.known_hosts,
                policy=spec.host_key_policy,
            )
        )
    return hops


def _str_or_none(value: object) -> str | None:
    return str(value) if value else None


def default_identities() -> tuple[str, ...]:
    return tuple(_expand(p) for p in DEFAULT_IDENTITIES)
