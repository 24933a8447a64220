"""The glue the install runbooks call: one function per runbook step, so each cell stays short.

Where this sits: ``runbooks/install-*.py`` cells call these with the runbook handle ``rb``
(``platform_kb.runbook``) — render → check → plan → apply → verify. Narrative is Korean (it lands
in the run record and on the site); every change goes through ``rb.action`` (recorded, and not
executed under ``kb run --plan``); credentials are resolved only through ``rb.secret``.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from ..errors import UsageProblem
from ..inventory import Inventory
from ..profiles import BastionSpec
from . import checks, hosts, plan, runners, values, verify
from .commands import HelmRollback, HelmUninstall, HelmUpgradeInstall, KubectlApply
from .plan import Plan
from .s3 import S3Client
from .secrets import try_resolve
from .values import InstallSpec

CONNECTION_KEYS = (
    "bastion_host", "bastion_port", "bastion_user", "identity_file", "known_hosts", "host_key_policy",
    "proxy_jump", "node_host", "ingress_nodeport", "api_port", "local_port", "kubeconfig",
)  # fmt: skip


def connection(params: Mapping[str, Any]) -> dict[str, Any]:
    """The profile's flat connection parameters (what ``Tunnel.from_parameters`` takes)."""
    return {k: params[k] for k in CONNECTION_KEYS if k in params}


# --- render + check ----------------------------------------------------------------------------------
RENDERERS: dict[
    str, tuple[type, Callable[[Any], InstallSpec], Callable[[Any, InstallSpec], list[checks.Problem]]]
] = {
    "airflow": (values.AirflowParams, values.render_airflow, checks.check_airflow),
    "spark-operator": (values.SparkOperatorParams, values.render_spark_operator, checks.check_spark_operator),
    "spark-history-server": (
        values.HistoryServerParams,
        values.render_history_server,
        checks.check_history_server,
    ),
    # the inventory comes from MonitoringParams.inventory (a path): render and check load it themselves
    "kube-prometheus-stack": (values.MonitoringParams, values.render_monitoring, checks.check_monitoring),
}


@dataclass
class Rendered:
    component: str
    params: Any
    spec: InstallSpec
    warnings: list[checks.Problem] = field(default_factory=list)


def render(rb: Any, component: str, params: Mapping[str, Any]) -> Rendered:
    """Typed parameters → values/manifests → the project's checks; errors stop the run before any change."""
    cls, renderer, checker = RENDERERS[component]
    typed = values.from_parameters(cls, params)
    spec = renderer(typed)
    problems = checker(typed, spec)
    for p in problems:
        rb.finding(id=f"values-{p.id}", severity=p.severity, title=p.message, fix=p.fix)
    if spec.release is not None:
        rb.say(f"**렌더링한 Helm values** (`{spec.release.values_file}`, 차트 `{spec.release.chart.ref}` "
               f"{spec.release.chart.version}):\n\n```yaml\n{spec.release.values_yaml}```")  # fmt: skip
    for manifest in spec.manifests_shown():
        kind, meta = manifest["kind"], manifest["metadata"]
        rb.say(f"**이 런북이 만드는 {kind}** `{meta.get('namespace', '') + '/' if meta.get('namespace') else ''}"
               f"{meta['name']}`:\n\n```yaml\n{values.to_yaml(manifest)}```")  # fmt: skip
    for note in spec.notes:
        rb.say(f"- {note}")
    rb.stop_on_errors(
        "값 검사에서 오류가 나와 아무것도 바꾸지 않고 멈춥니다. 위 발견 사항의 해결 방법을 따르세요."
    )
    return Rendered(component, typed, spec, [p for p in problems if p.severity != "error"])


# --- runner ------------------------------------------------------------------------------------------
def api_scheme(kubeconfig: str) -> str:
    """The scheme of the kubeconfig's API server: ``http`` for the lab stand-in, else ``https``."""
    from .. import kube

    return kube.server_scheme(kubeconfig)


def bastion_spec(params: Mapping[str, Any]) -> BastionSpec:
    """The profile's bastion as an SSH destination (host keys verified per ``host_key_policy``)."""
    if not params.get("bastion_host"):
        raise UsageProblem("bastion_host is required")
    return BastionSpec(
        host=str(params["bastion_host"]),
        port=int(params.get("bastion_port") or 22),
        user=params.get("bastion_user") or None,
        identity_file=params.get("identity_file") or None,
        known_hosts=params.get("known_hosts") or None,
        host_key_policy=str(params.get("host_key_policy") or "yes"),
        proxy_jump=params.get("proxy_jump") or None,
    )


