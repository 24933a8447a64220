"""``kb doctor``: is this machine (and, given one, a profile) ready for the knowledge base?

Where it sits: a read-only side entrance next to the main flow (profile -> tunnel -> runbook run).
Each check is a small function returning a :class:`Check`; :func:`run_doctor` runs them in order
and returns a :class:`DoctorReport`; the CLI (:mod:`platform_kb.cli.doctor`) only renders it.
Nothing here changes the machine. Everything a check looks at (PATH, the extra tool folders,
the home folder, ``$KUBECONFIG``, the Python version, module lookup) comes in through
:class:`MachineEnv`, so tests can simulate a machine without uninstalling anything.

The bastion checks resolve the route and match known_hosts with the tunnel's own code
(:mod:`platform_kb.tunnel.sshconfig`, :mod:`platform_kb.tunnel.hostkeys`), so "doctor says the
host key is fine" means "the tunnel will accept it"; unlike the tunnel, doctor never writes to
known_hosts, even under ``host_key_policy: accept-new``.

Exit codes: 0 when every required check passes, 1 when one fails, 2 for bad input (a profile
that is missing or malformed; :mod:`platform_kb.profiles` decides what is malformed).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import paramiko
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import UsageProblem
from .install.hosts import HostSystem, read_system, ssh_runner_factory
from .inventory import Host, load_inventory
from .paths import ProjectPaths
from .profiles import Profile, load_profile
from .tunnel.errors import HostKeyError
from .tunnel.hostkeys import KnownHosts, preferred_key_types
from .tunnel.hostkeys import fingerprint as key_fingerprint
from .tunnel.sshconfig import Hop, Route, SshConfigFile, resolve_route

OK, FAIL, WARN, SKIP = "ok", "fail", "warn", "skip"
MIN_PYTHON = (3, 11)
MIN_JAVA = 17
# Folders outside a normal user's PATH where Debian puts daemons (sshd, nginx).
DEFAULT_TOOL_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
TOOL_DIRS_ENV = "KB_DOCTOR_TOOL_DIRS"
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    """One line of the report. ``status``: ok, fail (a required check failed), warn (an optional one did), skip."""

    name: str
    status: str
    detail: str
    fix: str = ""
    required: bool = True


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]
    bad_input: str | None = None

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def exit_code(self) -> int:
        if self.bad_input:
            return 2
        return 1 if self.failed else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "bad_input": self.bad_input,
            "checks": [asdict(c) for c in self.checks],
        }


def _module_available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@dataclass(frozen=True)
class MachineEnv:
    """What the checks look at. :meth:`from_os` reads the real machine; tests build their own."""

    path: str
    tool_dirs: tuple[str, ...] = DEFAULT_TOOL_DIRS
    home: Path = field(default_factory=Path.home)
    kubeconfig_env: str | None = None
    python_version: tuple[int, ...] = field(default_factory=lambda: tuple(sys.version_info[:3]))
    module_available: Callable[[str], bool] = _module_available
    timeout: float = DEFAULT_TIMEOUT
    lab: bool = True

    @classmethod
    def from_os(cls, timeout: float = DEFAULT_TIMEOUT, lab: bool = True) -> MachineEnv:
        dirs = os.environ.get(TOOL_DIRS_ENV)
        return cls(
            path=os.environ.get("PATH", os.defpath),
            tool_dirs=tuple(d for d in dirs.split(os.pathsep) if d)
            if dirs is not None
            else DEFAULT_TOOL_DIRS,
            home=Path.home(),
            kubeconfig_env=os.environ.get("KUBECONFIG") or None,
            python_version=tuple(sys.version_info[:3]),
            timeout=timeout,
            lab=lab,
        )

    def find_tool(self, name: str) -> str | None:
        """``name`` on PATH, else in one of the extra tool folders (``/usr/sbin`` ...)."""
        found = shutil.which(name, path=self.path)
        if found:
            return found
        for folder in self.tool_dirs:
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        return None


def _run(argv: Sequence[str], timeout: float) -> str:
    """stdout+stderr of a short version command ('' when it cannot run)."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stdout + done.stderr).strip()


