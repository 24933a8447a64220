"""node-exporter on the inventory's hosts over SSH: facts first, then only the commands that change something.

Where this sits: ``install-monitoring`` installs kube-prometheus-stack in the cluster (``values.py`` /
``plan.py``) and, with this module, Prometheus's node-exporter on every host of the inventory
(``platform_kb.inventory``: the Proxmox mini PCs and the desktop) — reached over SSH with ``ProxyJump``
through the bastion by :class:`~platform_kb.install.runners.BastionRunner` (host keys verified against
known_hosts, never auto-added). Modelled on pyinfra like ``plan.py``: :func:`read_facts` runs read-only
commands, :func:`host_operations` yields a command only where the host differs from the desired state,
:func:`plan_hosts` collects every host into one :class:`~platform_kb.install.plan.Plan` without changing
anything, and :func:`apply_hosts` runs the changes host by host. A second apply finds nothing to do.

The Debian/Proxmox method (Proxmox VE is Debian): the ``prometheus-node-exporter`` package (Debian
``main``) whose systemd unit reads ``ARGS`` from ``/etc/default/prometheus-node-exporter``
(``EnvironmentFile=`` + ``ExecStart=/usr/bin/prometheus-node-exporter $ARGS`` in the package's unit);
the listen port is set there with ``--web.listen-address=:<exporter_port>``. The file is written through
stdin (``sh -c 'cat > FILE'``), so no SFTP subsystem is needed; ``sudo -n`` is prefixed when the SSH user is not root
(never a password prompt: a sudo that needs one is reported as a blocked host).

Two kinds of hosts are never changed: a host that cannot be reached (or whose facts cannot be read) —
the plan says so for that host and apply stops before touching *any* host — and a host marked
``lab: true`` (the lab machine itself): its facts are read and its plan is shown, but apply refuses it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import KbError, UsageProblem
from ..inventory import Host, Inventory
from ..profiles import BastionSpec
from .commands import Command
from .plan import Operation, Plan
from .runners import BastionRunner, Result, Runner

PACKAGE = "prometheus-node-exporter"  # Debian/Proxmox package (and systemd unit) name
DEFAULTS_FILE = "/etc/default/prometheus-node-exporter"
SUDO_MODES = ("auto", "always", "never")
MANAGED_HEADER = "# Managed by platform-kb (runbooks/install-monitoring.py): changes here are overwritten.\n"

RunnerFactory = Callable[[Host], Runner]


class HostsBlocked(KbError):
    """Apply refused to start: a host could not be reached or its facts could not be read."""


# --- commands ------------------------------------------------------------------------------------
def _sudo(sudo: bool) -> tuple[str, ...]:
    return ("sudo", "-n") if sudo else ()


@dataclass(frozen=True)
class UserId(Command):
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("id", "-u")


@dataclass(frozen=True)
class SudoCheck(Command):
    """``sudo -n true``: sudo works without a password prompt."""

    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("sudo", "-n", "true")


@dataclass(frozen=True)
class DpkgStatus(Command):
    package: str
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("dpkg-query", "-W", "-f=${Status} ${Version}", self.package)


@dataclass(frozen=True)
class SystemctlIs(Command):
    state: str  # "enabled" | "active"
    unit: str
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("systemctl", f"is-{self.state}", self.unit)


@dataclass(frozen=True)
class ReadFile(Command):
    path: str
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("cat", self.path)


@dataclass(frozen=True)
class AptUpdate(Command):
    sudo: bool = False

    def argv(self) -> tuple[str, ...]:
        return (*_sudo(self.sudo), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", "-q")

    def summary(self) -> str:
        return "refresh the apt package index"


@dataclass(frozen=True)
class AptInstall(Command):
    package: str
    sudo: bool = False

    def argv(self) -> tuple[str, ...]:
        return (*_sudo(self.sudo), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
                "--no-install-recommends", self.package)  # fmt: skip

    def summary(self) -> str:
        return f"install package {self.package}"


@dataclass(frozen=True)
class WriteFile(Command):
    """``sh -c 'umask 022 && cat > PATH'`` with the content on stdin (no SFTP subsystem needed)."""

    path: str
    content: str = field(repr=False)
    sudo: bool = False

    def argv(self) -> tuple[str, ...]:
        return (*_sudo(self.sudo), "sh", "-c", f"umask 022 && cat > {shlex.quote(self.path)}")

    def stdin(self) -> str:
        return self.content

    def summary(self) -> str:
        return f"write {self.path}"


@dataclass(frozen=True)
class Systemctl(Command):
    action: str  # "enable --now" | "restart"
    unit: str
    sudo: bool = False

    def argv(self) -> tuple[str, ...]:
        return (*_sudo(self.sudo), "systemctl", *self.action.split(), self.unit)

    def summary(self) -> str:
        return f"systemctl {self.action} {self.unit}"


# --- facts ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExporterSettings:
    """What every host gets: the package, its unit, its defaults file, how to become root."""

    package: str = PACKAGE
    unit: str = PACKAGE
    defaults_file: str = DEFAULTS_FILE
    sudo: str = "auto"  # auto: sudo -n when `id -u` is not 0 | always | never
    extra_args: tuple[str, ...] = ()  # further node-exporter flags, e.g. --collector.systemd

    def __post_init__(self) -> None:
        if self.sudo not in SUDO_MODES:
            raise UsageProblem(f"host_sudo must be one of {', '.join(SUDO_MODES)}, got {self.sudo!r}")

    def args(self, host: Host) -> list[str]:
        return [f"--web.listen-address=:{host.exporter_port}", *self.extra_args]

    def defaults_content(self, host: Host) -> str:
        return (
            MANAGED_HEADER
            + f"# node-exporter for host {host.name}; Prometheus scrapes {host.target} (job hosts)\n"
            + f"ARGS={shlex.quote(' '.join(self.args(host)))}\n"
        )


@dataclass(frozen=True)
class Facts:
    uid: int
    sudo_ok: bool
    installed: bool
    version: str
    enabled: str  # `systemctl is-enabled` output: enabled | disabled | masked | not-found | ...
    active: str  # `systemctl is-active` output: active | inactive | failed | ...
    defaults: str | None  # content of the defaults file, None when missing

    @property
    def args(self) -> list[str] | None:
        return parse_args(self.defaults) if self.defaults is not None else None


def parse_args(content: str) -> list[str] | None:
    """The ``ARGS`` of a defaults file, split like the shell would; None when no ARGS line exists."""
    value: list[str] | None = None
    for line in content.splitlines():
        text = line.strip()
        if text.startswith("export "):
            text = text[len("export ") :].strip()
        if text.startswith("ARGS="):
            try:
                parts = shlex.split(text[len("ARGS=") :], comments=True)
            except ValueError:
                parts = [text[len("ARGS=") :]]
            value = shlex.split(" ".join(parts)) if parts else []
    return value


def _first(result: Result) -> str:
    lines = [x.strip() for x in result.stdout.splitlines() if x.strip()]
    return lines[0] if lines else ""


def parse_dpkg(result: Result) -> tuple[bool, str]:
    """``dpkg-query -W -f='${Status} ${Version}'`` -> (installed, version)."""
    if not result.ok:
        if "no packages found" in result.stderr.lower():
            return False, ""
        raise FactUnavailable(
            f"dpkg-query failed ({result.rc}): {result.stderr.strip()[:200] or 'no output'} — "
            "is this a Debian/Proxmox host?"
        )
    words = result.stdout.split()
    installed = len(words) >= 3 and words[2] == "installed"
    return installed, (words[3] if installed and len(words) > 3 else "")


class FactUnavailable(KbError):
    """A fact command failed in a way that says nothing about the desired state."""


def read_facts(runner: Runner, settings: ExporterSettings) -> Facts:
    """Every fact of one host (read-only commands only)."""
    uid_result = runner.run(UserId(), check=False)
    if not uid_result.ok or not _first(uid_result).isdigit():
        raise FactUnavailable(f"`id -u` failed: {uid_result.stderr.strip()[:200] or uid_result.stdout[:200]}")
    uid = int(_first(uid_result))
    sudo_ok = True
    if uses_sudo(settings, uid):
        sudo_ok = runner.run(SudoCheck(), check=False).ok
    installed, version = parse_dpkg(runner.run(DpkgStatus(settings.package), check=False))
    enabled = _first(runner.run(SystemctlIs("enabled", settings.unit), check=False)) or "not-found"
    active = _first(runner.run(SystemctlIs("active", settings.unit), check=False)) or "unknown"
    read = runner.run(ReadFile(settings.defaults_file), check=False)
    defaults = read.stdout if read.ok else None
    return Facts(uid, sudo_ok, installed, version, enabled, active, defaults)


# --- what a host runs (read by `kb doctor`, never assumed) -------------------------------------------
OS_RELEASE = "/etc/os-release"  # os-release(5): ID, ID_LIKE, VERSION_ID, VERSION_CODENAME, PRETTY_NAME
PROXMOX_PACKAGE = "pve-manager"  # Proxmox VE's own package: its version is what `pveversion` prints first


@dataclass(frozen=True)
class OsRelease:
    id: str
    version_id: str
    pretty_name: str
    id_like: str = ""

    @property
    def debian_family(self) -> bool:
        return self.id == "debian" or "debian" in self.id_like.split()


def parse_os_release(text: str) -> OsRelease:
    """``KEY=value`` lines of os-release(5); values may be quoted (shell rules)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        try:
            parts = shlex.split(raw)
        except ValueError:
            parts = [raw]
        values[key] = parts[0] if parts else ""
    return OsRelease(
        values.get("ID", "linux"),
        values.get("VERSION_ID", ""),
        values.get("PRETTY_NAME", "Linux"),
        values.get("ID_LIKE", ""),
    )


