"""Plan and apply with a RecordingRunner: exact command lines, values, order, idempotence."""

from __future__ import annotations

import json

import pytest
import yaml

from platform_kb.errors import MissingPrerequisite, UsageProblem
from platform_kb.install import airflow, history, plan, spark_operator, spec
from platform_kb.install import commands as c
from platform_kb.install.plan import apply_plan, plan_install

from .conftest import ACCESS_KEY, SECRET_KEY, FakeCluster

EXAMPLE_REPO = "https://git.example.internal/homelab/data-platform-core.git"  # a placeholder

AIRFLOW_VALUES = {
    "executor": "KubernetesExecutor",
    "dags": {
        "gitSync": {
            "enabled": True,
            "repo": EXAMPLE_REPO,
            "branch": "main",
            "ref": "main",
            "rev": "HEAD",
            "depth": 1,
            "subPath": "dags",
            "period": "60s",
        }
    },
    "config": {
        "logging": {
            "remote_logging": "True",
            "remote_base_log_folder": "s3://datalake/logs/airflow-logs",
            "remote_log_conn_id": "minio_s3",
        }
    },
    "secret": [
        {
            "envName": "AIRFLOW_CONN_MINIO_S3",
            "secretName": "airflow-minio-connection",
            "secretKey": "AIRFLOW_CONN_MINIO_S3",
        }
    ],
    "ingress": {
        "apiServer": {"enabled": True, "ingressClassName": "nginx", "path": "/", "pathType": "Prefix"}
    },
}

AIRFLOW_FIRST_APPLY = [
    "helm repo add apache-airflow https://airflow.apache.org --force-update",
    "kubectl apply -f -",  # Namespace airflow
    "kubectl apply -f -",  # Secret airflow/airflow-minio-connection
    "helm upgrade --install airflow apache-airflow/airflow --version 1.18.0 --namespace airflow "
    "--create-namespace -f airflow-values.yaml",
]


def airflow_spec(**overrides) -> spec.InstallSpec:
    return airflow.render(airflow.Params(**{"git_repo": EXAMPLE_REPO, **overrides}))


def test_airflow_plan_exact_lines_values_and_order(cluster: FakeCluster, minio_env) -> None:
    runner = cluster.runner()
    result = plan_install(airflow_spec(), runner)

    assert result.lines() == AIRFLOW_FIRST_APPLY
    assert [op.name for op in result.changes] == [
        "helm repo apache-airflow",
        "Namespace airflow",
        "Secret airflow/airflow-minio-connection",
        "release airflow/airflow",
    ]
    assert yaml.safe_load(result.values_yaml) == AIRFLOW_VALUES
    assert result.template_checked  # helm is "there": the chart's schema was applied first
    # facts were read, nothing was changed yet
    assert all(not cmd.mutates for cmd in runner.commands)
    assert runner.lines() == [
        "helm template airflow airflow --repo https://airflow.apache.org --version 1.18.0 --namespace airflow "
        "-f airflow-values.yaml",
        "helm repo list -o json",
        "kubectl get namespace airflow -o json --ignore-not-found",
        "kubectl get secret airflow-minio-connection --namespace airflow -o json --ignore-not-found",
        "helm status airflow --namespace airflow -o json",
    ]


def test_airflow_apply_then_second_apply_is_a_noop(cluster: FakeCluster, minio_env) -> None:
    runner = cluster.runner()
    report = apply_plan(plan_install(airflow_spec(), runner), runner)
    assert not report.nothing_to_do and report.executed == AIRFLOW_FIRST_APPLY
    assert runner.lines(mutating_only=True) == AIRFLOW_FIRST_APPLY
    assert yaml.safe_load(runner.staged["airflow-values.yaml"]) == AIRFLOW_VALUES
    # the Secret arrived with the connection JSON the chart's `secret` entry points at
    stored = cluster.objects[("secret", "airflow", "airflow-minio-connection")]
    conn = json.loads(__import__("base64").b64decode(stored["data"]["AIRFLOW_CONN_MINIO_S3"]))
    assert conn == {
        "conn_type": "aws",
        "login": ACCESS_KEY,
        "password": SECRET_KEY,
        "extra": {
            "endpoint_url": "http://minio.minio.svc.cluster.local:9000",
            "region_name": "us-east-1",
            "config_kwargs": {"s3": {"addressing_style": "path"}},
        },
    }

    again = cluster.runner()
    second = plan_install(airflow_spec(), again)
    assert second.changes == [] and second.commands == []
    assert [op.reason for op in second.operations] == [
        "already added (https://airflow.apache.org)",
        "exists and matches",
        "exists and matches",
        "airflow-1.18.0 deployed (revision 1), values unchanged",
    ]
    report2 = apply_plan(second, again)
    assert report2.nothing_to_do and report2.executed == []
    assert "nothing to change" in report2.message
    assert again.lines(mutating_only=True) == []


