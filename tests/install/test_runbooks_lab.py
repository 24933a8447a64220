"""End to end on the lab: the three install runbooks under `kb run` — plan mode, broken values, verification.

The lab has no helm binary and no real charts, so apply itself is covered by the RecordingRunner
tests (test_plan.py). Here: `kb run ... --plan` reads facts from the lab API through the tunnel
(kubectl, with a kubeconfig written for the tunnel) and records the exact commands; broken values
stop before anything; `verify_only` runs the read-only verification against the lab's operator,
ingress (nginx), History Server and the S3 stand-in for MinIO (``platform_kb_lab.s3server``).

Stand-ins seeded here (what helm/kubectl would have created on the homelab): Ready pods labelled
the way the charts label them, since the lab runs the operator and the History Server as local
processes, not pods. The lab has no Airflow, so Airflow's UI check runs only on the homelab.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from platform_kb import kube

from .conftest import ACCESS_KEY, KB, SECRET_KEY, Lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]
RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
LAB_JOB = "local:///opt/spark/work-dir/long_test.py"  # the lab's job (platform_kb_lab.jobs)
EXAMPLE_REPO = "https://git.example.internal/homelab/data-platform-core.git"  # a placeholder


def kb_run(
    lab: Lab, records: Path, runbook: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {**lab.env, "MINIO_ACCESS_KEY": ACCESS_KEY, "MINIO_SECRET_KEY": SECRET_KEY, "COLUMNS": "200"}
    env.pop("KB_RUN_STATE", None)
    env.pop("KB_PLAN", None)
    if runbook == "install-airflow":  # a required parameter without a default (the record has no URL)
        args = ("-p", "git_repo", EXAMPLE_REPO, *args)
    done = subprocess.run(
        [str(KB), "run", str(RUNBOOKS / f"{runbook}.py"), "--profile", str(lab.profile), "--records", str(records), *args],
        capture_output=True, text=True, env=env, cwd=env["KB_ROOT"], timeout=240, check=False,
    )  # fmt: skip
    summaries = sorted((records / runbook).glob("*/summary.json"))
    assert summaries, f"no record written:\n{done.stdout}\n{done.stderr}"
    return done, json.loads(summaries[-1].read_text())


def _ids(summary: dict[str, Any]) -> list[str]:
    return [f["id"] for f in summary["findings"]]


HELM_AIRFLOW = (
    "helm upgrade --install airflow apache-airflow/airflow --version 1.18.0 --namespace airflow "
    "--create-namespace -f airflow-values.yaml"
)


def test_plan_mode_lists_exact_commands_and_values_for_all_three(lab: Lab, tmp_path: Path) -> None:
    done, summary = kb_run(lab, tmp_path, "install-airflow", "--plan")
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["status"] == "passed" and summary["plan_mode"] is True
    assert [a["command_line"] for a in summary["plan"]] == [
        "helm repo add apache-airflow https://airflow.apache.org --force-update",
        "kubectl apply -f -",
        "kubectl apply -f -",
        HELM_AIRFLOW,
    ]
    assert [a["description"] for a in summary["plan"]][1:3] == [
        "apply Namespace airflow",
        "apply Secret airflow/airflow-minio-connection",
    ]
    assert all(a["status"] == "planned" for a in summary["plan"])
    values = summary["plan"][3]["manifest"]  # the values file, kept in the record
    assert values["executor"] == "KubernetesExecutor"
    assert values["dags"]["gitSync"]["repo"].endswith("data-platform-core.git")
    assert values["config"]["logging"]["remote_base_log_folder"] == "s3://datalake/logs/airflow-logs"
    assert summary["plan"][2]["manifest"]["stringData"] == {"AIRFLOW_CONN_MINIO_S3": "***"}
    record_text = json.dumps(summary) + (
        Path(tmp_path / "install-airflow").glob("*/output.ipynb").__next__().read_text()
    )
    assert SECRET_KEY not in record_text and ACCESS_KEY not in record_text
    assert "helm is not available on the local runner" in record_text  # facts were read through the runner
    assert "verify" not in " ".join(s["name"] for s in summary["steps"] if s["status"] == "passed")

    done, summary = kb_run(lab, tmp_path, "install-spark-operator", "--plan")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [a["command_line"] for a in summary["plan"]] == [
        "helm repo add spark-operator https://kubeflow.github.io/spark-operator --force-update",
        "helm upgrade --install spark-operator spark-operator/spark-operator --version 2.4.0 "
        "--namespace spark-operator --create-namespace -f spark-operator-values.yaml",
    ]  # the lab already has namespace `spark`: read through kubectl and found matching, so not applied
    ui = summary["plan"][1]["manifest"]["controller"]["uiIngress"]
    assert ui == {
        "enable": True,
        "urlFormat": "/spark-ui/{{$appNamespace}}/{{$appName}}",
        "ingressClassName": "nginx",
    }

    done, summary = kb_run(lab, tmp_path, "install-spark-history-server", "--plan")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [a["description"] for a in summary["plan"]] == [
        "apply Namespace spark-history",
        "apply Secret spark-history/spark-history-s3",
        "apply ConfigMap spark-history/spark-history-server-conf",
        "apply Deployment spark-history/spark-history-server",
        "apply Service spark-history/spark-history-server",
        "apply Ingress spark-history/spark-history-server",
    ]
    conf = summary["plan"][2]["manifest"]["data"]["spark-defaults.conf"]
    assert "spark.history.fs.logDirectory s3a://datalake/logs/spark-log/" in conf
    assert summary["plan"][1]["manifest"]["stringData"] == {
        "AWS_ACCESS_KEY_ID": "***",
        "AWS_SECRET_ACCESS_KEY": "***",
    }


@pytest.mark.parametrize(
    ("runbook", "args", "finding", "text"),
    [
        ("install-airflow", ("-p", "extra_values", '{"dags": {"gitSync": {"subpath": "dags"}}}'),
         "values-unknown-key", "did you mean `dags.gitSync.subPath`?"),
        ("install-spark-operator", ("-p", "url_format", "spark.example.internal"),
         "values-urlformat-no-path", "has no path"),
        ("install-spark-operator", ("-p", "chart_version", "2.2.0"),
         "values-operator-too-old", "older than 2.3.0"),
    ],
)  # fmt: skip
def test_broken_values_stop_before_any_change(
    lab: Lab, tmp_path: Path, runbook: str, args, finding, text
) -> None:
    done, summary = kb_run(lab, tmp_path, runbook, *args)  # not --plan: it would apply, were the values fine
    assert done.returncode == 1, done.stdout + done.stderr
    assert summary["status"] == "failed"
    assert finding in _ids(summary)
    assert text in next(f["title"] + " " + f["fix"] for f in summary["findings"] if f["id"] == finding)
    assert summary["actions"] == [] and summary["plan"] == []  # nothing was run, nothing planned
    assert [s["name"] for s in summary["steps"]][-1].endswith("검사")  # stopped in the first step


def _seed_pods(lab: Lab) -> None:
    """Ready pods labelled as the charts label them (the lab runs these components as processes)."""
    from kubernetes import client

    api = client.CoreV1Api(kube.api_client(lab.kubeconfig))
    pods = [
        ("spark-operator", "spark-operator-controller-0", {"app.kubernetes.io/instance": "spark-operator",
                                                           "app.kubernetes.io/name": "spark-operator"}),
        ("spark", "spark-history-server-0", {"app.kubernetes.io/name": "spark-history-server"}),
        ("airflow", "airflow-scheduler-0", {"tier": "airflow", "component": "scheduler", "release": "airflow"}),
    ]  # fmt: skip
    for namespace, name, labels in pods:
        try:
            api.create_namespace({"metadata": {"name": namespace}})
        except client.ApiException as exc:
            if exc.status != 409:
                raise
        api.create_namespaced_pod(namespace, {
            "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "stand-in"}]},
        })  # fmt: skip
        api.patch_namespaced_pod_status(name, namespace, {
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        })  # fmt: skip


@pytest.fixture(scope="module")
def seeded(lab: Lab) -> Lab:
    _seed_pods(lab)
    return lab


def _checks(summary: dict[str, Any]) -> list[str]:
    return [s["name"] for s in summary["steps"]]


def test_verify_spark_operator_on_the_lab(seeded: Lab, tmp_path: Path) -> None:
    done, summary = kb_run(
        seeded, tmp_path, "install-spark-operator", "-p", "verify_only", "true", "-p", "pod_timeout", "10",
        "-p", "smoke_main_file", LAB_JOB, "-p", "smoke_arguments", "--duration 20", "-p", "smoke_timeout", "90",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["status"] == "passed" and summary["findings"] == []
    assert [a["description"] for a in summary["actions"]] == [
        "검증용 SparkApplication spark/kb-install-smoke 제출"
    ]
    assert summary["actions"][0]["status"] == "done"
    notebook = next((tmp_path / "install-spark-operator").glob("*/output.ipynb")).read_text()
    assert "kb-install-smoke-ui-ingress: /spark-ui/spark/kb-install-smoke(/|$)(.*)" in notebook
    # the Spark UI check passed with its CSS/JS loading (the verification table's row: title | ok | detail)
    assert re.search(
        r"Spark UI /spark-ui/spark/kb-install-smoke/ \+ CSS/JS \| ok \| 200, CSS/JS [1-9]", notebook
    )


def test_verify_history_server_on_the_lab(seeded: Lab, tmp_path: Path) -> None:
    assert seeded.s3 is not None
    done, summary = kb_run(
        seeded, tmp_path, "install-spark-history-server", "-p", "verify_only", "true", "-p", "pod_timeout", "10",
        "-p", "namespace", "spark", "-p", "s3_verify_url", seeded.s3.url, "-p", "smoke_app", "kb-history-smoke",
        "-p", "smoke_main_file", LAB_JOB, "-p", "smoke_arguments", "--duration 2", "-p", "smoke_timeout", "120",
        "-p", "smoke_fetch_jars", "false",  # the lab maps s3a:// to a local directory; no Maven here
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["status"] == "passed", summary["findings"]
    assert [f for f in summary["findings"] if f["severity"] != "info"] == []
    assert [a["status"] for a in summary["actions"]] == ["done", "done"]  # S3 write probe, smoke application
    notebook = next((tmp_path / "install-spark-history-server").glob("*/output.ipynb")).read_text()
    assert "History Server가 검증 앱을 나열" in notebook and "이벤트 로그 수신" in notebook
    assert SECRET_KEY not in notebook and SECRET_KEY not in json.dumps(summary)


def test_verify_airflow_on_the_lab(seeded: Lab, tmp_path: Path) -> None:
    assert seeded.s3 is not None
    done, summary = kb_run(
        seeded, tmp_path, "install-airflow", "-p", "verify_only", "true", "-p", "pod_timeout", "10",
        "-p", "check_ui", "false", "-p", "s3_verify_url", seeded.s3.url,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["status"] == "passed"
    # no Airflow task has run in the lab: the prefix is empty (a warning), but it accepts objects
    assert _ids(summary) == ["verify-s3-prefix"] and summary["findings"][0]["severity"] == "warning"
    assert summary["actions"][0]["status"] == "done"
    assert os.path.isdir(seeded.s3.root / "datalake")