@dataclass(frozen=True)
class HostSystem:
    """The facts #3-11 could only assume: the OS, the Proxmox VE version, the installed node-exporter."""

    os: OsRelease
    proxmox: str  # pve-manager version; "" when the host is not a Proxmox VE node
    exporter: str  # installed prometheus-node-exporter package version; "" when not installed

    def text(self) -> str:
        pve = f", Proxmox VE {self.proxmox}" if self.proxmox else ""
        exporter = f"node-exporter {self.exporter}" if self.exporter else "node-exporter not installed"
        return f"{self.os.pretty_name}{pve}, {exporter}"


def read_system(runner: Runner, package: str = PACKAGE) -> HostSystem:
    """``/etc/os-release`` and two ``dpkg-query`` lookups (read-only, no sudo)."""
    release = runner.run(ReadFile(OS_RELEASE), check=False)
    if not release.ok:
        raise FactUnavailable(f"cannot read {OS_RELEASE}: {release.stderr.strip()[:200] or 'no output'}")
    os_release = parse_os_release(release.stdout)
    proxmox, exporter = "", ""
    if os_release.debian_family:
        installed, version = parse_dpkg(runner.run(DpkgStatus(PROXMOX_PACKAGE), check=False))
        proxmox = version if installed else ""
        installed, version = parse_dpkg(runner.run(DpkgStatus(package), check=False))
        exporter = version if installed else ""
    return HostSystem(os_release, proxmox, exporter)