def test_changed_value_upgrades_after_refreshing_the_repo(cluster: FakeCluster, minio_env) -> None:
    runner = cluster.runner()
    apply_plan(plan_install(airflow_spec(), runner), runner)
    changed = plan_install(airflow_spec(git_branch="release-2026"), cluster.runner())
    assert changed.lines() == [
        "helm repo update apache-airflow",
        "helm upgrade --install airflow apache-airflow/airflow --version 1.18.0 --namespace airflow "
        "--create-namespace -f airflow-values.yaml",
    ]
    assert changed.changes[-1].reason == "values differ in dags"
    # a new MinIO key changes the Secret only
    cluster2_runner = cluster.runner()
    apply_plan(changed, cluster2_runner)
    rotated = plan_install(
        airflow_spec(git_branch="release-2026"), cluster.runner(), resolver=lambda ref: "rotated-" + ref
    )
    assert [op.name for op in rotated.changes] == ["Secret airflow/airflow-minio-connection"]
    assert rotated.changes[0].reason == "differs in data"


def test_chart_version_change_and_failed_release_are_upgraded(cluster: FakeCluster, minio_env) -> None:
    runner = cluster.runner()
    apply_plan(plan_install(airflow_spec(), runner), runner)
    cluster.releases[("airflow", "airflow")]["status"] = "failed"
    cluster.releases[("airflow", "airflow")]["chart_version"] = "1.17.0"
    result = plan_install(airflow_spec(), cluster.runner())
    assert result.changes[-1].reason == "status is failed; chart 1.17.0 -> 1.18.0"


def test_spark_operator_plan_and_idempotent_apply(cluster: FakeCluster) -> None:
    spec = spark_operator.render(spark_operator.Params())
    assert spec.release is not None and spec.release.values == {
        "controller": {
            "uiService": {"enable": True},
            "uiIngress": {
                "enable": True,
                "urlFormat": "/spark-ui/{{$appNamespace}}/{{$appName}}",
                "ingressClassName": "nginx",
            },
        },
        "spark": {"jobNamespaces": ["spark"]},
        "webhook": {"enable": True},
    }
    runner = cluster.runner()
    result = plan_install(spec, runner)
    expected = [
        "helm repo add spark-operator https://kubeflow.github.io/spark-operator --force-update",
        "kubectl apply -f -",  # Namespace spark (spark.jobNamespaces must exist)
        "helm upgrade --install spark-operator spark-operator/spark-operator --version 2.4.0 "
        "--namespace spark-operator --create-namespace -f spark-operator-values.yaml",
    ]
    assert result.lines() == expected
    # the chart ships no values.schema.json, but `helm template` still renders it when helm exists
    assert runner.lines()[0].startswith("helm template spark-operator spark-operator --repo ")
    apply_plan(result, runner)
    assert runner.lines(mutating_only=True) == expected
    assert plan_install(spec, cluster.runner()).changes == []


def test_existing_namespace_counts_as_matching(cluster: FakeCluster) -> None:
    """A namespace someone else created (with server labels) is not re-applied."""
    cluster.objects[("namespace", None, "spark")] = {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "spark", "labels": {"kubernetes.io/metadata.name": "spark"}},
    }  # fmt: skip
    result = plan_install(spark_operator.render(spark_operator.Params()), cluster.runner())
    ns_op = next(op for op in result.operations if op.name == "Namespace spark")
    assert not ns_op.changes and ns_op.reason == "exists and matches"


HISTORY_OBJECTS = [
    "Namespace spark-history",
    "Secret spark-history/spark-history-s3",
    "ConfigMap spark-history/spark-history-server-conf",
    "Deployment spark-history/spark-history-server",
    "Service spark-history/spark-history-server",
    "Ingress spark-history/spark-history-server",
]


def test_history_server_plan_apply_and_noop(cluster: FakeCluster, minio_env) -> None:
    spec = history.render(history.Params())
    runner = cluster.runner()
    result = plan_install(spec, runner)
    assert [op.name for op in result.changes] == HISTORY_OBJECTS
    assert result.lines() == ["kubectl apply -f -"] * 6
    assert [op.reason for op in result.changes] == ["does not exist"] * 6
    assert result.values_yaml is None  # no chart
    apply_plan(result, runner)
    applied = [yaml.safe_load(cmd.stdin()) for cmd in runner.commands if isinstance(cmd, c.KubectlApply)]
    assert [f"{m['kind']} {m['metadata'].get('namespace', '') + '/' if m['metadata'].get('namespace') else ''}"
            f"{m['metadata']['name']}" for m in applied] == HISTORY_OBJECTS  # fmt: skip
    second = plan_install(spec, cluster.runner())
    assert second.changes == [], second.rows()
    # a new Spark version changes the ConfigMap? no: the jars, i.e. the Deployment (init container + checksum)
    changed = plan_install(
        history.render(history.Params(spark_version="3.5.5", image="apache/spark:3.5.5")),
        cluster.runner(),
    )
    assert [op.name for op in changed.changes] == ["Deployment spark-history/spark-history-server"]
    assert changed.changes[0].reason == "differs in spec"


