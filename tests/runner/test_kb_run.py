"""`kb run` end to end: a real kernel per run (about 1.5 s each) on the runbooks in runbooks/."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
RUNBOOKS = Path(__file__).parent / "runbooks"


def runbook(name: str) -> str:
    return str(RUNBOOKS / f"{name}.py")


def run_dirs(base: Path, runbook_id: str) -> list[Path]:
    folder = base / runbook_id
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()) if folder.is_dir() else []


def all_files(base: Path) -> list[Path]:
    return [p for p in base.rglob("*") if p.is_file()]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def _notebook_text(run_dir: Path) -> str:
    return (run_dir / "output.ipynb").read_text()


def test_success_and_two_runs_keep_two_records(kb, project: Path) -> None:
    first = kb("run", runbook("ok"), "-p", "count", "3", "-p", "name", "세계")
    assert first.returncode == 0, first.output
    assert "[5/5]" in first.stdout and "step 인사 — passed" in first.stdout

    second = kb("run", runbook("ok"))
    assert second.returncode == 0, second.output

    runs = project / "runs"
    dirs = run_dirs(runs, "ok")
    assert len(dirs) == 2
    assert (runs / "ok" / "latest").resolve() == max(
        dirs, key=lambda d: _summary(d)["started"] + d.name
    ).resolve()
    older = next(d for d in dirs if _summary(d)["parameters"]["count"] == 3)
    summary = _summary(older)
    assert summary["runbook"] == "ok" and summary["status"] == "passed" and summary["exit_code"] == 0
    assert summary["parameters"] == {"count": 3, "name": "세계", "mode": "check", "marker_file": ""}
    assert summary["parameter_sources"]["count"] == "-p"
    assert [(s["name"], s["status"]) for s in summary["steps"]] == [("인사", "passed"), ("표", "passed")]
    assert all(isinstance(s["seconds"], float) for s in summary["steps"])
    assert [(f["id"], f["severity"], f["fix"]) for f in summary["findings"]] == [
        ("just-info", "info", "없음")
    ]
    assert summary["started"].endswith("Z") and summary["finished"] >= summary["started"]
    # the executed notebook: parameters injected after the parameters cell, outputs kept
    nb = json.loads(_notebook_text(older))
    tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    text = _notebook_text(older)
    assert "hello 세계 2" in text and "text/markdown" in text
    assert nb["metadata"]["papermill"]["input_path"].endswith("ok.py")
    # private: dirs 0700, files 0600
    for path in [runs, runs / "ok", *dirs]:
        assert mode(path) == 0o700, path
    for path in all_files(runs):
        assert mode(path) == 0o600, path


def test_failing_cell_keeps_partial_record_and_names_step(kb, project: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    result = kb("run", runbook("fail"), "-p", "marker_dir", str(marks))
    assert result.returncode == 1, result.output
    assert "step '망가지는 단계' failed: ValueError: boom-from-the-runbook" in result.stdout
    assert (marks / "first").exists() and not (marks / "after").exists()

    (run_dir,) = run_dirs(project / "runs", "fail")
    summary = _summary(run_dir)
    assert summary["status"] == "error" and summary["exit_code"] == 1
    assert summary["error"]["step"] == "망가지는 단계" and summary["error"]["ename"] == "ValueError"
    assert [(s["name"], s["status"]) for s in summary["steps"]] == [
        ("준비", "passed"),
        ("망가지는 단계", "failed"),
    ]
    nb = json.loads(_notebook_text(run_dir))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and errors[0]["evalue"] == "boom-from-the-runbook"
    assert "before the error" in _notebook_text(run_dir)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "colour", "red"], "unknown parameter 'colour'"),
        (["-p", "count", "three"], "parameter 'count': expected int, got 'three'"),
        (["-p", "count", "11"], "parameter 'count': 11 is outside the allowed range 1..10"),
        (["-p", "mode", "destroy"], "parameter 'mode': 'destroy' is not one of check | fix"),
        (["--params", "{params}"], "unknown parameter 'cuont' (did you mean 'count'?)"),
        (["--profile", "nowhere"], "profile 'nowhere' not found"),
    ],
)
def test_bad_parameter_runs_nothing_and_leaves_no_record(
    kb, project: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    marker = tmp_path / "first-cell-ran"
    params = tmp_path / "params.yaml"
    params.write_text("count: 2\ncuont: 3\n")
    args = [a.replace("{params}", str(params)) for a in args]
    result = kb("run", runbook("ok"), "-p", "marker_file", str(marker), *args)
    assert result.returncode == 2, result.output
    assert message in result.stderr
    assert not marker.exists()
    assert not (project / "runs").exists()


def test_missing_required_and_literal_secret_exit_2(kb, project: Path) -> None:
    empty = kb("run", runbook("secret"), env={"KB_TEST_TOKEN": ""})
    assert empty.returncode == 2 and "the secret is empty" in empty.stderr
    unset = kb("run", runbook("secret"), "-p", "token", "env:KB_TEST_NOT_SET_ANYWHERE")
    assert (
        unset.returncode == 2
        and "parameter 'token'" in unset.stderr
        and "KB_TEST_NOT_SET_ANYWHERE is not set" in unset.stderr
    )
    literal = kb("run", runbook("secret"), "-p", "token", "hunter2-literal")
    assert literal.returncode == 2 and "parameter 'token' is a secret" in literal.stderr
    assert "hunter2-literal" not in literal.output
    assert not (project / "runs").exists()


def test_secret_never_written_nor_printed(kb, project: Path, tmp_path: Path) -> None:
    token = "tok-9f8e7d6c5b4a/+=="
    other_file = tmp_path / "other.secret"
    other = "file-secret-0a1b2c3d"
    other_file.write_text(other + "\n")
    result = kb(
        "run",
        runbook("secret"),
        "-p",
        "extra_ref",
        f"file:{other_file}",
        env={"KB_TEST_TOKEN": token},
    )
    assert result.returncode == 0, result.output
    forms = {token, other, base64.b64encode(token.encode()).decode(), json.dumps(token)[1:-1]}
    files = all_files(project / "runs")
    assert {f.name for f in files} == {"summary.json", "output.ipynb"}
    for path in files:
        text = path.read_text()
        for form in forms:
            assert form not in text, (path, form)
    for form in forms:
        assert form not in result.output
    (run_dir,) = run_dirs(project / "runs", "secret")
    text = _notebook_text(run_dir)
    assert "token is ********" in text and "other is ********" in text  # fd-level output may arrive late
    summary = _summary(run_dir)
    assert summary["parameters"]["token"] == "env:KB_TEST_TOKEN"
    assert summary["secret_references"] == ["env:KB_TEST_TOKEN", f"file:{other_file}"]
    assert summary["findings"][0]["evidence"] == {"token": "********"}


def test_plan_mode_lists_actions_without_running_them(kb, project: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    planned = kb("run", runbook("plan"), "--plan", "-p", "workdir", str(work))
    assert planned.returncode == 0, planned.output
    assert (work / "checked").exists(), "read-only checks still run"
    assert not (work / "created-by-command").exists() and not (work / "created-by-apply").exists()
    assert f"$ touch {work}/created-by-command" in planned.stdout
    assert "kind: ConfigMap" in planned.stdout
    (run_dir,) = run_dirs(project / "runs", "plan")
    summary = _summary(run_dir)
    assert summary["plan_mode"] is True
    assert [a["command"] for a in summary["plan"]] == [["touch", f"{work}/created-by-command"], None]
    assert summary["plan"][1]["manifest"]["kind"] == "ConfigMap"
    assert all(a["status"] == "planned" for a in summary["plan"])

    applied = kb("run", runbook("plan"), "-p", "workdir", str(work))
    assert applied.returncode == 0, applied.output
    assert (work / "created-by-command").exists() and (work / "created-by-apply").exists()
    latest = _summary(project / "runs" / "plan" / "latest")
    assert latest["plan"] == [] and [a["status"] for a in latest["actions"]] == ["done", "done"]


def test_failed_check_exits_1_with_status_failed(kb, project: Path) -> None:
    result = kb("run", runbook("check"), "-p", "healthy", "false", "-p", "stop", "true")
    assert result.returncode == 1, result.output
    assert "[error] target-down" in result.stdout
    summary = _summary(project / "runs" / "check" / "latest")
    assert summary["status"] == "failed"
    assert [f["id"] for f in summary["findings"]] == ["target-down"]
    assert summary["findings"][0]["evidence"] == {"status": "503 Service Unavailable"}
    assert [s["name"] for s in summary["steps"]] == ["상태 점검"], "stop_on_errors ends the run"


def test_cell_timeout(kb, project: Path) -> None:
    started = time.monotonic()
    result = kb("run", runbook("check"), "-p", "sleep_seconds", "30", "--timeout", "1")
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert "CellTimeoutError: the cell ran longer than 1 s" in result.stdout
    summary = _summary(project / "runs" / "check" / "latest")
    assert summary["status"] == "error" and summary["error"]["step"] == "상태 점검"


def test_help_lists_runbook_parameters(kb) -> None:
    result = kb("run", runbook("ok"), "--help")
    assert result.returncode == 0, result.output
    out = result.stdout
    assert "Runbook parameters" in out
    assert "count" in out and "반복 횟수" in out and "[int; default 2; 1..10]" in out
    assert "실행 모드" in out and "check | fix" in out
    secret = kb("run", runbook("secret"), "--help")
    assert "secret str" in secret.stdout and "env:NAME / file:PATH" in secret.stdout


def test_runs_list_and_publish_scrubbed(kb, project: Path) -> None:
    token = "publish-secret-value-42"
    assert kb("run", runbook("secret"), env={"KB_TEST_TOKEN": token}).returncode == 0
    listed = kb("runs", "list")
    (run_dir,) = run_dirs(project / "runs", "secret")
    assert run_dir.name in listed.stdout and "passed" in listed.stdout

    published = kb("runs", "publish", "secret", env={"KB_TEST_TOKEN": token})
    assert published.returncode == 0, published.output
    dest = project / "records" / "secret"
    assert {p.name for p in dest.iterdir()} == {"summary.json", "output.ipynb"}
    for path in dest.iterdir():
        text = path.read_text()
        assert token not in text and str(project) not in text
        assert mode(path) == 0o644
    summary = json.loads((dest / "summary.json").read_text())
    assert summary["published_run"] == run_dir.name and summary["status"] == "passed"

    missing = kb("runs", "publish", "secret", "19990101T000000Z")
    assert missing.returncode == 2 and run_dir.name in missing.stderr


def test_ipynb_runbook(kb, project: Path, tmp_path: Path) -> None:
    import jupytext

    notebook = tmp_path / "check.ipynb"
    jupytext.write(jupytext.read(RUNBOOKS / "check.py"), notebook)
    result = kb("run", str(notebook), "--records", str(tmp_path / "elsewhere"))
    assert result.returncode == 0, result.output
    assert _summary(tmp_path / "elsewhere" / "check" / "latest")["status"] == "passed"
    assert not (project / "runs").exists()


def test_a_schema_runbook_gets_its_parameters_without_papermills_unknown_warnings(
    kb, project: Path, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    done = kb(
        "run", runbook("schema"),
        "-p", "bastion_host", "bastion.example.internal",
        "-p", "node_host", "k8s-node.example.internal",
        "-p", "kubeconfig", str(kubeconfig),
    )  # fmt: skip
    assert done.returncode == 0, done.output
    assert "step 매개변수 — passed" in done.stdout
    assert "Passed unknown parameter" not in done.output
    run_dir = run_dirs(project / "runs", "schema")[0]
    assert "bastion.example.internal → k8s-node.example.internal:30998" in _notebook_text(run_dir)
    summary = _summary(run_dir)
    assert summary["parameters"]["ingress_nodeport"] == 30998 and "params_schema" not in summary["parameters"]
