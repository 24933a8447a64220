"""The write-up page shows, beside the write-up, the latest published record of each runbook it names."""

from __future__ import annotations

import json
import re
from html import unescape

WRITEUP = "3-10-airflow-spark-operator-ui-ingress"


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _record(status: str, findings: list[str], scenario: str) -> dict:
    return {
        "runbook": "spark-ui-ingress",
        "title": "Spark UI 인그레스 진단",
        "run": "20260101T000000Z",
        "started": "2026-01-01T00:00:00Z",
        "status": status,
        "plan_mode": False,
        "parameters": {},
        "steps": [],
        "findings": [{"id": f, "severity": "error", "title": f, "detail": "", "fix": ""} for f in findings],
        "plan": [],
        "context": {"profile": "lab", "lab_scenario": scenario},
    }


def test_committed_lab_record_is_shown_beside_the_writeup(built_site):
    """records/spark-ui-ingress/ (published from the lab's proxybase-root scenario) appears on the #3-10 page."""
    summary = json.loads(
        (built_site.project.root / "records" / "spark-ui-ingress" / "summary.json").read_text()
    )
    assert summary["context"]["lab_scenario"] == "proxybase-root"
    html = built_site.page("_generated", "issues", WRITEUP).read_text(encoding="utf-8")
    box = html[html.index("런북 최근 실행 기록") :]
    box = box[: box.index("</table>")]
    text = _text(box)
    assert "spark-ui-ingress" in text
    assert "proxybase-root 시나리오" in text
    for finding in summary["findings"]:
        assert finding["id"] in text
    # the runbook cell links to the record section of the runbook page
    assert re.search(r'href="[^"]*runbooks/spark-ui-ingress/#공개된-실행-기록"', unescape(box))


def test_record_box_follows_the_published_record(make_project):
    project = make_project(with_runbooks=True)
    folder = project.root / "records" / "spark-ui-ingress"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(_record("passed", [], "healthy")), encoding="utf-8")
    (folder / "output.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    result = project.kb("docs", "build")
    assert result.returncode == 0, result.stderr
    html = (project.root / "site" / "_generated" / "issues" / WRITEUP / "index.html").read_text(
        encoding="utf-8"
    )
    text = _text(html[html.index("런북 최근 실행 기록") :])
    assert "통과" in text and "healthy 시나리오" in text and "없음" in text


def test_no_record_box_without_published_records(make_project):
    project = make_project(with_runbooks=True)
    records = project.root / "records"
    if records.exists():
        import shutil

        shutil.rmtree(records)
    result = project.kb("docs", "build")
    assert result.returncode == 0, result.stderr
    html = (project.root / "site" / "_generated" / "issues" / WRITEUP / "index.html").read_text(
        encoding="utf-8"
    )
    assert "런북 최근 실행 기록" not in html
