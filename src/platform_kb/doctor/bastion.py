"""``kb doctor``'s profile checks: the profile loads, its identity file, the route to the bastion,
TCP reachability, the host key against known_hosts, the host inventory and what each host runs.

The bastion checks resolve the route and match known_hosts with the tunnel's own code
(:mod:`platform_kb.tunnel.sshconfig`, :mod:`platform_kb.tunnel.hostkeys`), so "doctor says the
host key is fine" means "the tunnel will accept it"; unlike the tunnel, doctor never writes to
known_hosts, even under ``host_key_policy: accept-new``.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

import paramiko

from ..errors import UsageProblem
from ..install.hosts import HostSystem, read_system, ssh_runner_factory
from ..inventory import Host, load_inventory
from ..paths import ProjectPaths
from ..profiles import Profile, load_profile
from ..tunnel.errors import HostKeyError
from ..tunnel.hostkeys import KnownHosts, preferred_key_types
from ..tunnel.hostkeys import fingerprint as key_fingerprint
from ..tunnel.sshconfig import Hop, Route, SshConfigFile, resolve_route
from .model import FAIL, OK, SKIP, WARN, Check, MachineEnv


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