def make_runner(params: Mapping[str, Any], tunnel: Any, workdir: Path | None = None) -> runners.Runner:
    """``runner=local``: subprocess here with a kubeconfig for the tunnel's API forward;
    ``runner=bastion``: the same commands on the bastion over SSH."""
    kind = str(params.get("runner") or "local")
    if kind not in runners.RUNNER_KINDS:
        raise UsageProblem(f"runner must be one of {', '.join(runners.RUNNER_KINDS)}, got {kind!r}")
    if kind == "bastion":
        env = {"KUBECONFIG": str(params["bastion_kubeconfig"])} if params.get("bastion_kubeconfig") else {}
        spec = bastion_spec(params)
        return runners.BastionRunner(spec, remote_env=env, name=f"bastion {spec.host}")
    if not params.get("kubeconfig"):
        raise UsageProblem(
            "runner=local needs the profile's kubeconfig (the API server is reached through the tunnel)"
        )
    owned = workdir is None
    # 0700, created only now that it is needed; it holds a copy of the user's credentials
    workdir = workdir or Path(tempfile.mkdtemp(prefix="kb-install-"))
    try:
        host, port = tunnel.address("api")
        scheme = api_scheme(str(params["kubeconfig"]))
        kubeconfig = runners.write_tunnel_kubeconfig(
            params["kubeconfig"], f"{scheme}://{host}:{port}", workdir / "kubeconfig"
        )
        runner = runners.LocalRunner(workdir / "files", kubeconfig, env={"KUBECONFIG": str(kubeconfig)})
    except BaseException:
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    if owned:
        # removed with the runner or, at the latest, when the kernel's interpreter exits; a killed
        # kernel's TMPDIR is the run's private folder, which kb run removes (runner.interrupt)
        runner.cleanup = weakref.finalize(runner, shutil.rmtree, str(workdir), True)
    return runner


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
@dataclass
class Cluster:
    """Read-only handles for verification: kube API (through the tunnel), HTTP to the ingress, S3."""

    core: Any
    net: Any
    custom: Any
    http: httpx.Client
    base_url: str
    s3: S3Client | None = None


def cluster(rb: Any, params: Mapping[str, Any], tunnel: Any) -> Cluster:
    from kubernetes import client

    from .. import kube

    api = kube.api_client_via(params["kubeconfig"], tunnel.address("api"))
    s3 = None
    if params.get("s3_verify_url"):
        access = try_resolve(str(params.get("s3_access_key_ref", "")), rb.secret, "s3_access_key_ref")
        secret = try_resolve(str(params.get("s3_secret_key_ref", "")), rb.secret, "s3_secret_key_ref")
        if access and secret:
            s3 = S3Client(
                str(params["s3_verify_url"]), access, secret, str(params.get("s3_region") or "us-east-1")
            )
    return Cluster(
        client.CoreV1Api(api), client.NetworkingV1Api(api), client.CustomObjectsApi(api),
        httpx.Client(timeout=15.0), tunnel.url("ingress"), s3,
    )  # fmt: skip


def report(rb: Any, results: list[verify.Check], title: str = "검증 결과") -> None:
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


def verify_pods(c: Cluster, namespace: str, selector: str, title: str, timeout: float) -> verify.Check:
    return verify.wait_pods_ready(c.core, namespace, selector, title, timeout)


def verify_s3(
    rb: Any, c: Cluster, bucket: str, prefix: str, probe_write: bool, require_objects: bool
) -> list[verify.Check]:
    """The prefix exists (holds objects) and, with ``probe_write``, receives a probe object (an rb.action)."""
    if c.s3 is None:
        return [verify.Check("s3-skipped", False, f"s3://{bucket}/{prefix}", "s3_verify_url not given (or credentials "
                             "not resolvable here): S3 checks skipped", severity="info")]  # fmt: skip
    results = [verify.s3_prefix(c.s3, bucket, prefix, f"s3://{bucket}/{prefix} 존재", require_objects)]
    if probe_write:
        checked = rb.action(
            f"S3 쓰기 확인: s3://{bucket}/{prefix}에 작은 객체를 쓰고 읽고 지웁니다",
            apply=lambda: verify.s3_probe_write(c.s3, bucket, prefix, f"s3://{bucket}/{prefix} 쓰기"),
        )
        if checked is not None:
            results.append(checked)
    return results


