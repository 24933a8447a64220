"""Benchmark of reading node-exporter facts on the inventory's hosts against OpenSSH doing the same.

Where it sits: outside the package flow; it measures what ``install-monitoring``'s host step
(:func:`platform_kb.install.hosts.plan_hosts` with :func:`~platform_kb.install.hosts.ssh_runner_factory`,
paramiko with ProxyJump through the bastion, one channel per fact command) costs next to OpenSSH
reaching the same hosts through the same bastion. It starts a lab of its own (``kb lab up`` with
``KB_LAB_DIR`` in a temporary directory, a free ``KB_LAB_NODE`` in 127.0.9.0/24 and its own local
ingress port; ``kb lab down`` in a ``finally``) and reads the facts of the lab's 3 hosts, which
sit behind the lab's real sshd.

Variants, measured side by side in every round (order rotated per round), hosts in sequence:
  (a) kb            ``plan_hosts(inventory, ssh_runner_factory(profile.bastion))`` (``close()`` not timed)
  (b) ssh joined    per host one ``ssh -J bastion host 'cmd1; cmd2; ...'`` (the same fact command lines)
  (c) ssh per cmd   per host and fact command one ``ssh -J bastion host 'cmd'`` (a connection per command)
  (d) ssh mux       as (c) but over one ControlMaster connection per host: a channel per command,
                    the pattern (a) uses (master started by the first command, timed; ``-O exit`` not timed)

The OpenSSH side uses ``-F <bench ssh_config>`` instead of ``-F none``: ``ssh -J`` hands only ``-F``
(not ``-i`` or ``-o``) to the jump process, so with ``-F none`` the hop to the bastion would have
neither the lab key nor the lab known_hosts. The file holds exactly the options of the command line
(IdentityFile, UserKnownHostsFile, StrictHostKeyChecking yes, BatchMode yes, IdentitiesOnly yes).

Usage: .venv/bin/python bench/host_facts.py [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from platform_kb.install import hosts
from platform_kb.install.commands import Command
from platform_kb.inventory import Host, Inventory, load_inventory
from platform_kb.processes import ProcessRecord, free_port
from platform_kb.profiles import BastionSpec, Profile, load_profile
from platform_kb_lab.config import LabSettings

KB = str(Path(sys.executable).with_name("kb"))
VARIANTS = {
    "a": "(a) kb plan_hosts (paramiko)",
    "b": "(b) OpenSSH, commands joined",
    "c": "(c) OpenSSH, ssh per command",
    "d": "(d) OpenSSH mux, chan per command",
}
SSH_TIMEOUT = 30.0


# --------------------------------------------------------------------------- the lab
def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_settings(root: Path, start: int = 10) -> LabSettings:
    """Settings on the first 127.0.9.x whose node ports (and driver UI ports 4040-4042) are free."""
    for last in range(start, 250):
        settings = LabSettings(root=root, node=f"127.0.9.{last}", local_ingress=f"127.0.0.1:{free_port()}")
        if all(_bindable(settings.node, p) for p in (*settings.node_ports().values(), 4040, 4041, 4042)):
            return settings
    raise RuntimeError("no free node address in 127.0.9.0/24")


def lab_env(settings: LabSettings) -> dict[str, str]:
    return {
        **os.environ,
        "KB_LAB_DIR": str(settings.root),
        "KB_LAB_NODE": settings.node,
        "KB_LAB_LOCAL_INGRESS": settings.local_ingress,
    }


def kb(settings: LabSettings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [KB, *args],
        env=lab_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def lab_records(settings: LabSettings) -> list[ProcessRecord]:
    if not settings.state_file.is_file():
        return []
    state = json.loads(settings.state_file.read_text())
    return [ProcessRecord.from_json(p) for p in state.get("processes", [])]


# --------------------------------------------------------------------------- OpenSSH commands
@dataclass
class OpenSsh:
    """Builds the OpenSSH command lines that reach an inventory host through the bastion."""

    bastion: BastionSpec
    config: Path
    control_dir: Path

    def jump(self) -> str:
        user = f"{self.bastion.user}@" if self.bastion.user else ""
        return f"{user}{self.bastion.host}:{self.bastion.port or 22}"

    def argv(self, host: Host, remote: str, extra: tuple[str, ...] = ()) -> list[str]:
        assert self.bastion.identity_file and self.bastion.known_hosts
        return [
            "ssh", "-F", str(self.config), "-J", self.jump(), "-p", str(host.ssh_port),
            "-i", self.bastion.identity_file, "-o", f"UserKnownHostsFile={self.bastion.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", *extra,
            f"{host.user or self.bastion.user}@{host.address}", remote,
        ]  # fmt: skip

    def control_path(self, host: Host) -> str:
        return str(self.control_dir / f"cm-{host.name}")

    def mux(self, host: Host) -> tuple[str, ...]:
        return (
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={self.control_path(host)}",
            "-o",
            "ControlPersist=60",
        )


def write_ssh_config(path: Path, bastion: BastionSpec) -> Path:
    """The options of the command line, for the jump process too (``ssh -J`` passes it only ``-F``)."""
    path.write_text(
        "Host *\n"
        f"  IdentityFile {bastion.identity_file}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {bastion.known_hosts}\n"
        "  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n"
    )
    return path


def run_ssh(argv: list[str], log: Path) -> str:
    """Run one ssh; stderr goes to a file (a ControlPersist master's proxy keeps inherited pipes open)."""
    with open(log, "ab") as err:
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, timeout=SSH_TIMEOUT
        )
    if proc.returncode == 255:
        raise RuntimeError(f"ssh failed (255): {shlex.join(argv)}\n{log.read_text(errors='replace')[-1500:]}")
    return proc.stdout.decode("utf-8", "replace")