def uses_sudo(settings: ExporterSettings, uid: int) -> bool:
    return settings.sudo == "always" or (settings.sudo == "auto" and uid != 0)


# --- operations -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HostOperation(Operation):
    """An :class:`Operation` on one inventory host."""

    host: str = ""


def host_operations(host: Host, facts: Facts, settings: ExporterSettings) -> Iterator[HostOperation]:
    """Compare the facts with the desired state; a command only where something differs."""
    sudo = uses_sudo(settings, facts.uid)

    def op(what: str, reason: str, command: Command | None = None) -> HostOperation:
        return HostOperation(f"{host.name}: {what}", reason, command, host=host.name)

    package = f"package {settings.package}"
    if facts.installed:
        yield op(package, f"installed ({facts.version})")
    else:
        yield op("apt index", "package not installed yet: refresh the index first", AptUpdate(sudo))
        yield op(package, "not installed", AptInstall(settings.package, sudo))
    desired = settings.args(host)
    current = facts.args if facts.installed else None
    config_changes = current != desired
    if not config_changes:
        yield op(settings.defaults_file, f"ARGS already {' '.join(desired)}")
    else:
        why = (
            "the package's default ARGS would listen on :9100 only by default"
            if current is None
            else f"ARGS is {' '.join(current) or '(empty)'}, want {' '.join(desired)}"
        )
        yield op(
            settings.defaults_file,
            why,
            WriteFile(settings.defaults_file, settings.defaults_content(host), sudo),
        )
    running = facts.enabled == "enabled" and facts.active == "active"
    if not facts.installed or not running:
        state = (
            "not installed yet"
            if not facts.installed
            else f"is-enabled {facts.enabled}, is-active {facts.active}"
        )
        yield op(f"service {settings.unit}", state, Systemctl("enable --now", settings.unit, sudo))
    else:
        yield op(f"service {settings.unit}", "enabled and active")
    if config_changes and (facts.active == "active" or not facts.installed):
        # the package's postinst starts the service with its own ARGS; a running one must re-read the file
        yield op(f"restart {settings.unit}", "ARGS changed: the running exporter must re-read them",
                 Systemctl("restart", settings.unit, sudo))  # fmt: skip


