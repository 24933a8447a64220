"""The one install pipeline every install runbook runs: render → check → plan → apply → verify.

An install runbook (``runbooks/install-*.py``) is Korean markdown plus one-line cells::

    # %% tags=["parameters"]
    params_schema = "platform_kb.install.airflow:Params"
    # %%
    from platform_kb.install import airflow, pipeline
    job = pipeline.start("install-airflow", airflow.COMPONENT, globals())
    # %%
    job.render()      # each call is one step of the run record, with the titles the runbook always had
    ...

A component (one package per component: ``airflow``, ``spark_operator``, ``history``, ``monitoring``)
is a :class:`Component`: its typed ``Params`` (the single parameter schema), ``render``, ``check`` and
``verify``. Narrative is Korean (it lands in the run record and on the site); every change goes
through ``rb.action`` (recorded, and not executed under ``kb run --plan``); credentials are resolved
only through ``rb.secret``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .. import runbook
from ..errors import UsageProblem
from ..results import Check
from ..runner.params import SCHEMA_VARIABLE, build, load_schema
from . import plan, runners, verify
from .commands import HelmRollback, HelmUninstall, HelmUpgradeInstall, KubectlApply
from .connect import Cluster, cluster, make_runner
from .params import InstallParams
from .plan import Plan
from .spec import InstallSpec, to_yaml


@dataclass(frozen=True)
class Component:
    """What the pipeline needs to know about one component."""

    name: str  # the InstallSpec's component ("airflow", "spark-operator", ...)
    params: type  # its Params dataclass (an InstallParams)
    render: Callable[[Any], InstallSpec]
    check: Callable[[Any, InstallSpec], list[Check]]
    verify: Callable[[Any, Cluster, Any], list[Check]]  # (rb, cluster, params)
    render_title: str = "values 렌더링과 검사"
    plan_title: str = "계획"
    job: type[Install] | None = None  # a pipeline with more steps (monitoring: the hosts)


@dataclass
class Rendered:
    component: str
    params: Any
    spec: InstallSpec
    warnings: list[Check] = field(default_factory=list)


# --- render + check ----------------------------------------------------------------------------------
def render(rb: Any, component: Component, params: Any) -> Rendered:
    """Typed parameters → values/manifests → the project's checks; errors stop the run before any change."""
    spec = component.render(params)
    problems = component.check(params, spec)
    for p in problems:
        rb.finding(id=f"values-{p.id}", severity=p.severity, title=p.title, fix=p.fix)
    if spec.release is not None:
        rb.say(f"**렌더링한 Helm values** (`{spec.release.values_file}`, 차트 `{spec.release.chart.ref}` "
               f"{spec.release.chart.version}):\n\n```yaml\n{spec.release.values_yaml}```")  # fmt: skip
    for manifest in spec.manifests_shown():
        kind, meta = manifest["kind"], manifest["metadata"]
        rb.say(f"**이 런북이 만드는 {kind}** `{meta.get('namespace', '') + '/' if meta.get('namespace') else ''}"
               f"{meta['name']}`:\n\n```yaml\n{to_yaml(manifest)}```")  # fmt: skip
    for note in spec.notes:
        rb.say(f"- {note}")
    rb.stop_on_errors(
        "값 검사에서 오류가 나와 아무것도 바꾸지 않고 멈춥니다. 위 발견 사항의 해결 방법을 따르세요."
    )
    return Rendered(component.name, params, spec, [p for p in problems if p.severity != "error"])


