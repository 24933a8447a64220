"""The in-kernel runbook API and the secret helpers, in-process (no kernel)."""

from __future__ import annotations

import base64
import json
import stat
import sys
from pathlib import Path

import pytest

from platform_kb import runbook
from platform_kb.secrets import MASK, Masker, SecretError, mask_private_keys, resolve


def _state(path: Path) -> dict:
    return json.loads(path.read_text())


def test_state_file_follows_every_mutation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    state = tmp_path / "state.json"
    monkeypatch.setenv(runbook.STATE_ENV, str(state))
    monkeypatch.setenv(runbook.PLAN_ENV, "0")
    monkeypatch.setenv("KB_UNIT_SECRET", "unit-secret-value")
    rb = runbook.start("unit")
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert _state(state)["runbook"] == "unit" and rb.plan is False

    with rb.step("좋음"):
        rb.say("**안녕**")
    with pytest.raises(ZeroDivisionError), rb.step("예외"):
        assert _state(state)["steps"][-1]["status"] == "running"  # flushed before the body runs
        1 / 0  # noqa: B018
    with rb.step("점검 실패"):
        rb.finding(
            id="thing-broken", severity="error", title="고장", evidence={"path": Path("/x")}, fix="고친다"
        )
    with rb.step("건너뜀") as step:
        step.skip("필요 없음")
    rb.skip_step("안 함", "앞 단계 실패")
    assert rb.secret("env:KB_UNIT_SECRET") == "unit-secret-value"

    data = _state(state)
    assert [(s["name"], s["status"]) for s in data["steps"]] == [
        ("좋음", "passed"),
        ("예외", "failed"),
        ("점검 실패", "failed"),
        ("건너뜀", "skipped"),
        ("안 함", "skipped"),
    ]
    assert data["steps"][1]["error"] == "ZeroDivisionError: division by zero"
    assert data["findings"] == [
        {
            "id": "thing-broken",
            "severity": "error",
            "title": "고장",
            "detail": "",
            "fix": "고친다",
            "evidence": {"path": "/x"},
            "step": "점검 실패",
            "remedies": [],
        }
    ]
    assert data["secrets"] == ["env:KB_UNIT_SECRET"]
    assert "unit-secret-value" not in state.read_text()
    assert [f.id for f in rb.errors] == ["thing-broken"]
    with pytest.raises(runbook.RunbookStopped, match="thing-broken"):
        rb.stop_on_errors()
    out = capsys.readouterr().out
    assert "**안녕**" in out and "[error] thing-broken: 고장" in out  # plain text outside IPython

    again = runbook.start("unit")  # a second start() in the same kernel keeps what was recorded
    assert len(again.state.steps) == 5


def test_findings_are_validated() -> None:
    rb = runbook.start("unit", state_path=None, plan=False)
    with pytest.raises(ValueError, match="severity"):
        rb.finding(id="x", severity="fatal", title="t")
    with pytest.raises(ValueError, match="finding id"):
        rb.finding(id="Not An Id", severity="info", title="t")


def test_actions_run_or_are_only_planned(tmp_path: Path) -> None:
    target = tmp_path / "made"
    planned = runbook.start("unit", plan=True, state_path=tmp_path / "plan.json")
    assert planned.action("만들기", command=["touch", str(target)]) is None
    assert planned.action(f"touch {target}") is None  # description taken as the command line
    applied: list[str] = []
    assert planned.action("적용", manifest={"kind": "ConfigMap"}, apply=lambda: applied.append("x")) is None
    assert not target.exists() and applied == []
    actions = _state(tmp_path / "plan.json")["actions"]
    assert [a["status"] for a in actions] == ["planned"] * 3
    assert actions[1]["command"] == ["touch", str(target)]
    assert actions[2]["manifest"] == {"kind": "ConfigMap"}

    real = runbook.start("unit", plan=False, state_path=tmp_path / "run.json")
    proc = real.action("만들기", command=["touch", str(target)])
    assert proc.returncode == 0 and target.exists()
    assert real.action("적용", manifest={"kind": "ConfigMap"}, apply=lambda: "applied") == "applied"
    with pytest.raises(runbook.ActionFailed):
        real.action("실패", command=[sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(ValueError, match="manifest needs apply"):
        real.action("매니페스트만", manifest={"kind": "ConfigMap"})
    statuses = [(a["status"], a["returncode"]) for a in _state(tmp_path / "run.json")["actions"]]
    assert statuses == [("done", 0), ("done", None), ("failed", 3)]


def test_markdown_table_escapes() -> None:
    md = runbook.markdown_table([{"a": "x|y", "b": "줄\n바꿈"}, {"a": None}])
    assert md.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 줄<br>바꿈 |", "|  |  |"]


def test_resolve_references(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("file-value\n")
    assert resolve("file:key", base=tmp_path) == "file-value"
    assert resolve("env:X", environ={"X": "env-value"}) == "env-value"
    for ref, message in (
        ("plain-value", "reference env:NAME or file:PATH"),
        ("env:not a name", "variable name"),
        ("env:MISSING", "MISSING is not set"),
        ("file:nope", "cannot read"),
    ):
        with pytest.raises(SecretError, match=message) as caught:
            resolve(ref, base=tmp_path, environ={})
        assert "plain-value" not in str(caught.value)


def test_masker_covers_common_encodings() -> None:
    secret = "p@ss word/+=é"
    masker = Masker.of([secret])
    text = " ".join(
        [
            secret,
            json.dumps(secret),
            repr(secret),
            base64.b64encode(secret.encode()).decode(),
            "p%40ss%20word%2F%2B%3D%C3%A9",
        ]
    )
    masked = masker.text(text)
    assert "p@ss" not in masked and "cEBzcy" not in masked and "p%40ss" not in masked
    assert masker.data({"k": [secret, {"n": 1}]}) == {"k": [MASK, {"n": 1}]}
    with pytest.raises(SecretError, match="shorter than"):
        Masker.of(["abc"])


def test_multiline_secret_lines_and_pem_blocks() -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBQ\n-----END OPENSSH PRIVATE KEY-----"
    masker = Masker.of([key])
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in masker.text("line: b3BlbnNzaC1rZXktdjEAAAAA")
    assert mask_private_keys(f"before\n{key}\nafter") == "before\n-----PRIVATE KEY REMOVED-----\nafter"