def _missing(status_required: bool) -> str:
    return FAIL if status_required else WARN


# --- the machine ---------------------------------------------------------------------------------


def check_python(env: MachineEnv) -> Check:
    version = ".".join(map(str, env.python_version))
    if tuple(env.python_version[:2]) >= MIN_PYTHON:
        return Check("python", OK, f"Python {version}")
    return Check(
        "python",
        FAIL,
        f"Python {version}; platform-kb needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+",
        "install python3.11 (Debian 12: apt-get install python3 python3-venv) and rerun scripts/setup",
    )


def parse_java_major(text: str) -> int | None:
    """``openjdk version "17.0.15"`` -> 17; ``java version "1.8.0_392"`` -> 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java(env: MachineEnv) -> Check:
    fix = "apt-get install openjdk-17-jre-headless (scripts/setup does this as root)"
    java = env.find_tool("java")
    if java is None:
        return Check(
            "java", _missing(env.lab), "java not found (the lab's Spark needs Java 17+)", fix, env.lab
        )
    output = _run([java, "-version"], max(env.timeout, 20.0))
    major = parse_java_major(output)
    if major is None:
        return Check("java", _missing(env.lab), f"{java}: could not read its version", fix, env.lab)
    if major < MIN_JAVA:
        return Check(
            "java",
            _missing(env.lab),
            f"{java}: Java {major}, the lab's Spark needs {MIN_JAVA}+",
            fix,
            env.lab,
        )
    return Check("java", OK, f"Java {major} ({java})", required=env.lab)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    package: str
    purpose: str
    version_args: tuple[str, ...] = ()
    lab_only: bool = False


TOOLS = (
    ToolSpec(
        "ssh", "openssh-client", "reaching the bastion by hand and the tunnel's openssh backend", ("-V",)
    ),
    ToolSpec("ssh-keygen", "openssh-client", "creating keys and checking fingerprints"),
    ToolSpec("sshd", "openssh-server", "the lab's bastion", lab_only=True),
    ToolSpec("nginx", "nginx-light", "the lab's ingress-nginx stand-in", ("-v",), lab_only=True),
    ToolSpec("prometheus", "prometheus", "the lab's Prometheus (install-monitoring)", lab_only=True),
    ToolSpec(
        "prometheus-node-exporter",
        "prometheus-node-exporter",
        "the lab's node-exporters (install-monitoring)",
        lab_only=True,
    ),
)


def check_tool(spec: ToolSpec, env: MachineEnv) -> Check:
    required = env.lab or not spec.lab_only
    found = env.find_tool(spec.name)
    if found is None:
        where = ", ".join(env.tool_dirs)
        return Check(
            spec.name,
            _missing(required),
            f"{spec.name} not found on PATH{' or in ' + where if where else ''} (needed for {spec.purpose})",
            f"apt-get install {spec.package} (scripts/setup does this as root)",
            required,
        )
    version = _run([found, *spec.version_args], env.timeout).splitlines()[0] if spec.version_args else ""
    return Check(spec.name, OK, f"{found}{' — ' + version if version else ''}", required=required)


def check_pyspark(env: MachineEnv) -> Check:
    if env.module_available("pyspark"):
        return Check("pyspark", OK, "importable (lab extra installed)", required=env.lab)
    return Check(
        "pyspark",
        _missing(env.lab),
        "pyspark is not importable (the lab's Spark driver UI and History Server need it)",
        "scripts/setup (installs the lab extra), or .venv/bin/pip install -e '.[lab]'",
        env.lab,
    )


# --- kubeconfig ----------------------------------------------------------------------------------


def kubeconfig_files(env: MachineEnv, profile: Profile | None) -> tuple[list[Path], bool, str]:
    """The kubeconfig files to read, whether they are required, and where the choice came from."""
    if profile is not None and profile.kubeconfig:
        return [Path(profile.kubeconfig)], True, f"profile {profile.name}"
    if env.kubeconfig_env:
        return [Path(p).expanduser() for p in env.kubeconfig_env.split(os.pathsep) if p], False, "$KUBECONFIG"
    return [env.home / ".kube" / "config"], False, "~/.kube/config"


def _named(items: Any, key: str) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(i["name"]): (i.get(key) or {}) for i in items if isinstance(i, dict) and "name" in i}


def check_kubeconfig(env: MachineEnv, profile: Profile | None) -> Check:
    files, required, origin = kubeconfig_files(env, profile)
    existing = [f for f in files if f.is_file()]
    names = ", ".join(map(str, files))
    if not existing:
        if not required:
            return Check(
                "kubeconfig",
                SKIP,
                f"none at {names} (optional: only runbooks that call the Kubernetes API need one)",
                "copy the cluster's kubeconfig to ~/.kube/config, or name one in the profile (kubeconfig:)",
                False,
            )
        return Check(
            "kubeconfig",
            FAIL,
            f"{origin} names {names}, which does not exist",
            "kb lab up writes the lab's; for the homelab copy it from the cluster admin",
        )
    # kubectl merges the files of $KUBECONFIG: first current-context wins, names merge.
    current, contexts, clusters = None, {}, {}
    for path in existing:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            return Check(
                "kubeconfig",
                _missing(required),
                f"{path}: not valid YAML ({exc})",
                "fix or replace the file",
                required,
            )
        if not isinstance(data, dict):
            return Check(
                "kubeconfig",
                _missing(required),
                f"{path}: not a kubeconfig mapping",
                "fix or replace the file",
                required,
            )
        current = current or data.get("current-context")
        contexts = {**_named(data.get("contexts"), "context"), **contexts}
        clusters = {**_named(data.get("clusters"), "cluster"), **clusters}
    where = ", ".join(map(str, existing))
    if not current:
        return Check(
            "kubeconfig",
            _missing(required),
            f"{where}: no current-context",
            "kubectl config use-context NAME (see kubectl config get-contexts)",
            required,
        )
    if current not in contexts:
        return Check(
            "kubeconfig",
            _missing(required),
            f"{where}: current-context {current!r} is not among its contexts ({', '.join(contexts) or 'none'})",
            "kubectl config use-context NAME with an existing context",
            required,
        )
    cluster_name = str(contexts[current].get("cluster", ""))
    if cluster_name not in clusters:
        return Check(
            "kubeconfig",
            _missing(required),
            f"{where}: context {current!r} names cluster {cluster_name!r}, which is not defined",
            "add the cluster entry or fix the context",
            required,
        )
    server = clusters[cluster_name].get("server", "?")
    return Check(
        "kubeconfig",
        OK,
        f"{where}: context {current} -> cluster {cluster_name} ({server})",
        required=required,
    )


# --- the profile and its bastion -----------------------------------------------------------------


def check_profile(name: str | None, paths: ProjectPaths) -> tuple[Check, Profile | None, str | None]:
    """(check, the loaded profile, a bad-input message)."""
    if name is None:
        return (
            Check(
                "profile",
                SKIP,
                "no --profile given",
                "kb doctor --profile lab (after kb lab up) or --profile homelab",
                False,
            ),
            None,
            None,
        )
    try:
        profile = load_profile(name, paths)
    except UsageProblem as exc:
        example = paths.profiles / "homelab.example.yaml"
        if "not found" in str(exc):
            fix = "name a file in profiles/ (kb lab up writes .lab/profiles/lab.yaml), or give a path"
        elif example.is_file():
            fix = f"compare with {example.relative_to(paths.root)}"
        else:
            fix = "the fields are described at the top of src/platform_kb/profiles.py"
        return Check("profile", FAIL, str(exc), fix), None, str(exc)
    return Check("profile", OK, f"{profile.name} ({profile.source})"), profile, None


def check_identity_file(profile: Profile) -> Check:
    path = profile.bastion.identity_file
    if not path:
        return Check(
            "identity file", SKIP, "not set in the profile (ssh config / agent decide)", required=False
        )
    key = Path(path)
    if not key.is_file():
        return Check(
            "identity file",
            FAIL,
            f"{key} does not exist",
            f"ssh-keygen -t ed25519 -f {key}, then send {key}.pub to the bastion's admin",
        )
    if key.stat().st_mode & 0o077:
        return Check(
            "identity file", FAIL, f"{key} is readable by others; ssh refuses such keys", f"chmod 600 {key}"
        )
    return Check("identity file", OK, str(key))


def resolve_bastion_route(profile: Profile, env: MachineEnv) -> Route:
    """The hops to the bastion exactly as the tunnel resolves them (profile over ~/.ssh/config)."""
    config_file = env.home / ".ssh" / "config"
    ssh_config = SshConfigFile.load(config_file) if config_file.is_file() else SshConfigFile(None)
    return resolve_route(profile.bastion, ssh_config)


def check_reachable(route: Route, timeout: float) -> Check:
    """TCP to the first hop: the bastion, or the first ProxyJump host when there is one."""
    hop = route.hops[0]
    what = "bastion" if not route.jumps else f"jump host {hop.alias} (ProxyJump)"
    try:
        with socket.create_connection((hop.hostname, hop.port), timeout=timeout):
            pass
    except OSError as exc:
        return Check(
            "bastion reachable",
            FAIL,
            f"{what} {hop.hostname}:{hop.port}: {exc.strerror or exc} (timeout {timeout:g}s)",
            "check the VPN / network and bastion.host/port in the profile (or its ~/.ssh/config Host block); "
            f"ssh -v {route.bastion.alias} shows where it stops",
        )
    return Check("bastion reachable", OK, f"{what} {hop.hostname}:{hop.port} accepts TCP connections")


def fetch_host_key(hop: Hop, timeout: float, preferred: Sequence[str] = ()) -> paramiko.PKey:
    """The host key the SSH server of ``hop`` offers (key exchange only: no authentication, nothing written)."""
    sock = socket.create_connection((hop.hostname, hop.port), timeout=timeout)
    transport = paramiko.Transport(sock)
    try:
        options = transport.get_security_options()
        if preferred:
            options.key_types = tuple(preferred)
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    finally:
        transport.close()
        sock.close()
    return key


def check_host_key(route: Route, timeout: float) -> Check:
    """The first hop's offered key against its known_hosts, with the tunnel's matching rules
    (:mod:`platform_kb.tunnel.hostkeys`) but without ever writing to known_hosts."""
    hop = route.hops[0]
    known = KnownHosts.for_hop(hop)
    name = hop.known_hosts_name
    try:
        entries = known.entries(name)
    except HostKeyError as exc:
        return Check(
            "bastion host key", FAIL, str(exc), "fix the permissions or path of that known_hosts file"
        )
    supported = paramiko.Transport._preferred_keys  # the algorithms paramiko offers, in its order
    try:
        offered = fetch_host_key(hop, timeout, preferred_key_types(entries, supported))
    except (OSError, paramiko.SSHException, EOFError) as exc:
        return Check(
            "bastion host key",
            FAIL,
            f"{hop.hostname}:{hop.port}: no SSH key exchange ({exc or type(exc).__name__})",
            f"is this port an SSH server? compare bastion.host/port with `ssh -G {hop.alias}`",
        )
    shown = f"{offered.get_name()} {key_fingerprint(offered)}"
    files = known.describe()
    check_name = "bastion host key" if not route.jumps else "jump host key"
    revoked = [e for e in entries if e.marker == "@revoked" and e.same_key(offered)]
    plain = [e for e in entries if e.marker is None]
    match = next((e for e in plain if e.same_key(offered)), None)
    if revoked:
        result = Check(
            check_name,
            FAIL,
            f"REVOKED HOST KEY for {name}: it offers {shown}, marked @revoked at {revoked[0].location}",
            "do not connect; ask the bastion's admin",
        )
    elif match is not None:
        result = Check(check_name, OK, f"{name} offers {shown}, as recorded at {match.location}")
    elif plain:
        old = ", ".join(f"{e.key_type} {e.fingerprint} ({e.location})" for e in plain)
        result = Check(
            check_name,
            FAIL,
            f"HOST KEY MISMATCH for {name}: it offers {shown}, but known_hosts has {old}",
            "do not connect: ask the bastion's admin whether the key changed; only if it did, "
            f"ssh-keygen -R '{name}' -f {plain[0].path} and add the new, verified key",
        )
    else:
        port = f" -p {hop.port}" if hop.port != 22 else ""
        target = known.user_files[0] if known.user_files else "~/.ssh/known_hosts"
        fix = (
            f"verify {key_fingerprint(offered)} with the bastion's admin, then add it: "
            f"ssh-keyscan{port} -t {offered.get_name()} {hop.hostname} >> {target}"
        )
        if hop.host_key_policy == "accept-new":
            result = Check(
                check_name,
                WARN,
                f"{name} offers {shown}, not yet in {files}; host_key_policy accept-new will record it on first use",
                fix,
                False,
            )
        else:
            result = Check(
                check_name, FAIL, f"UNKNOWN HOST KEY for {name}: it offers {shown}, not in {files}", fix
            )
    return result


# --- the whole run -------------------------------------------------------------------------------


def machine_checks(env: MachineEnv) -> list[Check]:
    return [check_python(env), check_java(env), *(check_tool(t, env) for t in TOOLS), check_pyspark(env)]


def check_inventory(profile: Profile) -> Check:
    """The profile's host inventory (``inventory:``) loads; optional: only host-level runbooks need it."""
    if not profile.inventory:
        return Check(
            "inventory",
            SKIP,
            "the profile names no host inventory (needed by install-monitoring for hosts outside the cluster)",
            "copy profiles/hosts.example.yaml and set `inventory:` in the profile",
            False,
        )
    try:
        inventory = load_inventory(profile.inventory)
    except UsageProblem as exc:
        return Check("inventory", FAIL, str(exc), "compare with profiles/hosts.example.yaml")
    names = ", ".join(inventory.names())
    return Check("inventory", OK, f"{len(inventory.hosts)} host(s): {names} ({inventory.path})")


