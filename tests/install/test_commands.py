"""Typed commands render exact lines, and secrets never appear in what is shown or recorded."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from platform_kb.errors import UsageProblem
from platform_kb.install import airflow, history, spark_operator
from platform_kb.install import commands as c
from platform_kb.install.plan import plan_install
from platform_kb.install.runners import CommandFailed, RecordingRunner, Result
from platform_kb.secrets import MASK

from .conftest import ACCESS_KEY, SECRET_KEY, FakeCluster


def test_exact_lines() -> None:
    chart = airflow.chart.CHART
    assert c.HelmRepoAdd("apache-airflow", chart.repo_url).line() == (
        "helm repo add apache-airflow https://airflow.apache.org --force-update"
    )
    assert c.HelmRepoUpdate("apache-airflow").line() == "helm repo update apache-airflow"
    up = c.HelmUpgradeInstall(
        "airflow", chart, "airflow", "airflow-values.yaml", "executor: KubernetesExecutor\n"
    )
    assert up.line() == (
        "helm upgrade --install airflow apache-airflow/airflow --version 1.18.0 --namespace airflow "
        "--create-namespace -f airflow-values.yaml"
    )
    assert up.files() == (c.StagedFile("airflow-values.yaml", "executor: KubernetesExecutor\n"),)
    assert c.HelmStatus("airflow", "airflow").line() == "helm status airflow --namespace airflow -o json"
    assert (
        c.HelmGetValues("airflow", "airflow").line() == "helm get values airflow --namespace airflow -o json"
    )
    assert c.HelmRollback("airflow", "airflow", 3).line() == "helm rollback airflow 3 --namespace airflow"
    assert c.HelmUninstall("airflow", "airflow").line() == "helm uninstall airflow --namespace airflow"
    assert c.KubectlGet("ingress.networking.k8s.io", "x", "ns").line() == (
        "kubectl get ingress.networking.k8s.io x --namespace ns -o json --ignore-not-found"
    )
    assert (
        c.KubectlGet("namespace", "spark").line() == "kubectl get namespace spark -o json --ignore-not-found"
    )
    # an argument with spaces or shell characters is quoted, so the line can be pasted
    assert c.Shell(("sh", "-c", "command -v helm")).line() == "sh -c 'command -v helm'"
    assert not c.HelmStatus("a", "b").mutates and c.HelmUpgradeInstall("a", chart, "b", "f", "").mutates


def test_kubectl_apply_masks_secret_values_everywhere_it_is_shown() -> None:
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
                "stringData": {"AWS_SECRET_ACCESS_KEY": SECRET_KEY}}  # fmt: skip
    cmd = c.KubectlApply(manifest, (SECRET_KEY,))
    assert SECRET_KEY in cmd.stdin()  # delivered to kubectl on stdin ...
    shown = [cmd.line(), cmd.summary(), repr(cmd), str(cmd), cmd.shown_stdin(), str(cmd.shown_manifest())]
    for text in shown:  # ... and nowhere else
        assert SECRET_KEY not in text
    assert cmd.shown_manifest()["stringData"] == {"AWS_SECRET_ACCESS_KEY": "***"}
    assert cmd.summary() == "apply Secret n/s"


def test_command_failure_messages_are_masked() -> None:
    cmd = c.KubectlApply(
        {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": SECRET_KEY}}, (SECRET_KEY,)
    )
    runner = RecordingRunner(responder=lambda _c: Result(1, "", f"error: bad value {SECRET_KEY}\n"))
    with pytest.raises(CommandFailed) as exc:
        runner.run(cmd)
    assert SECRET_KEY not in str(exc.value) and f"bad value {MASK}" in str(exc.value)


@dataclass(frozen=True)
class Login(c.Command):
    """A command whose argv carries a credential, URL-quoted inside a connection URL."""

    password: str

    def argv(self) -> tuple[str, ...]:
        return ("login", f"https://ops:{quote(self.password, safe='')}@git.example.internal/")

    def secrets(self) -> tuple[str, ...]:
        return (self.password,)


def test_encoded_forms_of_a_secret_are_masked_in_what_a_command_shows() -> None:
    password = "p@ss/w0rd+Zq8v"  # its URL-quoted form differs from the raw value
    line = Login(password).line()
    assert (
        quote(password, safe="") not in line and line == f"login 'https://ops:{MASK}@git.example.internal/'"
    )
    encoded = base64.b64encode(SECRET_KEY.encode()).decode()
    manifest = {"kind": "Secret", "metadata": {"name": "s", "namespace": "n"}, "data": {"k": encoded}}
    cmd = c.KubectlApply(manifest, (SECRET_KEY,))
    assert (
        encoded in cmd.stdin()
        and encoded not in (cmd.shown_stdin() or "")
        and MASK in (cmd.shown_stdin() or "")
    )
    runner = RecordingRunner(responder=lambda _c: Result(1, "", f"error: bad data {encoded}\n"))
    with pytest.raises(CommandFailed) as exc:
        runner.run(cmd)
    assert encoded not in str(exc.value) and f"bad data {MASK}" in str(exc.value)


def test_a_secret_too_short_to_mask_is_refused_before_anything_runs(cluster: FakeCluster) -> None:
    with pytest.raises(UsageProblem, match="shorter than 4 characters"):
        c.KubectlApply({"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "abc"}}, ("abc",))
    # through the plan, the message names the parameter, and no command ran
    spec = history.render(history.Params())
    resolver = {"env:MINIO_ACCESS_KEY": ACCESS_KEY, "env:MINIO_SECRET_KEY": "abc"}.__getitem__
    runner = cluster.runner()
    with pytest.raises(
        UsageProblem, match="s3_secret_key_ref: the credential env:MINIO_SECRET_KEY points to is shorter"
    ):
        plan_install(spec, runner, resolver=resolver)
    assert runner.commands == []


def test_nothing_the_plan_shows_contains_a_secret(cluster: FakeCluster, minio_env) -> None:
    """Every rendered command, row, manifest and values file of the three runbooks is free of secrets."""
    specs = [
        airflow.render(
            airflow.Params(
                git_repo="https://git.example.internal/homelab/data-platform-core.git",
                git_username_ref="env:GIT_USER",
                git_password_ref="env:GIT_TOKEN",
            )
        ),
        spark_operator.render(spark_operator.Params()),
        history.render(history.Params()),
    ]
    token = "ghp_tok3nValue123456"
    resolver = {"env:MINIO_ACCESS_KEY": ACCESS_KEY, "env:MINIO_SECRET_KEY": SECRET_KEY,
                "env:GIT_USER": "git-user", "env:GIT_TOKEN": token}.__getitem__  # fmt: skip
    forbidden = [SECRET_KEY, token, base64.b64encode(SECRET_KEY.encode()).decode()]
    runner = cluster.runner()
    for spec in specs:
        result = plan_install(spec, runner, resolver=resolver)
        shown = [str(result.rows()), str(result.manifests), result.values_yaml or "", str(result.operations)]
        shown += [op.command.line() for op in result.changes if op.command]
        shown += [str(op.shown) for op in result.operations]
        shown += [cmd.shown_stdin() or "" for cmd in result.commands]
        for text in shown:
            for secret in forbidden:
                assert secret not in text
    # the staged values files (written next to helm) hold no secret either: only Secret *names*
    for content in runner.staged.values():
        for secret in forbidden:
            assert secret not in content
    # but the Secrets themselves did get the values (through stdin)
    delivered = [cmd.stdin() for cmd in runner.commands if isinstance(cmd, c.KubectlApply)]
    assert delivered == []  # planning delivers nothing ...
    for spec in specs:
        from platform_kb.install.plan import apply_plan

        apply_plan(plan_install(spec, runner, resolver=resolver), runner)
    delivered = "".join(cmd.stdin() for cmd in runner.commands if isinstance(cmd, c.KubectlApply))
    assert SECRET_KEY in delivered and token in delivered  # ... applying does