# --- plan + apply ------------------------------------------------------------------------------------
def make_plan(rb: Any, rendered: Rendered, runner: runners.Runner) -> Plan:
    """Read facts through the runner and show what would change (nothing changes here)."""
    result = plan.plan_install(rendered.spec, runner, resolver=rb.secret, warnings=rendered.warnings)
    if result.template_checked:
        rb.say("`helm template`으로 차트의 `values.schema.json` 검사를 통과했습니다.")
    elif rendered.spec.release is not None:
        rb.say(f"이 실행기(`{runner.name}`)에 helm이 없어 `helm template` 검사는 건너뛰었습니다 "
               "(프로젝트 자체 검사는 통과).")  # fmt: skip
    rb.table(result.rows(), columns=["step", "what", "change", "command", "reason"], title="계획 (순서대로)")
    if result.unresolved:
        rb.finding(
            id="plan-credentials-unresolved",
            severity="warning" if rb.plan else "error",
            title="자격 증명 참조를 이 머신에서 풀 수 없습니다",
            detail=", ".join(result.unresolved),
            fix="참조한 환경 변수나 파일을 준비하세요 (계획 모드에서는 Secret을 `***`로 보여 줍니다)",
        )
    rb.say(f"**요약:** {_korean_summary(result)}")
    return result


def _korean_summary(result: Plan) -> str:
    if not result.changes:
        return f"바꿀 것이 없습니다 — {len(result.operations)}개 항목이 이미 원하는 상태입니다."
    return f"{len(result.operations)}개 항목 중 {len(result.changes)}개를 바꿉니다."


def apply(rb: Any, result: Plan, runner: runners.Runner) -> plan.ApplyReport:
    """Each change through ``rb.action`` (under ``--plan`` recorded only); a second apply says nothing changed."""

    def act(op: plan.Operation) -> Any:
        assert op.command is not None
        cmd = op.command
        manifest: Any = None
        if isinstance(cmd, KubectlApply):
            manifest = cmd.shown_manifest()
        elif isinstance(cmd, HelmUpgradeInstall):  # the values file, kept in the run record
            manifest = yaml.safe_load(cmd.values_yaml)
        return rb.action(
            cmd.summary(), command=cmd.masked_argv(), manifest=manifest, apply=lambda: runner.run(cmd)
        )

    report = plan.apply_plan(result, runner, act, dry=bool(rb.plan))
    if report.nothing_to_do:
        rb.say(
            "**변경 없음:** 모든 항목이 이미 원하는 상태라 아무 명령도 실행하지 않았습니다 (두 번째 적용은 아무것도 바꾸지 않습니다)."
        )
    elif rb.plan:
        rb.say(f"계획 모드: {len(result.changes)}개 변경을 기록만 했고 실행하지 않았습니다.")
    else:
        rb.say(f"{len(report.executed)}개 변경을 적용했습니다.")
    return report


def rollback_help(rb: Any, rendered: Rendered) -> None:
    """How to undo what this runbook applied (shown, never run)."""
    release = rendered.spec.release
    if release is not None:
        rows = [
            {"방법": "이전 리비전으로", "명령": HelmRollback(release.name, release.namespace).line()},
            {"방법": "릴리스 제거", "명령": HelmUninstall(release.name, release.namespace).line()},
        ]
    else:
        ns = rendered.spec.manifests_shown()[0]["metadata"]["name"]
        name = getattr(rendered.params, "name", "")
        rows = [
            {"방법": "이전 설정으로", "명령": f"kubectl rollout undo deployment/{name} --namespace {ns}"},
            {
                "방법": "제거",
                "명령": f"kubectl delete deployment,service,ingress,configmap -l app.kubernetes.io/name={name} --namespace {ns}",
            },
        ]
    rb.table(rows, title="되돌리기 (필요할 때 직접 실행)")


# --- verification ----------------------------------------------------------------------------------
def report(rb: Any, results: list[Check], title: str = "검증 결과") -> None:
    rb.table([c.row() for c in results], columns=["check", "result", "detail"], title=title)
    for c in results:
        if not c.ok:
            rb.finding(
                id=f"verify-{c.id}",
                severity=c.severity,
                title=f"{c.title}: {c.detail}",
                evidence=c.evidence,
                fix=c.fix,
            )


def verify_pods(c: Cluster, namespace: str, selector: str, title: str, timeout: float) -> Check:
    return verify.wait_pods_ready(c.core, namespace, selector, title, timeout)


