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
from ..results import WARNING, Check
from ..tunnel.errors import HostKeyError
from ..tunnel.hostkeys import KnownHosts, preferred_key_types
from ..tunnel.hostkeys import fingerprint as key_fingerprint
from ..tunnel.sshconfig import Hop, Route, SshConfigFile, resolve_route
from .model import MachineEnv, passed_evidence

# (id, title) of the checks made in more than one place.
BASTION_ROUTE = ("bastion-route", "bastion route")
BASTION_HOST_KEY = ("bastion-host-key", "bastion host key")
JUMP_HOST_KEY = ("jump-host-key", "jump host key")


def check_profile(name: str | None, paths: ProjectPaths) -> tuple[Check, Profile | None, str | None]:
    """(check, the loaded profile, a bad-input message)."""
    if name is None:
        hint = "kb doctor --profile lab (after kb lab up) or --profile homelab"
        return Check.skipped("profile", "profile", "no --profile given", hint), None, None
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
        return Check.failed("profile", "profile", str(exc), fix=fix), None, str(exc)
    return Check.passed("profile", "profile", f"{profile.name} ({profile.source})"), profile, None


def check_identity_file(profile: Profile) -> Check:
    check_id, title = "identity-file", "identity file"
    path = profile.bastion.identity_file
    if not path:
        return Check.skipped(check_id, title, "not set in the profile (ssh config / agent decide)")
    key = Path(path)
    if not key.is_file():
        return Check.failed(
            check_id,
            title,
            f"{key} does not exist",
            fix=f"ssh-keygen -t ed25519 -f {key}, then send {key}.pub to the bastion's admin",
        )
    if key.stat().st_mode & 0o077:
        detail = f"{key} is readable by others; ssh refuses such keys"
        return Check.failed(check_id, title, detail, fix=f"chmod 600 {key}")
    return Check.passed(check_id, title, str(key))


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
        return Check.failed(
            "bastion-reachable",
            "bastion reachable",
            f"{what} {hop.hostname}:{hop.port}: {exc.strerror or exc} (timeout {timeout:g}s)",
            fix="check the VPN / network and bastion.host/port in the profile (or its ~/.ssh/config Host "
            f"block); ssh -v {route.bastion.alias} shows where it stops",
        )
    detail = f"{what} {hop.hostname}:{hop.port} accepts TCP connections"
    return Check.passed("bastion-reachable", "bastion reachable", detail)


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
    check_id, title = JUMP_HOST_KEY if route.jumps else BASTION_HOST_KEY
    # Until a key is offered the row reads "bastion host key" even for a jump host (as it always has).
    try:
        entries = known.entries(name)
    except HostKeyError as exc:
        fix = "fix the permissions or path of that known_hosts file"
        return Check.failed(check_id, BASTION_HOST_KEY[1], str(exc), fix=fix)
    supported = paramiko.Transport._preferred_keys  # the algorithms paramiko offers, in its order
    try:
        offered = fetch_host_key(hop, timeout, preferred_key_types(entries, supported))
    except (OSError, paramiko.SSHException, EOFError) as exc:
        return Check.failed(
            check_id,
            BASTION_HOST_KEY[1],
            f"{hop.hostname}:{hop.port}: no SSH key exchange ({exc or type(exc).__name__})",
            fix=f"is this port an SSH server? compare bastion.host/port with `ssh -G {hop.alias}`",
        )
    shown = f"{offered.get_name()} {key_fingerprint(offered)}"
    files = known.describe()
    revoked = [e for e in entries if e.marker == "@revoked" and e.same_key(offered)]
    plain = [e for e in entries if e.marker is None]
    match = next((e for e in plain if e.same_key(offered)), None)
    if revoked:
        return Check.failed(
            check_id,
            title,
            f"REVOKED HOST KEY for {name}: it offers {shown}, marked @revoked at {revoked[0].location}",
            fix="do not connect; ask the bastion's admin",
        )
    if match is not None:
        return Check.passed(check_id, title, f"{name} offers {shown}, as recorded at {match.location}")
    if plain:
        old = ", ".join(f"{e.key_type} {e.fingerprint} ({e.location})" for e in plain)
        return Check.failed(
            check_id,
            title,
            f"HOST KEY MISMATCH for {name}: it offers {shown}, but known_hosts has {old}",
            fix="do not connect: ask the bastion's admin whether the key changed; only if it did, "
            f"ssh-keygen -R '{name}' -f {plain[0].path} and add the new, verified key",
        )
    port = f" -p {hop.port}" if hop.port != 22 else ""
    target = known.user_files[0] if known.user_files else "~/.ssh/known_hosts"
    fix = (
        f"verify {key_fingerprint(offered)} with the bastion's admin, then add it: "
        f"ssh-keyscan{port} -t {offered.get_name()} {hop.hostname} >> {target}"
    )
    if hop.host_key_policy == "accept-new":
        detail = f"{name} offers {shown}, not yet in {files}; host_key_policy accept-new will record it on first use"
        return Check.failed(check_id, title, detail, severity=WARNING, fix=fix)
    detail = f"UNKNOWN HOST KEY for {name}: it offers {shown}, not in {files}"
    return Check.failed(check_id, title, detail, fix=fix)