def check_uid(output: str, host: Host) -> None:
    first = output.strip().splitlines()[0] if output.strip() else ""
    if not first.isdigit():
        raise RuntimeError(f"{host.name}: OpenSSH did not print the uid first: {output[:200]!r}")


def stop_master(ssh: OpenSsh, host: Host, log: Path, leftovers: set[int]) -> None:
    """``ssh -O exit`` on the host's ControlMaster; its pid is remembered to verify it went away."""
    base = ["ssh", "-F", str(ssh.config), "-o", f"ControlPath={ssh.control_path(host)}"]
    target = f"{host.user or ssh.bastion.user}@{host.address}"
    check = subprocess.run([*base, "-O", "check", target], capture_output=True, text=True, timeout=10)
    match = re.search(r"pid=(\d+)", check.stderr + check.stdout)
    if match:
        leftovers.add(int(match.group(1)))
    with open(log, "ab") as err:
        subprocess.run(
            [*base, "-O", "exit", target], stdin=subprocess.DEVNULL, stdout=err, stderr=err, timeout=10
        )


# --------------------------------------------------------------------------- the variants
def fact_commands(settings: hosts.ExporterSettings, uid: int) -> list[Command]:
    """The read-only commands :func:`hosts.read_facts` runs for a host with this uid, in its order."""
    commands: list[Command] = [hosts.UserId()]
    if hosts.uses_sudo(settings, uid):
        commands.append(hosts.SudoCheck())
    commands += [
        hosts.DpkgStatus(settings.package),
        hosts.SystemctlIs("enabled", settings.unit),
        hosts.SystemctlIs("active", settings.unit),
        hosts.ReadFile(settings.defaults_file),
    ]
    return commands


HostTimes = dict[str, float]


