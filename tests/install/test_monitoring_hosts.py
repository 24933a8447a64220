"""node-exporter on inventory hosts: facts, plan, apply, idempotence — against FakeHost runners (no SSH)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

import pytest

from platform_kb.install import hosts
from platform_kb.install.commands import Command
from platform_kb.install.runners import CommandFailed, Result
from platform_kb.inventory import Host, inventory_from_dict

INVENTORY = inventory_from_dict({"hosts": [
    {"name": "pve-01", "address": "pve-01.example.internal", "role": "proxmox"},
    {"name": "desktop", "address": "desktop.example.internal", "exporter_port": 9101, "user": "ops"},
]})  # fmt: skip


@dataclass
class FakeHost:
    """A Debian host as the commands see it: answers the facts, changes state when changes run."""

    uid: int = 0
    sudo_password: bool = False
    installed: bool = False
    enabled: str = "not-found"
    active: str = "inactive"
    files: dict[str, str] = field(default_factory=dict)
    restarts: int = 0
    commands: list[str] = field(default_factory=list)
    name: str = "fake"

    def run(self, command: Command, check: bool = True) -> Result:
        self.commands.append(command.line())
        result = self._answer(command)
        if check and not result.ok:
            raise CommandFailed(command, result)
        return result

    def _answer(self, command: Command) -> Result:
        argv = list(command.argv())
        if argv[:2] == ["sudo", "-n"]:
            if self.sudo_password:
                return Result(1, "", "sudo: a password is required\n")
            argv = argv[2:]
        elif command.mutates and self.uid != 0:
            return Result(1, "", "Permission denied\n")
        if argv == ["true"]:
            return Result(0)
        if argv == ["id", "-u"]:
            return Result(0, f"{self.uid}\n")
        if argv[0] == "dpkg-query":
            if not self.installed:
                return Result(1, "", f"dpkg-query: no packages found matching {argv[-1]}\n")
            return Result(0, "install ok installed 1.5.0-1+b4")
        if argv[:2] == ["systemctl", "is-enabled"]:
            return Result(0 if self.enabled == "enabled" else 1, self.enabled + "\n")
        if argv[:2] == ["systemctl", "is-active"]:
            return Result(0 if self.active == "active" else 3, self.active + "\n")
        if argv[0] == "cat":
            if argv[1] not in self.files:
                return Result(1, "", f"cat: {argv[1]}: No such file or directory\n")
            return Result(0, self.files[argv[1]])
        if "apt-get" in argv and "update" in argv:
            return Result(0)
        if "apt-get" in argv and "install" in argv:  # postinst: default file, enabled and started
            self.installed, self.enabled, self.active = True, "enabled", "active"
            self.files.setdefault(hosts.DEFAULTS_FILE, 'ARGS=""\n')
            return Result(0)
        if argv[:2] == ["sh", "-c"]:
            path = shlex.split(argv[2])[-1]
            self.files[path] = command.stdin() or ""
            return Result(0)
        if argv[:3] == ["systemctl", "enable", "--now"]:
            self.enabled, self.active = "enabled", "active"
            return Result(0)
        if argv[:2] == ["systemctl", "restart"]:
            self.restarts += 1
            self.active = "active"
            return Result(0)
        return Result(127, "", f"{argv[0]}: not faked\n")

    def has_tool(self, tool: str) -> bool:
        return True

    def close(self) -> None:
        pass


class Unreachable:
    name = "ssh down"

    def run(self, command: Command, check: bool = True) -> Result:
        raise OSError("[Errno 113] No route to host")

    def has_tool(self, tool: str) -> bool:
        return False

    def close(self) -> None:
        pass


def factory(fakes: dict[str, object]):
    return lambda host: fakes[host.name]


FIRST_APPLY_ROOT = [
    "env DEBIAN_FRONTEND=noninteractive apt-get update -q",
    "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus-node-exporter",
    "sh -c 'umask 022 && cat > /etc/default/prometheus-node-exporter'",
    "systemctl enable --now prometheus-node-exporter",
    "systemctl restart prometheus-node-exporter",
]


def test_plan_reads_facts_only_then_apply_then_second_apply_is_a_noop() -> None:
    pve, desk = FakeHost(), FakeHost(uid=1000)
    result = hosts.plan_hosts(INVENTORY, factory({"pve-01": pve, "desktop": desk}))
    assert pve.commands == [
        "id -u",
        "dpkg-query -W '-f=${Status} ${Version}' prometheus-node-exporter",
        "systemctl is-enabled prometheus-node-exporter",
        "systemctl is-active prometheus-node-exporter",
        "cat /etc/default/prometheus-node-exporter",
    ]
    assert desk.commands[:2] == ["id -u", "sudo -n true"]  # not root: sudo must work without a password
    assert not pve.installed and not desk.installed  # nothing changed
    plan = result.plan
    assert [r["what"] for r in plan.rows()][:5] == [
        "pve-01: apt index", "pve-01: package prometheus-node-exporter", "pve-01: /etc/default/prometheus-node-exporter",
        "pve-01: service prometheus-node-exporter", "pve-01: restart prometheus-node-exporter",
    ]  # fmt: skip
    assert [op.command.line() for op in plan.changes if op.host == "pve-01"] == FIRST_APPLY_ROOT
    assert [op.command.line() for op in plan.changes if op.host == "desktop"] == [
        "sudo -n " + line for line in FIRST_APPLY_ROOT
    ]

    report = hosts.apply_hosts(result)
    assert not report.nothing_to_do and len(report.executed) == 10
    assert pve.files[hosts.DEFAULTS_FILE].endswith("ARGS=--web.listen-address=:9100\n")
    assert desk.files[hosts.DEFAULTS_FILE].endswith("ARGS=--web.listen-address=:9101\n")
    assert (pve.enabled, pve.active, pve.restarts) == ("enabled", "active", 1)

    again = hosts.plan_hosts(INVENTORY, factory({"pve-01": pve, "desktop": desk}))
    assert again.plan.changes == []
    assert [r["state"] for r in again.rows()] == ["up to date", "up to date"]
    before = len(pve.commands)
    second = hosts.apply_hosts(again)
    assert second.nothing_to_do and second.executed == [] and "nothing to change" in second.message
    assert len(pve.commands) == before  # not even a fact was read again


def test_changed_port_rewrites_and_restarts_only() -> None:
    pve = FakeHost(installed=True, enabled="enabled", active="active",
                   files={hosts.DEFAULTS_FILE: 'ARGS="--web.listen-address=:9200"\n'})  # fmt: skip
    inventory = INVENTORY.select(["pve-01"])
    result = hosts.plan_hosts(inventory, factory({"pve-01": pve}))
    assert [(op.name, op.reason) for op in result.plan.changes] == [
        ("pve-01: /etc/default/prometheus-node-exporter",
         "ARGS is --web.listen-address=:9200, want --web.listen-address=:9100"),
        ("pve-01: restart prometheus-node-exporter", "ARGS changed: the running exporter must re-read them"),
    ]  # fmt: skip
    hosts.apply_hosts(result)
    assert hosts.plan_hosts(inventory, factory({"pve-01": pve})).plan.changes == []


def test_stopped_service_is_enabled_without_restart() -> None:
    pve = FakeHost(installed=True, enabled="disabled", active="inactive")
    pve.files[hosts.DEFAULTS_FILE] = hosts.ExporterSettings().defaults_content(INVENTORY.host("pve-01"))
    result = hosts.plan_hosts(INVENTORY.select(["pve-01"]), factory({"pve-01": pve}))
    assert [op.command.line() for op in result.plan.changes] == [
        "systemctl enable --now prometheus-node-exporter"
    ]


def test_unreachable_host_is_reported_and_apply_changes_nothing() -> None:
    pve = FakeHost()
    result = hosts.plan_hosts(INVENTORY, factory({"pve-01": pve, "desktop": Unreachable()}))
    (blocked,) = result.blocked
    assert blocked.host.name == "desktop" and "No route to host" in blocked.error
    assert result.rows()[1]["state"] == "blocked"
    assert any(
        op.name == "desktop: reachable" and op.reason.startswith("BLOCKED") for op in result.plan.operations
    )
    before = list(pve.commands)
    with pytest.raises(hosts.HostsBlocked, match="nothing was changed on any host"):
        hosts.apply_hosts(result)
    assert pve.commands == before and not pve.installed
    # plan mode: nothing runs anyway, the blocked host does not raise
    assert hosts.apply_hosts(result, dry=True).executed


def test_sudo_needing_a_password_blocks() -> None:
    desk = FakeHost(uid=1000, sudo_password=True)
    result = hosts.plan_hosts(INVENTORY.select(["desktop"]), factory({"desktop": desk}))
    assert "sudo needs a password" in result.blocked[0].error


def test_sudo_modes() -> None:
    root = FakeHost()
    result = hosts.plan_hosts(
        INVENTORY.select(["pve-01"]), factory({"pve-01": root}), hosts.ExporterSettings(sudo="always")
    )
    assert all(op.command.line().startswith("sudo -n ") for op in result.plan.changes)
    with pytest.raises(Exception, match="host_sudo"):
        hosts.ExporterSettings(sudo="maybe")


def test_lab_host_facts_read_but_apply_refused() -> None:
    lab_inventory = inventory_from_dict({"hosts": [{"name": "lab", "address": "127.0.0.1", "lab": True}]})
    lab = FakeHost()
    result = hosts.plan_hosts(lab_inventory, factory({"lab": lab}))
    assert lab.commands and result.plan.changes  # facts read, changes planned (shown)
    assert result.rows()[0]["state"] == "lab (never changed)"
    report = hosts.apply_hosts(result)
    assert report.nothing_to_do and report.refused == ["lab"] and "refused" in report.message
    assert not lab.installed and not any("apt-get" in c for c in lab.commands)


def test_parse_args_and_defaults_content() -> None:
    host = Host("pve-01", "pve-01.example.internal", exporter_port=9100)
    content = hosts.ExporterSettings(extra_args=("--collector.systemd",)).defaults_content(host)
    assert hosts.parse_args(content) == ["--web.listen-address=:9100", "--collector.systemd"]
    assert hosts.parse_args('ARGS=""\n') == []
    assert hosts.parse_args("# nothing\n") is None
    assert hosts.parse_args('export ARGS="--a --b"  # x\n') == ["--a", "--b"]
