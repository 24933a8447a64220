"""`kb new issue` / `kb new runbook`: what they write passes `kb check`, parses, runs and builds.

Every test works in a temp copy of the checkout (KB_ROOT=<copy>); the real issues/ and runbooks/
are never written.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jupytext
import pytest
import yaml

from platform_kb.runner.params import parse_parameters
from platform_kb.writeups import REQUIRED_HEADINGS, parse_writeup, split_front_matter

VENV_BIN = Path(sys.executable).parent


def check_problems(kb: Callable[..., Any], root: Path) -> set[str]:
    result = kb("check", env={"KB_ROOT": str(root)})
    assert result.returncode in (0, 2), result.stderr
    return {line for line in result.stderr.splitlines() if line and not line.startswith("kb: error:")}


def assert_check_accepts(kb: Callable[..., Any], repo: Path, repo_root: Path) -> None:
    """`kb check` finds nothing in the copy beyond what it finds in the checkout itself (normally
    nothing at all: then this is simply "kb check passes")."""
    assert check_problems(kb, repo) - check_problems(kb, repo_root) == set()


def front_matter(path: Path) -> dict:
    return yaml.safe_load(split_front_matter(path.read_text(encoding="utf-8"))[0])


def test_new_issue_fills_front_matter_and_passes_check(
    kb: Callable[..., Any], repo_copy: Path, repo_root: Path
) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    result = kb("new", "issue", "3-11", "Spark History Server 로그 누락", "--participant", "홍길동", env=env)
    assert result.returncode == 0, result.stderr
    path = repo_copy / "issues" / "3-11-spark-history-server.md"
    assert "created issues/3-11-spark-history-server.md" in result.stdout
    data = front_matter(path)
    assert data["id"] == "3-11" and data["title"] == "Spark History Server 로그 누락"
    assert str(data["date"]) == dt.date.today().isoformat()
    assert data["status"] == "planned"
    assert data["participants"] == ["홍길동"]
    assert data["components"] == [] and data["runbooks"] == [] and data["tags"] == []
    text = path.read_text(encoding="utf-8")
    for heading in REQUIRED_HEADINGS:
        assert f"\n## {heading}\n" in text
    assert parse_writeup(path).id == "3-11"
    assert_check_accepts(kb, repo_copy, repo_root)


def test_new_issue_refuses_an_existing_id(kb: Callable[..., Any], repo_copy: Path) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    before = sorted(p.name for p in (repo_copy / "issues").iterdir())
    seeded = next(p for p in (repo_copy / "issues").glob("3-10-*.md"))
    original = seeded.read_text(encoding="utf-8")
    result = kb("new", "issue", "3-10", "다른 제목", env=env)
    assert result.returncode == 2
    assert "3-10 already exists" in result.stderr
    assert sorted(p.name for p in (repo_copy / "issues").iterdir()) == before
    assert seeded.read_text(encoding="utf-8") == original
    assert kb("new", "issue", "3-12", "first", env=env).returncode == 0
    again = kb("new", "issue", "3-12", "second title", env=env)
    assert again.returncode == 2 and "3-12 already exists" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["3.11", "제목"], "issue id"),
        (["3-11", ""], "title"),
        (["3-11", "제목", "--slug", "Not A Slug"], "slug"),
    ],
)
def test_new_issue_bad_input_exits_2(
    kb: Callable[..., Any], repo_copy: Path, args: list[str], message: str
) -> None:
    before = sorted(p.name for p in (repo_copy / "issues").iterdir())
    result = kb("new", "issue", *args, env={"KB_ROOT": str(repo_copy)})
    assert result.returncode == 2 and message in result.stderr
    assert sorted(p.name for p in (repo_copy / "issues").iterdir()) == before


def test_korean_title_falls_back_to_a_plain_slug(
    kb: Callable[..., Any], repo_copy: Path, repo_root: Path
) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    assert kb("new", "issue", "4-1", "모니터링 스택 구축", env=env).returncode == 0
    assert (repo_copy / "issues" / "4-1-write-up.md").is_file()
    assert (
        kb(
            "new", "issue", "4-2", "모니터링 스택 구축", "--slug", "monitoring", "--status", "open", env=env
        ).returncode
        == 0
    )
    assert front_matter(repo_copy / "issues" / "4-2-monitoring.md")["status"] == "open"
    assert_check_accepts(kb, repo_copy, repo_root)


def test_new_runbook_parses_runs_and_passes_check(
    kb: Callable[..., Any], repo_copy: Path, repo_root: Path
) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    result = kb("new", "runbook", "history-logs", "--title", "히스토리 서버 로그 점검", env=env)
    assert result.returncode == 0, result.stderr
    path = repo_copy / "runbooks" / "history-logs.py"
    stub = repo_copy / "tests" / "runbooks" / "test_history_logs.py"
    assert path.is_file() and stub.is_file()
    # jupytext reads it as a percent notebook, in-process and through its own CLI
    nb = jupytext.read(path, fmt="py:percent")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# 히스토리 서버 로그 점검")
    cli = subprocess.run(
        [str(VENV_BIN / "jupytext"), "--to", "ipynb", "--output", "-", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0 and '"cells"' in cli.stdout
    specs = {s.name: s for s in parse_parameters(nb)}
    assert list(specs) == ["target", "threshold", "mode"]
    assert specs["mode"].choices == ("check", "fix") and specs["threshold"].high == 100
    assert all(s.description for s in specs.values())
    compile(stub.read_text(encoding="utf-8"), str(stub), "exec")
    # plain script and plan mode both finish
    for extra in ({}, {"KB_PLAN": "1"}):
        run = subprocess.run(
            [sys.executable, str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, **extra},
            check=False,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert "[passed] 현재 상태 읽기" in run.stdout and "[skipped] 조치" in run.stdout
    assert_check_accepts(kb, repo_copy, repo_root)


def test_new_runbook_refuses_existing_and_bad_ids(kb: Callable[..., Any], repo_copy: Path) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    assert kb("new", "runbook", "dup-check", env=env).returncode == 0
    text = (repo_copy / "runbooks" / "dup-check.py").read_text(encoding="utf-8")
    again = kb("new", "runbook", "dup-check", "--title", "다른 것", env=env)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert (repo_copy / "runbooks" / "dup-check.py").read_text(encoding="utf-8") == text
    for bad in ("Bad_Id", "-x", "index"):
        result = (
            kb("new", "runbook", "--", bad, env=env)
            if bad.startswith("-")
            else kb("new", "runbook", bad, env=env)
        )
        assert result.returncode == 2, (bad, result.stderr)
    assert not (repo_copy / "runbooks" / "Bad_Id.py").exists()


def test_new_runbook_links_to_its_write_up(kb: Callable[..., Any], repo_copy: Path, repo_root: Path) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    assert kb("new", "issue", "3-11", "MinIO 로그 경로", env=env).returncode == 0
    result = kb("new", "runbook", "minio-log-path", "--issue", "3-11", env=env)
    assert result.returncode == 0, result.stderr
    assert "updated issues/3-11-minio.md" in result.stdout
    assert front_matter(repo_copy / "issues" / "3-11-minio.md")["runbooks"] == ["minio-log-path"]
    assert_check_accepts(kb, repo_copy, repo_root)
    missing = kb("new", "runbook", "other", "--issue", "9-9", env=env)
    assert missing.returncode == 2 and not (repo_copy / "runbooks" / "other.py").exists()


def test_new_issue_and_runbook_appear_in_the_built_site(kb: Callable[..., Any], repo_copy: Path) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    assert kb("new", "issue", "3-11", "Spark History Server 로그 누락", env=env).returncode == 0
    assert (
        kb(
            "new", "runbook", "history-logs", "--issue", "3-11", "--title", "히스토리 서버 로그 점검", env=env
        ).returncode
        == 0
    )
    build = kb("docs", "build", env=env, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    site = repo_copy / "site"
    issue_page = next(site.rglob("3-11-spark-history-server/index.html"))
    assert "Spark History Server 로그 누락" in issue_page.read_text(encoding="utf-8")
    runbook_page = next(site.rglob("history-logs/index.html"))
    assert "히스토리 서버 로그 점검" in runbook_page.read_text(encoding="utf-8")
    indexes = "".join(
        p.read_text(encoding="utf-8")
        for p in site.rglob("index.html")
        if p.parent.name in ("issues", "runbooks")
    )
    assert "3-11" in indexes and "history-logs" in indexes


def test_runbook_test_stub_passes_under_kb_run(kb: Callable[..., Any], repo_copy: Path) -> None:
    """The generated tests/runbooks/test_<id>.py runs the runbook with `kb run` (plan and normal) and passes."""
    assert kb("new", "runbook", "stub-demo", env={"KB_ROOT": str(repo_copy)}).returncode == 0
    stub = repo_copy / "tests" / "runbooks" / "test_stub_demo.py"
    env = {k: v for k, v in os.environ.items() if k != "KB_ROOT"}
    lint = subprocess.run(
        [str(VENV_BIN / "ruff"), "check", str(stub)],
        cwd=repo_copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [str(VENV_BIN / "ruff"), "format", "--check", str(stub)],
        cwd=repo_copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fmt.returncode == 0, fmt.stdout
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(stub)],
        cwd=repo_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    assert not (repo_copy / "runs").exists()  # records went to the test's tmp_path