def run_kb(inventory: Inventory, bastion: BastionSpec) -> tuple[float, HostTimes]:
    """(a): the plan's wall time; per host from one factory call to the next (the factory call is ~free)."""
    starts: list[tuple[str, float]] = []
    factory = hosts.ssh_runner_factory(bastion)

    def timed_factory(host: Host):
        starts.append((host.name, time.perf_counter()))
        return factory(host)

    t0 = time.perf_counter()
    plan = hosts.plan_hosts(inventory, timed_factory)
    total = time.perf_counter() - t0
    try:
        unread = [f"{hp.host.name}: {hp.error}" for hp in plan.hosts if hp.facts is None]
        if unread:
            raise RuntimeError("kb could not read facts: " + "; ".join(unread))
    finally:
        plan.close()
    ends = [t for _, t in starts[1:]] + [t0 + total]
    return total, {name: end - start for (name, start), end in zip(starts, ends, strict=True)}


def run_joined(ssh: OpenSsh, inventory: Inventory, lines: list[str], log: Path) -> tuple[float, HostTimes]:
    """(b): one ssh per host running every fact command, joined with ``;``."""
    per_host: HostTimes = {}
    remote = "; ".join(lines)
    t0 = time.perf_counter()
    for host in inventory.hosts:
        h0 = time.perf_counter()
        check_uid(run_ssh(ssh.argv(host, remote), log), host)
        per_host[host.name] = time.perf_counter() - h0
    return time.perf_counter() - t0, per_host


def run_per_command(
    ssh: OpenSsh, inventory: Inventory, lines: list[str], log: Path, mux: bool, leftovers: set[int]
) -> tuple[float, HostTimes]:
    """(c)/(d): one ssh per fact command; with ``mux`` over one ControlMaster per host (``-O exit`` untimed)."""
    per_host: HostTimes = {}
    total = 0.0
    for host in inventory.hosts:
        extra = ssh.mux(host) if mux else ()
        h0 = time.perf_counter()
        outputs = [run_ssh(ssh.argv(host, line, extra), log) for line in lines]
        per_host[host.name] = time.perf_counter() - h0
        total += per_host[host.name]
        check_uid(outputs[0], host)
        if mux:
            stop_master(ssh, host, log, leftovers)
    return total, per_host


# --------------------------------------------------------------------------- rounds
@dataclass
class Samples:
    total: list[float] = field(default_factory=list)
    per_host: dict[str, list[float]] = field(default_factory=dict)

    def add(self, total: float, per_host: HostTimes) -> None:
        self.total.append(total)
        for name, seconds in per_host.items():
            self.per_host.setdefault(name, []).append(seconds)

    def median(self) -> float:
        return statistics.median(self.total)

    def host_medians(self) -> dict[str, float]:
        return {name: statistics.median(v) for name, v in self.per_host.items()}


def measure(
    runners: dict[str, Callable[[], tuple[float, HostTimes]]],
    rounds: int,
    progress: Callable[[str], None],
) -> dict[str, Samples]:
    """One warm-up round (discarded), then ``rounds`` rounds; variant order rotated per round."""
    names = list(runners)
    samples = {name: Samples() for name in names}
    for r in range(rounds + 1):
        progress("warm-up round" if r == 0 else f"round {r}/{rounds}")
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            total, per_host = runners[name]()
            if r > 0:
                samples[name].add(total, per_host)
    return samples


