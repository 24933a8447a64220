"""`kb lab apply-fix`: reading a record's remedies into one plan, and bad input refused before anything changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from platform_kb.errors import UsageProblem
from platform_kb.remedies import Remedy
from platform_kb_lab.fixes import FIX_SUFFIX, base_scenario, plan_fixes, read_record
from platform_kb_lab.operator import OperatorSettings

REWRITE = "nginx.ingress.kubernetes.io/rewrite-target"
XFP = "nginx.ingress.kubernetes.io/x-forwarded-prefix"


def _record(tmp_path: Path, findings: list[dict], context: dict | None = None) -> Path:
    run = tmp_path / "runs" / "spark-ui-ingress" / "20261207T000000Z"
    run.mkdir(parents=True)
    summary = {
        "runbook": "spark-ui-ingress",
        "status": "failed",
        "findings": findings,
        "context": {"profile": "lab", "lab_scenario": "literal-fix"} if context is None else context,
    }
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run


LITERAL_FIX = [
    {
        "id": "rewrite-to-single-target",
        "remedies": [
            {
                "kind": "ingress-annotations",
                "target": {"namespace": "spark", "name": "long-test-ui-ingress", "source": "hand-edit"},
                "patch": {"set": {REWRITE: "/$2"}, "unset": []},
                "summary": "rewrite /$2",
            }
        ],
    },
    {
        "id": "x-forwarded-prefix-ignored",
        "remedies": [
            {
                "kind": "ingress-annotations",
                "target": {"namespace": "spark", "name": "long-test-ui-ingress", "source": "hand-edit"},
                "patch": {"set": {}, "unset": [XFP]},
            }
        ],
    },
]


def test_literal_fix_record_plans_an_ingress_patch_only(tmp_path):
    record = read_record(_record(tmp_path, LITERAL_FIX))
    assert record.scenario == "literal-fix" and record.runbook == "spark-ui-ingress"
    plan = plan_fixes(record.remedies)
    assert plan.ingress_set == {REWRITE: "/$2"} and plan.ingress_unset == [XFP]
    assert plan.edits_ingress and not plan.resubmits
    assert plan.describe() == [
        f"ingress (hand edit): annotate {REWRITE}=/$2",
        f"ingress (hand edit): annotate {XFP}-",
    ]


def test_conf_operator_and_suffix_remedies_merge():
    remedies = [
        ("proxybase-root", Remedy("spark-conf", {}, {"set": {}, "unset": ["spark.ui.proxyBase"]})),
        ("app-name-suffix", Remedy("dag-operator-args", {}, {"set": {"random_name_suffix": False}})),
        (
            "proxybase-root",
            Remedy(
                "operator-values", {}, {"set": {"controller.uiIngress.urlFormat": "/spark-ui/{{$appName}}"}}
            ),
        ),
        ("ingress-path-mismatch", Remedy("use-url", {}, {"url": "http://127.0.0.1:8080/x/"})),
    ]
    plan = plan_fixes(remedies)
    assert plan.resubmits and not plan.edits_ingress
    assert plan.conf_after({"spark.ui.proxyBase": "/", "a": "1"}) == {"a": "1"}
    assert plan.suffix is False
    after = plan.operator_after(OperatorSettings(url_format="/", ingress_class_name="nginx", version="2.3.0"))
    assert after.url_format == "/spark-ui/{{$appName}}"
    assert after.ingress_class_name == "nginx" and after.version == "2.3.0"
    assert plan.urls == ["http://127.0.0.1:8080/x/"]


def test_disabling_the_ui_ingress_clears_the_url_format():
    plan = plan_fixes([("x", Remedy("operator-values", {}, {"set": {"controller.uiIngress.enable": False}}))])
    assert plan.operator_after(OperatorSettings(url_format="/a")).url_format == ""


def test_an_operator_value_the_lab_does_not_take_is_refused():
    with pytest.raises(UsageProblem, match="controller.batchScheduler.enable"):
        plan_fixes(
            [("x", Remedy("operator-values", {}, {"set": {"controller.batchScheduler.enable": True}}))]
        )


def test_base_scenario_of_a_fixed_state():
    assert base_scenario("literal-fix" + FIX_SUFFIX) == "literal-fix"
    assert base_scenario("healthy") == "healthy"


def _kb(*args: str, env_dir: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "KB_LAB_DIR": str(env_dir)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from platform_kb.cli import main; main(sys.argv[1:])",
            "lab",
            "apply-fix",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "not a directory"),
        ("no-summary", "no summary.json"),
        ("not-json", "not readable as JSON"),
        ("homelab", "not a record of a lab run"),
        ("no-remedies", "carry no remedies"),
        ("bad-kind", "remedy kind must be one of"),
    ],
)
def test_bad_records_exit_2_before_anything_changes(tmp_path, case, message):
    lab_dir = tmp_path / "lab"  # no lab here: had apply-fix gone further it would fail differently
    if case == "missing":
        target = tmp_path / "nope"
    elif case == "no-summary":
        target = tmp_path / "empty"
        target.mkdir()
    elif case == "not-json":
        target = _record(tmp_path, LITERAL_FIX)
        (target / "summary.json").write_text("{", encoding="utf-8")
    elif case == "homelab":
        target = _record(tmp_path, LITERAL_FIX, context={"profile": "homelab"})
    elif case == "no-remedies":
        target = _record(tmp_path, [{"id": "x", "remedies": []}])
    else:
        target = _record(tmp_path, [{"id": "x", "remedies": [{"kind": "reboot"}]}])
    result = _kb(str(target), env_dir=lab_dir)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not lab_dir.exists()


def test_apply_fix_without_a_running_lab_exits_2(tmp_path):
    lab_dir = tmp_path / "lab"
    result = _kb(str(_record(tmp_path, LITERAL_FIX)), env_dir=lab_dir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the lab is not running" in result.stderr


def test_dry_run_prints_the_changes_and_changes_nothing(tmp_path):
    result = _kb(str(_record(tmp_path, LITERAL_FIX)), "--dry-run", env_dir=tmp_path / "lab")
    assert result.returncode == 0, result.stderr
    assert f"annotate {REWRITE}=/$2" in result.stdout and "nothing changed" in result.stdout