def _host_system(host: Host, profile: Profile, timeout: float) -> str | HostSystem:
    """The host's system facts over SSH through the bastion (host keys verified), or why not."""
    try:
        runner = ssh_runner_factory(profile.bastion, connect_timeout=timeout)(host)
    except Exception as exc:  # noqa: BLE001 - one host failing must not hide the others
        return f"no SSH runner: {type(exc).__name__}: {exc}"
    try:
        return read_system(runner)
    except Exception as exc:  # noqa: BLE001 - SSH, host key, DNS, timeouts: "not read here"
        return f"{type(exc).__name__}: {exc}"
    finally:
        runner.close()


def check_host_systems(profile: Profile, env: MachineEnv) -> Check:
    """What each inventory host runs, read over SSH instead of assumed (#3-11 "가정한 것"):
    ``/etc/os-release``, the Proxmox VE version (package ``pve-manager``) and the installed
    ``prometheus-node-exporter`` — Proxmox VE 8 is Debian 12 (node-exporter 1.5.0), 9 is Debian 13 (1.9.0).
    Optional: only install-monitoring needs the hosts."""
    name = "host systems"
    if not profile.inventory:
        return Check(name, SKIP, "the profile names no host inventory", required=False)
    try:
        inventory = load_inventory(profile.inventory)
    except UsageProblem as exc:
        return Check(name, SKIP, f"inventory not loaded: {exc}", required=False)
    found, failed, foreign = [], [], []
    for host in inventory.hosts:
        system = _host_system(host, profile, max(env.timeout, 10.0))
        if isinstance(system, str):
            failed.append(host.name)
            found.append(f"{host.name}: not read ({system})")
            continue
        found.append(f"{host.name}: {system.text()}")
        if not system.os.debian_family:
            foreign.append(host.name)
    detail = "; ".join(found)
    if failed:
        return Check(name, WARN, detail, "check the host's SSH access (user, key, known_hosts) through the "
                     "bastion: ssh -J <bastion> <host> cat /etc/os-release", required=False)  # fmt: skip
    if foreign:
        return Check(name, WARN, detail, f"{', '.join(foreign)}: not Debian-family; install-monitoring installs "
                     "the Debian package prometheus-node-exporter", required=False)  # fmt: skip
    return Check(name, OK, detail, required=False)