def machine() -> dict[str, str]:
    ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return {
        "nproc": str(os.cpu_count()),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "openssh": ssh_version,
        "paramiko": paramiko.__version__,
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def run(rounds: int, progress: Callable[[str], None]) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-host-facts-"))
    settings = pick_settings(workdir / "lab")
    seen: dict[int, ProcessRecord] = {}
    masters: set[int] = set()
    try:
        progress(f"kb lab up (node {settings.node}, lab dir {settings.root})")
        started = time.monotonic()
        up = kb(settings, "lab", "up")
        if up.returncode != 0:
            raise RuntimeError(f"kb lab up failed:\n{up.stderr[-3000:]}\n{up.stdout[-2000:]}")
        seen.update({r.pid: r for r in lab_records(settings)})
        progress(f"lab up in {time.monotonic() - started:.1f}s")
        profile: Profile = load_profile(str(settings.profile_path))
        inventory = load_inventory(settings.inventory_path)
        ssh = OpenSsh(profile.bastion, write_ssh_config(workdir / "ssh_config", profile.bastion), workdir)
        log = workdir / "ssh.log"

        plan = hosts.plan_hosts(inventory, hosts.ssh_runner_factory(profile.bastion))
        uids = {hp.facts.uid for hp in plan.hosts if hp.facts is not None}
        plan.close()  # the uid decides whether `sudo -n true` is one of the fact commands
        if len(uids) != 1:
            raise RuntimeError(f"expected one uid on every lab host, got {uids}")
        lines = [c.line() for c in fact_commands(hosts.ExporterSettings(), uids.pop())]

        runners: dict[str, Callable[[], tuple[float, HostTimes]]] = {
            "a": lambda: run_kb(inventory, profile.bastion),
            "b": lambda: run_joined(ssh, inventory, lines, log),
            "c": lambda: run_per_command(ssh, inventory, lines, log, False, masters),
            "d": lambda: run_per_command(ssh, inventory, lines, log, True, masters),
        }
        samples = measure(runners, rounds, progress)
        medians = {name: s.median() for name, s in samples.items()}
        return {
            "machine": machine(),
            "rounds": rounds,
            "hosts": inventory.names(),
            "fact_commands": lines,
            "openssh_example": shlex.join(ssh.argv(inventory.hosts[0], "; ".join(lines))),
            "median_s": medians,
            "per_host_median_s": {name: s.host_medians() for name, s in samples.items()},
            "runs_s": {name: s.total for name, s in samples.items()},
            "ratios": {f"a/{n}": medians["a"] / medians[n] for n in ("b", "c", "d")},
        }
    finally:
        seen.update({r.pid: r for r in lab_records(settings)})
        down = kb(settings, "lab", "down")
        if down.returncode != 0:
            progress(f"kb lab down failed: {down.stderr[-2000:]}")
        for record in seen.values():
            if record.alive():
                progress(f"still alive after kb lab down, stopping: {record.name} (pid {record.pid})")
                record.stop()
        for pid in masters:
            if _alive(pid):
                progress(f"ssh ControlMaster pid {pid} still alive, terminating it")
                os.kill(pid, 15)
        shutil.rmtree(workdir, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def print_report(result: dict) -> None:
    m = result["machine"]
    print(
        f"machine: {m['nproc']} CPUs, Linux {m['kernel']}, {m['openssh']}, Python {m['python']}, "
        f"paramiko {m['paramiko']}, loadavg {m['loadavg']}"
    )
    print(
        f"hosts: {', '.join(result['hosts'])} (in sequence); fact commands per host: {len(result['fact_commands'])}"
    )
    for line in result["fact_commands"]:
        print(f"  {line}")
    print(f"median of {result['rounds']} rounds (after 1 warm-up)\n")
    names = result["hosts"]
    header = f"{'variant':36} {'total s':>8} " + " ".join(f"{n:>9}" for n in names)
    print(header)
    print("-" * len(header))
    for key, label in VARIANTS.items():
        per_host = result["per_host_median_s"][key]
        print(
            f"{label:36} {result['median_s'][key]:>8.3f} " + " ".join(f"{per_host[n]:>9.3f}" for n in names)
        )
    r = result["ratios"]
    print(f"\nratios: (a)/(b) {r['a/b']:.2f}x   (a)/(c) {r['a/c']:.2f}x   (a)/(d) {r['a/d']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (median reported; default 5)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if shutil.which("ssh") is None:
        print("bench/host_facts.py needs OpenSSH's ssh (and the lab's prerequisites)", file=sys.stderr)
        return 2
    result = run(args.rounds, lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