# --- plan -----------------------------------------------------------------------------------------
@dataclass
class HostPlan:
    host: Host
    facts: Facts | None
    operations: list[HostOperation]
    error: str = ""  # unreachable / facts unreadable / sudo needs a password / masked unit

    @property
    def blocked(self) -> bool:
        return bool(self.error)

    @property
    def changes(self) -> list[HostOperation]:
        return [o for o in self.operations if o.changes]

    def row(self) -> dict[str, str]:
        if self.blocked:
            state = "blocked"
        elif self.host.lab:
            state = "lab (never changed)"
        else:
            state = f"{len(self.changes)} change(s)" if self.changes else "up to date"
        facts = self.facts
        return {
            "host": self.host.name,
            "address": self.host.address,
            "exporter": self.host.target,
            "package": (facts.version or "installed")
            if facts and facts.installed
            else ("-" if facts else "?"),
            "service": f"{facts.enabled}/{facts.active}" if facts else "?",
            "state": state,
            "detail": self.error,
        }


@dataclass
class HostsPlan:
    """Every host's plan, plus one :class:`Plan` over all operations (for the table and ``rb.action``)."""

    hosts: list[HostPlan]
    runners: dict[str, Runner] = field(repr=False)
    settings: ExporterSettings = field(default_factory=ExporterSettings)

    @property
    def plan(self) -> Plan:
        ops: list[Operation] = []
        for hp in self.hosts:
            if hp.blocked:
                ops.append(
                    HostOperation(f"{hp.host.name}: reachable", f"BLOCKED: {hp.error}", host=hp.host.name)
                )
            ops.extend(hp.operations)
        return Plan(component="node-exporter (hosts)", runner="ssh via bastion", operations=ops)

    @property
    def blocked(self) -> list[HostPlan]:
        return [hp for hp in self.hosts if hp.blocked]

    @property
    def lab_refused(self) -> list[HostPlan]:
        return [hp for hp in self.hosts if hp.host.lab and hp.changes]

    @property
    def applicable(self) -> list[HostPlan]:
        return [hp for hp in self.hosts if not hp.blocked and not hp.host.lab and hp.changes]

    def rows(self) -> list[dict[str, str]]:
        return [hp.row() for hp in self.hosts]

    def close(self) -> None:
        for runner in self.runners.values():
            runner.close()


