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


@pytest.fixture(scope="session")
def checkout_problems(kb: Callable[..., Any], repo_root: Path) -> set[str]:
    """What `kb check` reports on the checkout itself (normally nothing)."""
    return check_problems(kb, repo_root)


def assert_check_accepts(kb: Callable[..., Any], repo: Path, baseline: set[str]) -> None:
    """`kb check` finds nothing in the copy beyond what it finds in the checkout itself (normally
    nothing at all: then this is simply "kb check passes")."""
    assert check_problems(kb, repo) - baseline == set()


def front_matter(path: Path) -> dict:
    return yaml.safe_load(split_front_matter(path.read_text(encoding="utf-8"))[0])


def test_new_issue_fills_front_matter_and_passes_check(
    kb: Callable[..., Any], repo_copy: Path, checkout_problems: set[str]
) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    result = kb("new", "issue", "3-21", "Spark History Server 로그 누락", "--participant", "홍길동", env=env)
    assert result.returncode == 0, result.stderr
    path = repo_copy / "issues" / "3-21-spark-history-server.md"
    assert "created issues/3-21-spark-history-server.md" in result.stdout
    assert "use the spellings of the glossary docs/glossary.md (용어집)" in result.stdout
    data = front_matter(path)
    assert data["id"] == "3-21" and data["title"] == "Spark History Server 로그 누락"
    assert str(data["date"]) == dt.date.today().isoformat()
    assert data["status"] == "planned"
    assert data["participants"] == ["홍길동"]
    assert data["components"] == [] and data["runbooks"] == [] and data["tags"] == []
    text = path.read_text(encoding="utf-8")
    for heading in REQUIRED_HEADINGS:
        assert f"\n## {heading}\n" in text
    assert parse_writeup(path).id == "3-21"
    assert_check_accepts(kb, repo_copy, checkout_problems)


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
        (["3-21", ""], "title"),
        (["3-21", "제목", "--slug", "Not A Slug"], "slug"),
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
    kb: Callable[..., Any], repo_copy: Path, checkout_problems: set[str]
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
    assert_check_accepts(kb, repo_copy, checkout_problems)


def test_new_runbook_parses_runs_and_passes_check(
    kb: Callable[..., Any], repo_copy: Path, checkout_problems: set[str]
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
    assert_check_accepts(kb, repo_copy, checkout_problems)


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


def test_new_runbook_links_to_its_write_up(
    kb: Callable[..., Any], repo_copy: Path, checkout_problems: set[str]
) -> None:
    env = {"KB_ROOT": str(repo_copy)}
    assert kb("new", "issue", "3-21", "MinIO 로그 경로", env=env).returncode == 0
    result = kb("new", "runbook", "minio-log-path", "--issue", "3-21", env=env)
    assert result.returncode == 0, result.stderr
    assert "updated issues/3-21-minio.md" in result.stdout
    assert front_matter(repo_copy / "issues" / "3-21-minio.md")["runbooks"] == ["minio-log-path"]
    assert_check_accepts(kb, repo_copy, checkout_problems)
    missing = kb("new", "runbook", "other", "--issue", "9-9", env=env)
    assert missing.returncode == 2 and not (repo_copy / "runbooks" / "other.py").exists()


def test_runbook_test_stub_is_lint_clean(kb: Callable[..., Any], repo_copy: Path) -> None:
    """The generated tests/runbooks/test_<id>.py passes ruff as the rest of tests/ must (the page test runs it)."""
    assert kb("new", "runbook", "stub-demo", env={"KB_ROOT": str(repo_copy)}).returncode == 0
    stub = repo_copy / "tests" / "runbooks" / "test_stub_demo.py"
    for args in (
        ["check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "110"],
        ["format", "--check", "--isolated", "--line-length", "110"],
    ):
        done = subprocess.run(
            [str(VENV_BIN / "ruff"), *args, str(stub)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