def profile_checks(profile: Profile, env: MachineEnv) -> tuple[list[Check], str | None]:
    """(checks, a bad-input message when the profile's bastion cannot be resolved)."""
    checks = [check_identity_file(profile), check_inventory(profile)]
    try:
        route = resolve_bastion_route(profile, env)
    except UsageProblem as exc:
        return [*checks, Check("bastion route", FAIL, str(exc), "fix the profile or ~/.ssh/config")], str(exc)
    if route.jumps:
        checks.append(Check("bastion route", OK, route.describe()))
    reach = check_reachable(route, env.timeout)
    checks.append(reach)
    if reach.status == OK:
        checks.append(check_host_key(route, env.timeout))
        if route.jumps:
            checks.append(
                Check(
                    "bastion host key",
                    SKIP,
                    f"{route.bastion.alias} is behind ProxyJump: its key can only be fetched after logging in "
                    "to the jump host",
                    f"ssh -o StrictHostKeyChecking=yes {route.bastion.alias} true verifies it",
                    False,
                )
            )
    else:
        checks.append(Check("bastion host key", SKIP, "bastion not reachable", required=False))
    if reach.status == OK and profile.inventory:
        checks.append(check_host_systems(profile, env))
    return checks, None


def run_doctor(profile_name: str | None, env: MachineEnv, paths: ProjectPaths | None = None) -> DoctorReport:
    paths = paths or ProjectPaths.discover()
    checks = machine_checks(env)
    profile_check, profile, bad_input = check_profile(profile_name, paths)
    checks.append(check_kubeconfig(env, profile))
    checks.append(profile_check)
    if profile is not None:
        more, bad_input = profile_checks(profile, env)
        checks.extend(more)
    return DoctorReport(tuple(checks), bad_input)


STYLES = {OK: ("ok", "green"), FAIL: ("FAIL", "bold red"), WARN: ("warn", "yellow"), SKIP: ("skip", "dim")}


def render(report: DoctorReport, console: Console) -> None:
    table = Table(title="kb doctor", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("found")
    table.add_column("how to fix")
    for check in report.checks:
        label, style = STYLES[check.status]
        if not check.required and check.status != SKIP:
            label += " (optional)"
        fix = check.fix if check.status != OK else ""
        table.add_row(Text(check.name), Text(label, style=style), Text(check.detail), Text(fix))
    console.print(table)
    failed = report.failed
    if report.bad_input:
        return  # the CLI reports bad input as `kb: error: ...` with exit code 2
    if failed:
        names = ", ".join(c.name for c in failed)
        console.print(Text(f"{len(failed)} required check(s) failed: {names}", style="bold red"))
    else:
        console.print(Text("all required checks passed", style="green"))
