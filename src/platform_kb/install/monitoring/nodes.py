"""node-exporter on the inventory's hosts, as install-monitoring's extra steps, and its pipeline.

:class:`MonitoringInstall` adds two steps to the install pipeline — "호스트 목록" and "계획: 호스트" —
and applies the hosts' changes after the cluster's. Hosts are reached over SSH through the bastion
(ProxyJump), host keys checked against known_hosts; a blocked host (unreachable, sudo needs a
password) stops every host from being changed (:mod:`..hosts`).
"""

from __future__ import annotations

from typing import Any

from ...inventory import Inventory
from .. import hosts, runners
from ..connect import bastion_spec
from ..pipeline import Install
from .params import Params, load_monitoring_inventory


def show_inventory(rb: Any, inventory: Inventory | None) -> None:
    """The hosts this run covers: where SSH reaches them and what Prometheus scrapes."""
    if inventory is None:
        return
    rows = [
        {"host": h.name, "role": h.role or "-", "ssh": f"{h.user + '@' if h.user else ''}{h.address}:{h.ssh_port}",
         "scrape": h.target, "lab": "yes" if h.lab else ""}
        for h in inventory.hosts
    ]  # fmt: skip
    rb.table(
        rows, columns=["host", "role", "ssh", "scrape", "lab"], title=f"호스트 목록 ({inventory.path or '-'})"
    )
    if any(h.lab for h in inventory.hosts):
        rb.say("랩 호스트(`lab: true`)는 랩 머신 자체입니다: 사실은 SSH로 읽지만 바꾸지는 않습니다.")


def exporter_settings(p: Params) -> hosts.ExporterSettings:
    return hosts.ExporterSettings(sudo=p.host_sudo or "auto", extra_args=tuple(p.exporter_extra_args.split()))


def plan_hosts(
    rb: Any, p: Params, inventory: Inventory, runner_for: hosts.RunnerFactory | None = None
) -> hosts.HostsPlan:
    """Read every host's facts over SSH (ProxyJump through the bastion) and show what would change.

    ``runner_for`` (host -> runner) defaults to SSH through the profile's bastion; tests pass fakes.
    Nothing changes here. A blocked host (unreachable, sudo needs a password) is a finding.
    """
    settings = exporter_settings(p)
    result = hosts.plan_hosts(inventory, runner_for or hosts.ssh_runner_factory(bastion_spec(p)), settings)
    rb.table(result.rows(), columns=["host", "address", "exporter", "package", "service", "state", "detail"],
             title="호스트 상태 (읽은 사실)")  # fmt: skip
    rb.table(
        result.plan.rows(),
        columns=["step", "what", "change", "command", "reason"],
        title="호스트 계획 (순서대로)",
    )
    for hp in result.blocked:
        rb.finding(
            id="hosts-blocked",
            severity="warning" if rb.plan else "error",
            title=f"호스트 {hp.host.name}에 적용할 수 없습니다",
            detail=hp.error,
            evidence={"host": hp.host.name, "address": hp.host.address},
            fix="SSH로 닿는지(`ssh -J <배스천> <주소>`), known_hosts에 호스트 키가 있는지, "
            "root가 아니면 암호 없는 sudo가 되는지 확인하세요. 하나라도 막히면 어떤 호스트도 바꾸지 않습니다.",
        )
    for hp in result.lab_refused:
        rb.say(f"- 랩 호스트 `{hp.host.name}`: 사실은 읽었고 계획({len(hp.changes)}개 변경)을 보였지만, "
               "랩 머신 자체라 적용하지 않습니다.")  # fmt: skip
    changes = sum(len(hp.changes) for hp in result.applicable)
    refused = sum(len(hp.changes) for hp in result.lab_refused)
    summary = f"**요약:** 호스트 {len(result.hosts)}대 중 {len(result.applicable)}대에 {changes}개 변경"
    if refused:
        summary += (
            f" (랩 호스트 {len(result.lab_refused)}대의 {refused}개 변경은 보이기만 하고 적용하지 않음)"
        )
    rb.say(summary + (", 바꿀 것이 없습니다." if not changes and not refused else "."))
    return result


def apply_hosts(rb: Any, result: hosts.HostsPlan) -> hosts.HostsApplyReport:
    """Each change through ``rb.action`` (recorded only under ``--plan``); blocked hosts stop everything first."""

    def act(op: hosts.HostOperation, runner: runners.Runner) -> Any:
        cmd = op.command
        assert cmd is not None
        manifest = None
        if isinstance(cmd, hosts.WriteFile):
            manifest = {"host": op.host, "path": cmd.path, "content": cmd.content}
        return rb.action(
            f"{op.host}: {cmd.summary()}", command=cmd.masked_argv(), manifest=manifest,
            apply=lambda: runner.run(cmd),
        )  # fmt: skip

    try:
        report = hosts.apply_hosts(result, act, dry=bool(rb.plan))
    except hosts.HostsBlocked as exc:
        result.close()
        rb.finding(id="hosts-apply-refused", severity="error", title="막힌 호스트가 있어 아무 호스트도 바꾸지 않았습니다",
                   detail=str(exc), fix="위 `hosts-blocked` 발견 사항을 해결한 뒤 다시 실행하세요.")  # fmt: skip
        rb.stop_on_errors("막힌 호스트가 있어 적용하지 않고 멈춥니다.")
        raise
    if report.refused:
        rb.finding(id="hosts-lab-refused", severity="info", title="랩 호스트는 바꾸지 않았습니다",
                   detail=", ".join(report.refused),
                   fix="랩 호스트(`lab: true`)는 랩 머신 자체입니다: 계획만 보이고 적용은 거부합니다.")  # fmt: skip
    if report.nothing_to_do and report.refused:
        rb.say("호스트에 실행한 명령이 없습니다: 바꿀 것이 있는 호스트는 모두 랩 호스트입니다.")
    elif report.nothing_to_do:
        rb.say(
            "**변경 없음:** 모든 호스트가 이미 원하는 상태라 아무 명령도 실행하지 않았습니다 (두 번째 적용은 아무것도 바꾸지 않습니다)."
        )
    elif rb.plan:
        rb.say(f"계획 모드: 호스트 변경 {len(report.executed)}개를 기록만 했고 실행하지 않았습니다.")
    else:
        rb.say(f"호스트 변경 {len(report.executed)}개를 적용했습니다.")
    result.close()
    return report


class MonitoringInstall(Install):
    """The install pipeline plus the inventory's hosts."""

    def __init__(self, rb: Any, component: Any, params: Params) -> None:
        super().__init__(rb, component, params)
        self.params: Params = params
        self.inventory: Inventory | None = None
        self.hosts_plan: hosts.HostsPlan | None = None

    def host_list(self) -> None:
        with self.rb.step("호스트 목록") as step:
            self.inventory = load_monitoring_inventory(self.params)
            if self.inventory is None:
                step.skip("inventory가 없어 클러스터 밖 호스트는 다루지 않음")
            show_inventory(self.rb, self.inventory)

    def plan_hosts(self) -> None:
        with self.rb.step("계획: 호스트") as step:
            p = self.params
            if p.verify_only or not p.install_hosts or self.inventory is None:
                step.skip("verify_only" if p.verify_only else "install_hosts=false 또는 inventory 없음")
            self.hosts_plan = plan_hosts(self.rb, p, self.inventory)

    def apply_more(self) -> None:
        if self.params.install_hosts and self.inventory is not None:
            assert self.hosts_plan is not None
            apply_hosts(self.rb, self.hosts_plan)