def check_inventory(profile: Profile) -> Check:
    """The profile's host inventory (``inventory:``) loads; optional: only host-level runbooks need it."""
    if not profile.inventory:
        return Check.skipped(
            "inventory",
            "inventory",
            "the profile names no host inventory (needed by install-monitoring for hosts outside the cluster)",
            "copy profiles/hosts.example.yaml and set `inventory:` in the profile",
        )
    try:
        inventory = load_inventory(profile.inventory)
    except UsageProblem as exc:
        return Check.failed(
            "inventory", "inventory", str(exc), fix="compare with profiles/hosts.example.yaml"
        )
    names = ", ".join(inventory.names())
    return Check.passed(
        "inventory", "inventory", f"{len(inventory.hosts)} host(s): {names} ({inventory.path})"
    )


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
    check_id, title = "host-systems", "host systems"
    if not profile.inventory:
        return Check.skipped(check_id, title, "the profile names no host inventory")
    try:
        inventory = load_inventory(profile.inventory)
    except UsageProblem as exc:
        return Check.skipped(check_id, title, f"inventory not loaded: {exc}")
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
        fix = ("check the host's SSH access (user, key, known_hosts) through the bastion: "
               "ssh -J <bastion> <host> cat /etc/os-release")  # fmt: skip
        return Check.failed(check_id, title, detail, severity=WARNING, fix=fix)
    if foreign:
        fix = (f"{', '.join(foreign)}: not Debian-family; install-monitoring installs the Debian package "
               "prometheus-node-exporter")  # fmt: skip
        return Check.failed(check_id, title, detail, severity=WARNING, fix=fix)
    return Check.passed(check_id, title, detail, passed_evidence(False))


def profile_checks(profile: Profile, env: MachineEnv) -> tuple[list[Check], str | None]:
    """(checks, a bad-input message when the profile's bastion cannot be resolved)."""
    checks = [check_identity_file(profile), check_inventory(profile)]
    try:
        route = resolve_bastion_route(profile, env)
    except UsageProblem as exc:
        failed = Check.failed(*BASTION_ROUTE, str(exc), fix="fix the profile or ~/.ssh/config")
        return [*checks, failed], str(exc)
    if route.jumps:
        checks.append(Check.passed(*BASTION_ROUTE, route.describe()))
    reach = check_reachable(route, env.timeout)
    checks.append(reach)
    if reach.ok:
        checks.append(check_host_key(route, env.timeout))
        if route.jumps:
            checks.append(
                Check.skipped(
                    *BASTION_HOST_KEY,
                    f"{route.bastion.alias} is behind ProxyJump: its key can only be fetched after logging in "
                    "to the jump host",
                    f"ssh -o StrictHostKeyChecking=yes {route.bastion.alias} true verifies it",
                )
            )
    else:
        checks.append(Check.skipped(*BASTION_HOST_KEY, "bastion not reachable"))
    if reach.ok and profile.inventory:
        checks.append(check_host_systems(profile, env))
    return checks, None