def test_history_server_values_match_upstream_facts() -> None:
    spec = history.render(history.Params())
    by_kind = {m["kind"]: m for m in spec.manifests_shown()}
    conf = by_kind["ConfigMap"]["data"]["spark-defaults.conf"].splitlines()
    assert "spark.history.fs.logDirectory s3a://datalake/logs/spark-log/" in conf
    assert "spark.hadoop.fs.s3a.path.style.access true" in conf
    assert "spark.hadoop.fs.s3a.endpoint http://minio.minio.svc.cluster.local:9000" in conf
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    fetch = pod["initContainers"][0]["command"][2]
    assert "org/apache/hadoop/hadoop-aws/3.4.1/hadoop-aws-3.4.1.jar" in fetch
    assert "software/amazon/awssdk/bundle/2.24.6/bundle-2.24.6.jar" in fetch
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["SPARK_HISTORY_OPTS"]["value"] == "-Dspark.ui.proxyBase=/spark-history"
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "spark-history-s3",
        "key": "AWS_SECRET_ACCESS_KEY",
    }
    ingress = by_kind["Ingress"]
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/spark-history(/|$)(.*)"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    old = history.render(history.Params(spark_version="3.5.5", image="apache/spark:3.5.5"))
    fetch_old = next(m for m in old.manifests_shown() if m["kind"] == "Deployment")["spec"]["template"][
        "spec"
    ]
    assert "hadoop-aws-3.3.4.jar" in fetch_old["initContainers"][0]["command"][2]
    assert "aws-java-sdk-bundle-1.12.262.jar" in fetch_old["initContainers"][0]["command"][2]


def test_helm_schema_rejection_stops_before_any_change(cluster: FakeCluster, minio_env) -> None:
    cluster.template_error = (
        "Error: values don't meet the specifications of the schema(s) in the following chart(s):\n"
        "airflow:\n- dags.gitSync: Additional property subpath is not allowed\n"
    )
    runner = cluster.runner()
    with pytest.raises(UsageProblem, match="Additional property subpath is not allowed"):
        plan_install(airflow_spec(), runner)
    assert runner.lines(mutating_only=True) == []


def test_without_helm_the_plan_says_so_and_apply_refuses(cluster: FakeCluster, minio_env) -> None:
    runner = cluster.runner(tools=("kubectl",))
    result = plan_install(airflow_spec(), runner)
    assert not result.template_checked
    assert result.lines() == AIRFLOW_FIRST_APPLY
    assert result.changes[0].reason == "helm is not available on the recording runner; would add it"
    with pytest.raises(MissingPrerequisite, match="helm not found on the recording runner"):
        apply_plan(result, runner)
    assert runner.lines(mutating_only=True) == []


def test_unresolvable_credentials_plan_but_never_apply(cluster: FakeCluster, monkeypatch) -> None:
    monkeypatch.delenv("MINIO_ACCESS_KEY", raising=False)
    monkeypatch.delenv("MINIO_SECRET_KEY", raising=False)
    runner = cluster.runner()
    result = plan_install(airflow_spec(), runner)
    assert result.unresolved == ["Secret airflow/airflow-minio-connection"]
    secret_op = result.changes[2]
    assert secret_op.shown["stringData"] == {"AIRFLOW_CONN_MINIO_S3": "***"}
    with pytest.raises(UsageProblem, match="credentials not resolvable"):
        apply_plan(result, runner)
    assert runner.lines(mutating_only=True) == []
    # plan mode hands every change to the recorder and runs nothing
    recorded: list[str] = []
    dry = apply_plan(result, runner, act=lambda op: recorded.append(op.command.line()), dry=True)
    assert recorded == AIRFLOW_FIRST_APPLY and dry.executed == [] and runner.lines(mutating_only=True) == []


def test_fact_parsers() -> None:
    from platform_kb.install.runners import Result

    assert plan.parse_repo_list(Result(1, "", "Error: no repositories to show")) == {}
    assert plan.parse_repo_list(Result(0, '[{"name":"a","url":"https://x"}]')) == {"a": "https://x"}
    assert plan.parse_release_status(Result(1, "", "Error: release: not found")) is None
    fact = plan.parse_release_status(
        Result(
            0,
            json.dumps(
                {"version": 3, "info": {"status": "deployed"}, "chart": {"metadata": {"version": "2.4.0"}}}
            ),
        )
    )
    assert fact == plan.ReleaseFact("deployed", "2.4.0", 3)
    assert plan.parse_values(Result(0, "null")) == {}
    assert plan.parse_object(Result(0, "")) is None
    with pytest.raises(plan.FactError, match="Unauthorized"):
        plan.parse_object(Result(1, "", "error: You must be logged in to the server (Unauthorized)"))
