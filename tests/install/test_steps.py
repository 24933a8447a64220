"""The install pipeline with the real runbook API (in memory) and a FakeCluster behind a RecordingRunner."""

from __future__ import annotations

import pytest

from platform_kb import runbook
from platform_kb.install import airflow, pipeline, spark_operator
from platform_kb.runner.params import build

from .conftest import SECRET_KEY, FakeCluster

PARAMS = airflow.Params(release="airflow", namespace="airflow", s3_access_key_ref="env:MINIO_ACCESS_KEY",
                        git_repo="https://git.example.internal/homelab/data-platform-core.git",
                        s3_secret_key_ref="env:MINIO_SECRET_KEY")  # fmt: skip


def test_render_plan_apply_twice(cluster: FakeCluster, minio_env, capsys) -> None:
    rb = runbook.start("install-airflow", plan=False, state_path=None)
    rendered = pipeline.render(rb, airflow.COMPONENT, PARAMS)
    runner = cluster.runner()
    first = pipeline.make_plan(rb, rendered, runner)
    pipeline.apply(rb, first, runner)
    actions = rb.state.actions
    assert [a.command_line for a in actions] == [
        "helm repo add apache-airflow https://airflow.apache.org --force-update",
        "kubectl apply -f -",
        "kubectl apply -f -",
        "helm upgrade --install airflow apache-airflow/airflow --version 1.18.0 --namespace airflow "
        "--create-namespace -f airflow-values.yaml",
    ]
    assert all(a.status == "done" for a in actions)
    assert actions[2].manifest["stringData"] == {"AIRFLOW_CONN_MINIO_S3": "***"}
    assert actions[3].manifest["executor"] == "KubernetesExecutor"  # the values file is kept in the record
    assert "4개 변경을 적용했습니다" in capsys.readouterr().out

    second = pipeline.make_plan(rb, pipeline.render(rb, airflow.COMPONENT, PARAMS), cluster.runner())
    pipeline.apply(rb, second, cluster.runner())
    assert len(rb.state.actions) == 4  # nothing new
    out = capsys.readouterr().out
    assert "바꿀 것이 없습니다 — 4개 항목이 이미 원하는 상태입니다." in out
    assert "변경 없음" in out
    assert SECRET_KEY not in out and SECRET_KEY not in str(rb.state.to_json())


def test_plan_mode_records_without_running(cluster: FakeCluster, minio_env) -> None:
    rb = runbook.start("install-airflow", plan=True, state_path=None)
    runner = cluster.runner()
    pipeline.apply(rb, pipeline.make_plan(rb, pipeline.render(rb, airflow.COMPONENT, PARAMS), runner), runner)
    assert [a.status for a in rb.state.actions] == ["planned"] * 4
    assert runner.lines(mutating_only=True) == []


def test_broken_value_stops_with_findings() -> None:
    rb = runbook.start("install-spark-operator", plan=False, state_path=None)
    with pytest.raises(runbook.RunbookStopped):
        pipeline.render(
            rb, spark_operator.COMPONENT, spark_operator.Params(chart_version="2.2.0", url_format="/")
        )
    assert [f.id for f in rb.errors] == ["values-operator-too-old", "values-proxybase-root"]


def test_params_are_built_from_the_kernel_globals() -> None:
    namespace = {"bastion_host": "b", "chart_version": "2.4.0", "smoke_app": "x", "rb": object(), "In": []}
    p = build(spark_operator.Params, namespace)
    assert (p.bastion_host, p.chart_version, p.smoke_app) == ("b", "2.4.0", "x")
    assert p.smoke_arguments == "2000" and p.pod_timeout == 300.0  # not given: the schema's defaults
    # plain papermill passes -p values as it parsed them: converted to the field's type
    assert build(spark_operator.Params, {"bastion_port": "2222", "verify": "false"}).bastion_port == 2222
