"""platform_kb.results: the one result type, and what reaches a record."""

from __future__ import annotations

import pytest

from platform_kb.results import Check, has_errors


def test_constructors_say_which_way_it_came_out() -> None:
    assert Check.passed("ui", "UI").ok
    failed = Check.failed("ui", "UI", "503", {"url": "/x"}, severity="warning", fix="고치기")
    assert (failed.status, failed.severity, failed.ok) == ("warning", "warning", False)
    skipped = Check.skipped("ui", "UI", "verify=false")
    assert (skipped.status, skipped.severity, skipped.ok) == ("skip", "info", False)
    assert Check.judged(True, "a", "A").status == "ok"
    assert Check.judged(False, "a", "A", severity="warning").status == "warning"


def test_an_unknown_status_or_a_failure_called_ok_is_refused() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        Check("x", "fail", "X")
    with pytest.raises(ValueError, match="severity must be one of"):
        Check.failed("x", "X", severity="ok")


def test_only_a_problem_becomes_a_finding_and_it_keeps_the_record_shape() -> None:
    finding = Check.failed("suffix-mismatch", "접미사", "d", {"k": "v"}, fix="f").as_finding()
    assert finding == {
        "id": "suffix-mismatch",
        "severity": "error",
        "title": "접미사",
        "detail": "d",
        "evidence": {"k": "v"},
        "fix": "f",
        "remedies": [],
    }
    with pytest.raises(ValueError, match="only a problem"):
        Check.passed("ui", "UI").as_finding()


def test_has_errors_counts_errors_only() -> None:
    results = [
        Check.passed("a", "A"),
        Check.failed("b", "B", severity="warning"),
        Check.skipped("c", "C", "-"),
    ]
    assert not has_errors(results)
    assert has_errors([*results, Check.failed("d", "D")])
