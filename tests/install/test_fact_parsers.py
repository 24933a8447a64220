"""The fact parsers on what the tools really print (captured outputs in data/facts/, see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_kb.install import hosts, plan
from platform_kb.install.runners import Result

FACTS = Path(__file__).parent / "data" / "facts"


def captured(name: str) -> Result:
    data: dict[str, Any] = json.loads((FACTS / f"{name}.json").read_text(encoding="utf-8"))
    return Result(data["rc"], data["stdout"], data["stderr"])


def test_every_captured_output_is_used_here() -> None:
    names = {p.stem for p in FACTS.glob("*.json")}
    used = {n for n in names if n in Path(__file__).read_text(encoding="utf-8")}
    assert names == used


def test_dpkg_query_of_an_installed_and_an_unknown_package() -> None:
    installed, version = hosts.parse_dpkg(captured("dpkg-installed"))
    assert installed and version.startswith("1.")
    assert hosts.parse_dpkg(captured("dpkg-unknown-package")) == (False, "")


def test_os_release_of_debian_12() -> None:
    release = hosts.parse_os_release(captured("os-release-debian12").stdout)
    assert (release.id, release.version_id, release.debian_family) == ("debian", "12", True)


class ReplayRunner:
    """Answers each command with the captured output of the same argv; refuses any other command."""

    name = "replay"

    def __init__(self, *names: str) -> None:
        self.answers = {}
        for n in names:
            data = json.loads((FACTS / f"{n}.json").read_text(encoding="utf-8"))
            self.answers[tuple(data["argv"])] = captured(n)

    def has_tool(self, tool: str) -> bool:
        return True

    def run(self, command: Any, check: bool = True) -> Result:
        argv = tuple(command.argv())
        if argv not in self.answers:
            raise AssertionError(f"not captured: {argv}")
        return self.answers[argv]


def test_a_host_read_from_captured_outputs_is_what_the_host_was() -> None:
    runner = ReplayRunner(
        "id-u",
        "dpkg-installed",
        "systemctl-is-enabled",
        "systemctl-is-active-without-systemd",
        "node-exporter-defaults",
    )
    facts = hosts.read_facts(runner, hosts.ExporterSettings())
    assert (facts.uid, facts.installed, facts.enabled) == (0, True, "enabled")
    assert facts.active == "unknown"  # no systemd to ask: not "inactive"
    assert facts.defaults is not None and "ARGS" in facts.defaults


def test_kubectl_get_of_an_absent_a_present_and_an_unreachable_object() -> None:
    assert plan.parse_object(captured("kubectl-ns-absent")) is None
    assert plan.parse_object(captured("kubectl-ns-absent-strict")) is None
    present = plan.parse_object(captured("kubectl-ns-present"))
    assert present is not None and present["metadata"]["name"] == "spark"
    with pytest.raises(plan.FactError, match="was refused"):
        plan.parse_object(captured("kubectl-refused"))
