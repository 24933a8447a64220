"""Runbook site pages: parameters, how to run, and a published record, through a strict site build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from platform_kb.site.runbooks import read_runbook_info, render_runbook_page

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = Path(__file__).parent / "runbooks"


def _site_copy(project: Path) -> None:
    """What `kb docs build` reads: mkdocs.yml, docs/ (without generated pages), issues/, runbooks/."""
    shutil.copy(REPO / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(REPO / "docs", project / "docs", ignore=shutil.ignore_patterns("_generated"))
    shutil.copytree(REPO / "issues", project / "issues")
    shutil.copytree(REPO / "runbooks", project / "runbooks")
    for name in ("ok", "fail", "plan"):
        shutil.copy(RUNBOOKS / f"{name}.py", project / "runbooks" / f"kbtest-{name}.py")
        text = (project / "runbooks" / f"kbtest-{name}.py").read_text()
        (project / "runbooks" / f"kbtest-{name}.py").write_text(
            text.replace(f'runbook.start("{name}")', f'runbook.start("kbtest-{name}")')
        )


def test_page_without_record(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    path = tmp_path / "runbooks" / "ok.py"
    shutil.copy(RUNBOOKS / "ok.py", path)
    page = render_runbook_page(read_runbook_info(path))
    assert page.startswith("# 테스트 런북\n")
    assert "## 목적\n\n성공하는 작은 런북입니다." in page
    assert "## 준비물\n\n- 없음" in page
    assert "| `count` | `int` | `2` | 1..10 | 반복 횟수 |" in page
    assert '| `mode` | `str` | `"check"` | check / fix | 실행 모드 |' in page
    assert "kb run ok\n" in page and "papermill /tmp/ok.ipynb /tmp/ok-output.ipynb -k python3" in page
    assert "jupytext --to ipynb --output /tmp/ok.ipynb runbooks/ok.py" in page
    assert "아직 공개된 기록이 없다" in page


@pytest.mark.slow
def test_published_records_render_in_a_strict_build(kb, project: Path, tmp_path: Path) -> None:
    _site_copy(project)
    work = tmp_path / "work"
    work.mkdir()
    assert kb("run", "kbtest-ok", "-p", "name", "기록").returncode == 0
    assert kb("run", "kbtest-fail").returncode == 1
    assert kb("run", "kbtest-plan", "--plan", "-p", "workdir", str(work)).returncode == 0
    for rid in ("kbtest-ok", "kbtest-fail", "kbtest-plan"):
        published = kb("runs", "publish", rid)
        assert published.returncode == 0, published.output
    built = kb("docs", "build")
    assert built.returncode == 0, built.output

    generated = project / "docs" / "_generated" / "runbooks"
    ok = (generated / "kbtest-ok.md").read_text()
    assert "## 공개된 실행 기록" in ok and "| 상태 | 통과 |" in ok
    assert "| `just-info` | 정보 | 정보성 발견 | 설명 | 없음 |" in ok
    assert "```text\nhello 기록 0\nhello 기록 1\n```" in ok
    assert "**기록** 에게 2번 인사했습니다." in ok  # rb.say Markdown output, as Markdown
    fail = (generated / "kbtest-fail.md").read_text()
    assert "오류(셀 예외)" in fail and "단계 「망가지는 단계」에서 예외가 났다" in fail
    assert '!!! failure "셀에서 예외 발생"' in fail and "papermill-error-cell" not in fail
    plan = (generated / "kbtest-plan.md").read_text()
    assert "### 계획된 작업 (실행하지 않음)" in plan and "kind: ConfigMap" in plan
    index = (generated / "index.md").read_text()
    assert "[`kbtest-ok`](kbtest-ok.md)" in index

    html = (project / "site" / "_generated" / "runbooks" / "kbtest-ok" / "index.html").read_text()
    assert "정보성 발견" in html and "<table>" in html
    summary = json.loads((project / "records" / "kbtest-ok" / "summary.json").read_text())
    assert summary["status"] == "passed"