def verify_s3(
    rb: Any, c: Cluster, bucket: str, prefix: str, probe_write: bool, require_objects: bool
) -> list[Check]:
    """The prefix exists (holds objects) and, with ``probe_write``, receives a probe object (an rb.action)."""
    if c.s3 is None:
        return [Check.skipped("s3-skipped", f"s3://{bucket}/{prefix}", "s3_verify_url not given (or credentials "
                              "not resolvable here): S3 checks skipped")]  # fmt: skip
    results = [verify.s3_prefix(c.s3, bucket, prefix, f"s3://{bucket}/{prefix} 존재", require_objects)]
    if probe_write:
        checked = rb.action(
            f"S3 쓰기 확인: s3://{bucket}/{prefix}에 작은 객체를 쓰고 읽고 지웁니다",
            apply=lambda: verify.s3_probe_write(c.s3, bucket, prefix, f"s3://{bucket}/{prefix} 쓰기"),
        )
        if checked is not None:
            results.append(checked)
    return results


# --- the runbook's steps ---------------------------------------------------------------------------
class Install:
    """One install run: each method is one step of the runbook (the cell calls it, the record names it)."""

    def __init__(self, rb: Any, component: Component, params: InstallParams) -> None:
        self.rb, self.component, self.params = rb, component, params
        self.rendered: Rendered | None = None
        self.tunnel: Any = None
        self.runner: runners.Runner | None = None
        self.plan_result: Plan | None = None

    def render(self) -> None:
        with self.rb.step(self.component.render_title) as step:
            if self.params.verify_only:
                step.skip("verify_only: 설치 단계를 건너뜀")
            self.rendered = render(self.rb, self.component, self.params)

    def connect(self) -> None:
        """Open the tunnel (bastion host key checked against known_hosts) and make the runner."""
        from ..tunnel import Tunnel

        with self.rb.step("터널과 실행기"):
            self.tunnel = Tunnel.from_parameters(self.params.tunnel_parameters()).open()
            addresses = self.tunnel.addresses
            self.rb.table([{"포워드": name, "로컬 → 원격": self.tunnel.describe(name)} for name in addresses])
            self.runner = None if self.params.verify_only else make_runner(self.params, self.tunnel)

    def plan(self) -> None:
        with self.rb.step(self.component.plan_title) as step:
            if self.params.verify_only:
                step.skip("verify_only")
            assert self.rendered is not None and self.runner is not None
            self.plan_result = make_plan(self.rb, self.rendered, self.runner)

    def apply(self) -> None:
        with self.rb.step("적용") as step:
            if self.params.verify_only:
                step.skip("verify_only")
            assert self.rendered is not None and self.plan_result is not None and self.runner is not None
            apply(self.rb, self.plan_result, self.runner)
            self.apply_more()
            rollback_help(self.rb, self.rendered)

    def apply_more(self) -> None:
        """What a component applies after its cluster changes (monitoring: the hosts)."""

    def verify(self) -> None:
        with self.rb.step("검증") as step:
            if not self.params.verify or (self.rb.plan and not self.params.verify_only):
                step.skip(
                    "verify=false"
                    if not self.params.verify
                    else "계획 모드: 설치하지 않았으므로 검증하지 않음"
                )
            checked = self.component.verify(self.rb, cluster(self.rb, self.params, self.tunnel), self.params)
            report(self.rb, checked)

    def report(self) -> None:
        self.rb.report()


def start(name: str, component: Component, namespace: Mapping[str, Any]) -> Install:
    """The runbook handle and the component's ``Params`` built from the kernel's globals (the values
    ``kb run`` injected after the parameters cell; each field not given keeps its default)."""
    declared = namespace.get(SCHEMA_VARIABLE)
    if declared is not None and load_schema(str(declared), name) is not component.params:
        raise UsageProblem(f"runbook {name}: {SCHEMA_VARIABLE} {declared!r} is not {component.name}'s Params")
    params = build(component.params, namespace)
    return (component.job or Install)(runbook.start(name), component, params)
