"""Write-up model: front matter parsing, dates, headings, template, loading order."""

from __future__ import annotations

import datetime as dt

import pytest

from platform_kb.writeups import (
    REQUIRED_HEADINGS,
    DateRange,
    WriteupError,
    heading_problems,
    load_writeups,
    parse_writeup,
    render_template,
    slugify_title,
)


def test_the_real_writeup_parses(writeup_name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "issues" / f"{writeup_name}.md"
    writeup = parse_writeup(path)
    assert writeup.id == "3-10"
    assert writeup.date == DateRange(dt.date(2026, 1, 3), dt.date(2026, 1, 4))
    assert str(writeup.date) == "2026-01-03 ~ 2026-01-04"
    assert writeup.participants == ("임성현", "Gemini")
    assert writeup.status_label == "해결됨"
    assert {"airflow", "spark-operator", "spark-history-server", "minio"} <= set(writeup.components)
    assert writeup.slug == writeup_name
    assert writeup.body.lstrip().startswith("## 개요")


def test_single_day_and_range():
    assert str(DateRange.parse("2026-01-03")) == "2026-01-03"
    assert DateRange.parse("2026-01-03~2026-01-05").end == dt.date(2026, 1, 5)
    with pytest.raises(ValueError, match="before it starts"):
        DateRange.parse("2026-01-05 ~ 2026-01-03")


def test_headings_in_fenced_code_do_not_count():
    body = "\n".join(f"## {h}" for h in REQUIRED_HEADINGS[:-1]) + "\n```\n## 참고 자료\n# not a title\n```\n"
    assert heading_problems(body) == [
        f"heading '## 참고 자료' missing (required, in this order: {', '.join(REQUIRED_HEADINGS)})"
    ]


def test_headings_out_of_order():
    body = "\n".join(f"## {h}" for h in reversed(REQUIRED_HEADINGS))
    assert any("out of order" in p for p in heading_problems(body))


def test_template_renders_a_valid_writeup(tmp_path):
    text = render_template(
        "4-2", 'Grafana "대시보드": 구성', date=dt.date(2026, 2, 1), participants=["임성현"]
    )
    path = tmp_path / "4-2-grafana.md"
    path.write_text(text, encoding="utf-8")
    writeup = parse_writeup(path)
    assert writeup.title == 'Grafana "대시보드": 구성'
    assert writeup.status == "open" and writeup.runbooks == ()
    assert str(writeup.date) == "2026-02-01"


def test_load_sorts_by_numeric_id_and_skips_underscore_files(tmp_path):
    for issue_id in ("3-10", "3-9", "10-1"):
        (tmp_path / f"{issue_id}-x.md").write_text(render_template(issue_id, "t"), encoding="utf-8")
    (tmp_path / "_draft.md").write_text("not a write-up", encoding="utf-8")
    assert [w.id for w in load_writeups(tmp_path)] == ["3-9", "3-10", "10-1"]


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "3-10-x.md"
    path.write_text("---\nid: '3-10'\nstatus: done\n---\n# 제목\n", encoding="utf-8")
    with pytest.raises(WriteupError) as info:
        parse_writeup(path)
    problems = info.value.problems
    assert any("status: 'done'" in p for p in problems)
    assert any("'title' is a required property" in p for p in problems)
    assert any(p.startswith("line 5: H1") for p in problems)
    assert sum("missing" in p for p in problems) == len(REQUIRED_HEADINGS)
    assert info.value.exit_code == 2


def test_slugify_title():
    assert slugify_title("Spark UI 503 on ingress!") == "spark-ui-503-on-ingress"
    assert slugify_title("인그레스 문제") == "write-up"