def ssh_runner_factory(bastion: BastionSpec, connect_timeout: float = 15.0) -> RunnerFactory:
    """A runner per host: SSH to ``host.address`` with ProxyJump through ``bastion`` (host keys verified)."""

    def make(host: Host) -> Runner:
        return BastionRunner(
            host.ssh_spec(bastion),
            remote_dir="/tmp",
            connect_timeout=connect_timeout,
            name=f"ssh {host.name}",
        )

    return make


def plan_host(host: Host, runner: Runner, settings: ExporterSettings) -> HostPlan:
    """Facts and operations of one host; an unreachable host becomes a blocked HostPlan, never an exception."""
    try:
        facts = read_facts(runner, settings)
    except Exception as exc:  # noqa: BLE001 - SSH, host key, DNS, timeouts: all mean "not reachable here"
        return HostPlan(host, None, [], f"cannot read facts over SSH: {type(exc).__name__}: {exc}")
    error = ""
    if not facts.sudo_ok:
        error = (
            f"the SSH user (uid {facts.uid}) is not root and `sudo -n true` failed: sudo needs a password; "
            "allow passwordless sudo for apt-get, systemctl and sh or connect as root"
        )
    elif facts.enabled == "masked":
        error = f"{settings.unit} is masked; unmask it by hand (`systemctl unmask {settings.unit}`) if it should run"
    ops = list(host_operations(host, facts, settings))
    return HostPlan(host, facts, ops, error)


def plan_hosts(
    inventory: Inventory, runner_for: RunnerFactory, settings: ExporterSettings | None = None
) -> HostsPlan:
    """Read every host's facts (nothing changes); hosts in inventory order."""
    settings = settings or ExporterSettings()
    runners: dict[str, Runner] = {}
    plans = []
    for host in inventory.hosts:
        try:
            runner = runners[host.name] = runner_for(host)
        except Exception as exc:  # noqa: BLE001 - a factory failing for one host must not hide the others
            plans.append(HostPlan(host, None, [], f"no SSH runner: {type(exc).__name__}: {exc}"))
            continue
        plans.append(plan_host(host, runner, settings))
    return HostsPlan(plans, runners, settings)


@dataclass
class HostsApplyReport:
    executed: list[str]
    refused: list[str]  # lab hosts with changes that were not applied
    nothing_to_do: bool
    message: str


Act = Callable[[HostOperation, Runner], Any]


def apply_hosts(hosts_plan: HostsPlan, act: Act | None = None, dry: bool = False) -> HostsApplyReport:
    """Run every applicable host's changes in order, host by host.

    A blocked host stops everything before the first change (``HostsBlocked``), except under ``dry``
    (plan mode), where nothing runs anyway. Lab hosts are refused: their changes are listed, never run.
    """
    blocked = hosts_plan.blocked
    if blocked and not dry:
        lines = "\n".join(f"  - {hp.host.name}: {hp.error}" for hp in blocked)
        raise HostsBlocked(
            f"node-exporter: {len(blocked)} host(s) blocked, nothing was changed on any host:\n{lines}"
        )
    refused = [hp.host.name for hp in hosts_plan.lab_refused]
    todo = hosts_plan.applicable
    if not todo:
        done = "nothing to change on any host"
        if refused:
            done += f"; lab host(s) {', '.join(refused)} refused (never changed)"
        return HostsApplyReport([], refused, True, done)
    executed: list[str] = []
    for hp in todo:
        runner = hosts_plan.runners[hp.host.name]
        for op in hp.changes:
            assert op.command is not None
            if act is not None:
                act(op, runner)
            elif not dry:
                runner.run(op.command)
            executed.append(f"{hp.host.name}: {op.command.line()}")
    verb = "planned, none applied" if dry else "applied"
    return HostsApplyReport(executed, refused, False, f"node-exporter: {len(executed)} change(s) {verb}")