def run_smoke_app(rb: Any, c: Cluster, manifest: dict[str, Any]) -> bool:
    """Create (or re-create) the smoke SparkApplication through rb.action; False under --plan."""
    meta = manifest["metadata"]

    def create() -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        try:
            c.custom.delete_namespaced_custom_object(
                verify.SPARK_GROUP, verify.SPARK_VERSION, meta["namespace"], verify.SPARK_PLURAL, meta["name"]
            )
            verify.poll(lambda: _exists(c, meta), lambda e: not e, 60, 0.5)
        except ApiException as exc:
            if exc.status != 404:
                raise
        return c.custom.create_namespaced_custom_object(
            verify.SPARK_GROUP, verify.SPARK_VERSION, meta["namespace"], verify.SPARK_PLURAL, manifest
        )

    return (
        rb.action(
            f"검증용 SparkApplication {meta['namespace']}/{meta['name']} 제출",
            manifest=manifest,
            apply=create,
        )
        is not None
    )


def _exists(c: Cluster, meta: Mapping[str, Any]) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        c.custom.get_namespaced_custom_object(
            verify.SPARK_GROUP, verify.SPARK_VERSION, meta["namespace"], verify.SPARK_PLURAL, meta["name"]
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def wait_app(
    c: Cluster, namespace: str, name: str, states: tuple[str, ...], timeout: float
) -> dict[str, Any]:
    return verify.poll(
        lambda: _status(c, namespace, name), lambda s: verify.app_state(s) in states, timeout, 1.0
    )


def _status(c: Cluster, namespace: str, name: str) -> dict[str, Any]:
    try:
        return verify.app_status(c.custom, namespace, name)
    except Exception:  # noqa: BLE001 - a transient API error while polling is retried by poll()
        return {}


# --- the three runbooks' verification --------------------------------------------------------------
RUNBOOK_KEYS = (
    "runner", "bastion_kubeconfig", "verify", "verify_only", "check_pods", "check_ui", "pod_timeout",
    "s3_verify_url", "probe_write", "smoke_app", "smoke_namespace", "smoke_image", "smoke_spark_version",
    "smoke_main_file", "smoke_main_class", "smoke_arguments", "smoke_service_account", "smoke_timeout",
    "smoke_event_log_secret", "smoke_fetch_jars", "host_sudo", "exporter_extra_args", "install_hosts",
    "targets_timeout",
)  # fmt: skip


def parameters(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The runbook's parameters out of the notebook's globals (connection, component and runbook keys)."""
    from dataclasses import fields

    names = set(CONNECTION_KEYS) | set(RUNBOOK_KEYS)
    for cls, _render, _check in RENDERERS.values():
        names |= {f.name for f in fields(cls)}
    return {k: namespace[k] for k in names if k in namespace}


def _smoke_manifest(params: Mapping[str, Any], namespace: str, event_log_dir: str | None, s3_endpoint: str,
                    s3_secret: str | None) -> dict[str, Any]:  # fmt: skip
    args = params.get("smoke_arguments") or ""
    return verify.smoke_application(
        name=str(params.get("smoke_app") or "kb-install-smoke"),
        namespace=namespace,
        image=str(params.get("smoke_image") or "apache/spark:4.0.1"),
        spark_version=str(params.get("smoke_spark_version") or "4.0.1"),
        main_file=str(params.get("smoke_main_file") or "local:///opt/spark/examples/src/main/python/pi.py"),
        arguments=args if isinstance(args, list) else str(args).split(),
        main_class=str(params.get("smoke_main_class") or ""),
        event_log_dir=event_log_dir,
        s3_endpoint=s3_endpoint,
        s3_secret=s3_secret,
        service_account=str(params.get("smoke_service_account") or "spark-operator-spark"),
        fetch_jars=bool(params.get("smoke_fetch_jars", True)),
    )


def verify_airflow(
    rb: Any, c: Cluster, p: values.AirflowParams, params: Mapping[str, Any]
) -> list[verify.Check]:
    results = []
    timeout = float(params.get("pod_timeout") or 300)
    if params.get("check_pods", True):
        results.append(
            verify_pods(c, p.namespace, f"tier=airflow,release={p.release}", "Airflow 파드 Ready", timeout)
        )
    if params.get("check_ui", True):
        prefix = p.ui_path.rstrip("/")
        results.append(
            verify.ui_page(c.http, c.base_url, p.ui_path, f"Airflow UI ({p.ui_path}) + CSS/JS", prefix=prefix)
        )
    results += verify_s3(
        rb, c, p.bucket, p.log_prefix, bool(params.get("probe_write", True)), require_objects=False
    )
    return results


def verify_spark_operator(
    rb: Any, c: Cluster, p: values.SparkOperatorParams, params: Mapping[str, Any]
) -> list[verify.Check]:
    results = []
    timeout = float(params.get("pod_timeout") or 300)
    if params.get("check_pods", True):
        results.append(
            verify_pods(
                c,
                p.namespace,
                f"app.kubernetes.io/instance={p.release}",
                "Spark Operator 파드 Ready",
                timeout,
            )
        )
    namespace = str(params.get("smoke_namespace") or p.namespaces[0])
    manifest = _smoke_manifest(params, namespace, None, "", None)
    app = manifest["metadata"]["name"]
    if not run_smoke_app(rb, c, manifest):
        return results  # --plan: the smoke application is only listed
    smoke_timeout = float(params.get("smoke_timeout") or 600)
    status = wait_app(c, namespace, app, ("RUNNING", *verify.FINISHED_STATES), smoke_timeout)
    path = verify.expected_ui_path(p.url_format, app, namespace, str(status.get("sparkApplicationId") or ""))
    ingress = verify.poll(
        lambda: verify.ui_ingress(c.net, namespace, app, path, "UI Ingress 경로"), lambda r: r.ok, 60, 1.0
    )
    results.append(ingress)
    if verify.app_state(status) == "RUNNING":
        # the ingress controller needs a moment to route to a driver that just became ready (503 meanwhile)
        results.append(
            verify.poll(
                lambda: verify.ui_page(
                    c.http, c.base_url, path + "/", f"Spark UI {path}/ + CSS/JS", prefix=path
                ),
                lambda r: r.ok,
                60,
                1.0,
            )
        )
    else:
        results.append(verify.Check("ui", False, f"Spark UI {path}/", f"app state {verify.app_state(status) or 'unknown'}, "
                                    "not RUNNING: the UI could not be checked", severity="warning"))  # fmt: skip
    return results


def verify_history(
    rb: Any, c: Cluster, p: values.HistoryServerParams, params: Mapping[str, Any]
) -> list[verify.Check]:
    results = []
    timeout = float(params.get("pod_timeout") or 300)
    if params.get("check_pods", True):
        results.append(
            verify_pods(
                c, p.namespace, f"app.kubernetes.io/name={p.name}", "History Server 파드 Ready", timeout
            )
        )
    prefix = p.ui_path.rstrip("/")
    results.append(
        verify.ui_page(
            c.http, c.base_url, prefix + "/", f"History Server UI {prefix}/ + CSS/JS", prefix=prefix
        )
    )
    results += verify_s3(
        rb, c, p.bucket, p.log_prefix, bool(params.get("probe_write", True)), require_objects=False
    )
    before = {o.key for o in c.s3.list_objects(p.bucket, p.log_prefix)} if c.s3 else set()
    namespace = str(params.get("smoke_namespace") or "spark")
    secret = str(params.get("smoke_event_log_secret") or "") or None
    manifest = _smoke_manifest(params, namespace, p.log_directory, p.s3_endpoint, secret)
    app = manifest["metadata"]["name"]
    if not run_smoke_app(rb, c, manifest):
        return results
    smoke_timeout = float(params.get("smoke_timeout") or 600)
    status = wait_app(c, namespace, app, ("COMPLETED", "FAILED"), smoke_timeout)
    state, app_id = verify.app_state(status), str(status.get("sparkApplicationId") or "")
    if state != "COMPLETED" or not app_id:
        results.append(verify.Check("smoke-app", False, f"검증 앱 {namespace}/{app}", f"state {state or 'unknown'}, "
                                    f"application id {app_id or '-'}"))  # fmt: skip
        return results
    results.append(verify.Check("smoke-app", True, f"검증 앱 {namespace}/{app}", f"COMPLETED ({app_id})"))
    results.append(
        verify.history_lists(c.http, c.base_url, prefix, app_id, "History Server가 검증 앱을 나열", 60)
    )
    if c.s3 is not None:
        results.append(
            verify.s3_new_objects(
                c.s3, p.bucket, p.log_prefix, before, f"s3://{p.bucket}/{p.log_prefix} 이벤트 로그 수신", 60
            )
        )
    return results


# --- monitoring: node-exporter on the inventory's hosts, then verification ----------------------------
def monitoring_inventory(params: Mapping[str, Any]) -> Inventory | None:
    """The inventory named by the ``inventory`` parameter, narrowed to ``hosts`` (None without one)."""
    return values.load_monitoring_inventory(values.from_parameters(values.MonitoringParams, params))


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


def exporter_settings(params: Mapping[str, Any]) -> hosts.ExporterSettings:
    extra = params.get("exporter_extra_args") or ""
    return hosts.ExporterSettings(
        sudo=str(params.get("host_sudo") or "auto"),
        extra_args=tuple(extra if isinstance(extra, list) else str(extra).split()),
    )


def plan_hosts(
    rb: Any, params: Mapping[str, Any], inventory: Inventory, runner_for: hosts.RunnerFactory | None = None
) -> hosts.HostsPlan:
    """Read every host's facts over SSH (ProxyJump through the bastion) and show what would change.

    ``runner_for`` (host -> runner) defaults to SSH through the profile's bastion; tests pass fakes.
    Nothing changes here. A blocked host (unreachable, sudo needs a password) is a finding.
    """
    settings = exporter_settings(params)
    result = hosts.plan_hosts(
        inventory, runner_for or hosts.ssh_runner_factory(bastion_spec(params)), settings
    )
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


def monitoring_selectors(p: values.MonitoringParams) -> dict[str, str]:
    """Pod selectors of the release, as the charts label them.

    prometheus-community/helm-charts ``charts/kube-prometheus-stack/templates/prometheus-operator/deployment.yaml``
    (``app: <name>-operator``, ``release``), ``_helpers.tpl`` (fullname: the release name when it contains
    the chart name, truncated to 26; the Prometheus CR ``<fullname>-prometheus``); prometheus-operator labels the
    Prometheus pods ``app.kubernetes.io/name=prometheus`` + ``operator.prometheus.io/name=<CR>``;
    grafana/helm-charts ``grafana.selectorLabels`` (``app.kubernetes.io/name=grafana``, ``instance=<release>``).
    """
    extra = values.parse_extra_values(p.extra_values)
    name = str(extra.get("nameOverride") or "kube-prometheus-stack")
    if extra.get("fullnameOverride"):
        full = str(extra["fullnameOverride"])[:26].rstrip("-")
    elif name in p.release:
        full = p.release[:26].rstrip("-")
    else:
        full = f"{p.release}-{name}"[:26].rstrip("-")
    cr = full if extra.get("cleanPrometheusOperatorObjectNames") else f"{full}-prometheus"
    return {
        "operator": f"app={name}-operator,release={p.release}",
        "prometheus": f"app.kubernetes.io/name=prometheus,operator.prometheus.io/name={cr}",
        "grafana": f"app.kubernetes.io/name=grafana,app.kubernetes.io/instance={p.release}",
    }


def verify_monitoring(
    rb: Any, c: Cluster, p: values.MonitoringParams, params: Mapping[str, Any], inventory: Inventory | None
) -> list[verify.Check]:
    """Pods Ready, the Prometheus UI under its prefix, every target up (inventory hosts included), Grafana's sub-path."""
    from ..checks import prometheus as prom

    results: list[verify.Check] = []
    timeout = float(params.get("pod_timeout") or 300)
    if params.get("check_pods", True):
        titles = {"operator": "Prometheus Operator 파드 Ready", "prometheus": "Prometheus 파드 Ready",
                  "grafana": "Grafana 파드 Ready"}  # fmt: skip
        for key, selector in monitoring_selectors(p).items():
            results.append(verify_pods(c, p.namespace, selector, titles[key], timeout))
    results.append(
        verify.poll(lambda: prom.check_ui(c.http, c.base_url, p.prometheus_path), lambda r: r.ok, 60, 2.0)
    )
    targets_timeout = float(params.get("targets_timeout") or 180)
    results += verify.poll(
        lambda: prom.check_targets(c.http, c.base_url, p.prometheus_path, inventory, p.hosts_job),
        lambda checks_: all(x.ok for x in checks_), targets_timeout, 5.0,
    )  # fmt: skip
    results += _grafana_subpath(c, p)
    return results


def _grafana_subpath(c: Cluster, p: values.MonitoringParams) -> list[verify.Check]:
    try:
        from ..checks.grafana import check_grafana_subpath
    except ImportError as exc:
        return [verify.Check("grafana-subpath", False, f"Grafana {p.grafana_prefix}/", f"check not available ({exc})",
                             severity="info")]  # fmt: skip
    return list(check_grafana_subpath(c.http, c.base_url, p.grafana_prefix))
