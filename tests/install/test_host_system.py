"""What a host runs, read instead of assumed: os-release, Proxmox VE version, installed node-exporter."""

from __future__ import annotations

import pytest

from platform_kb.install import hosts
from platform_kb.install.commands import Command
from platform_kb.install.runners import Result

# /etc/os-release of a Proxmox VE 9 node (Debian 13) and of a non-Debian desktop
TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nID=debian\n'
FEDORA = (
    'NAME="Fedora Linux"\nVERSION_ID=41\nID=fedora\nPRETTY_NAME="Fedora Linux 41 (Workstation Edition)"\n'
)


class Answers:
    """A runner answering ``cat`` and ``dpkg-query`` from tables; records the commands."""

    def __init__(self, os_release: str | None, packages: dict[str, str]) -> None:
        self.os_release, self.packages, self.lines = os_release, packages, []

    def run(self, command: Command, check: bool = True) -> Result:
        argv = list(command.argv())
        self.lines.append(command.line())
        assert not command.mutates
        if argv[0] == "cat":
            return (
                Result(0, self.os_release) if self.os_release is not None else Result(1, "", "No such file\n")
            )
        if argv[0] == "dpkg-query":
            version = self.packages.get(argv[-1])
            if version is None:
                return Result(1, "", f"dpkg-query: no packages found matching {argv[-1]}\n")
            return Result(0, f"install ok installed {version}")
        raise AssertionError(argv)


def test_proxmox_9_node_is_debian_13_with_its_node_exporter() -> None:
    runner = Answers(TRIXIE, {"pve-manager": "9.0.10", "prometheus-node-exporter": "1.9.0-1+b2"})
    system = hosts.read_system(runner)
    assert (system.os.id, system.os.version_id, system.os.debian_family) == ("debian", "13", True)
    assert system.text() == "Debian GNU/Linux 13 (trixie), Proxmox VE 9.0.10, node-exporter 1.9.0-1+b2"


def test_plain_debian_without_exporter() -> None:
    system = hosts.read_system(Answers(TRIXIE, {}))
    assert system.text() == "Debian GNU/Linux 13 (trixie), node-exporter not installed"


def test_non_debian_host_is_not_asked_dpkg() -> None:
    runner = Answers(FEDORA, {})
    system = hosts.read_system(runner)
    assert not system.os.debian_family and system.os.pretty_name == "Fedora Linux 41 (Workstation Edition)"
    assert runner.lines == ["cat /etc/os-release"]


def test_missing_os_release_is_a_fact_unavailable() -> None:
    with pytest.raises(hosts.FactUnavailable, match="/etc/os-release"):
        hosts.read_system(Answers(None, {}))


def test_id_like_counts_as_debian_family() -> None:
    ubuntu = hosts.parse_os_release(
        'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n'
    )
    assert ubuntu.debian_family and ubuntu.version_id == "24.04"
