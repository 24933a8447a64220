"""The gates a contributor gets without asking: the pre-commit hooks and the example publishing workflow."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

VENV = Path(sys.executable).parent.parent


@pytest.fixture()
def git_copy(repo_copy: Path, tmp_path: Path) -> Path:
    """The temp copy as its own git repository (pre-commit needs one), using this checkout's .venv."""
    (repo_copy / ".venv").symlink_to(VENV)
    subprocess.run(["git", "init", "-q", str(repo_copy)], check=True, capture_output=True)
    return repo_copy


def pre_commit(repo: Path, tmp_path: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("KB_ROOT", None)
    return subprocess.run(
        [str(repo / ".venv" / "bin" / "pre-commit"), "run", "--color", "never", "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def hook_results(output: str) -> dict[str, str]:
    """'ruff check (lint)......Passed' -> {'ruff check (lint)': 'Passed'}."""
    results = {}
    for line in output.splitlines():
        for word in ("Passed", "Failed", "Skipped"):
            if line.endswith(word) and "..." in line:
                results[line.split("...")[0].rstrip(".").strip()] = word
    return results


def test_pre_commit_config_is_valid(repo_root: Path) -> None:
    done = subprocess.run(
        [str(VENV / "bin" / "pre-commit"), "validate-config", str(repo_root / ".pre-commit-config.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = {
        h["id"]: h
        for h in yaml.safe_load((repo_root / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    }
    assert set(hooks) == {"ruff-check", "ruff-format", "jupytext-runbooks", "kb-check"}
    assert all(h["entry"].startswith((".venv/bin/", "bash -c")) for h in hooks.values())


def test_pre_commit_passes_on_kb_new_output(
    kb: Callable[..., Any], git_copy: Path, tmp_path: Path, repo_root: Path
) -> None:
    env = {"KB_ROOT": str(git_copy)}
    assert kb("new", "issue", "3-21", "Spark 로그", env=env).returncode == 0
    assert kb("new", "runbook", "history-logs", "--issue", "3-21", env=env).returncode == 0
    files = ["issues/3-21-spark.md", "runbooks/history-logs.py", "tests/runbooks/test_history_logs.py"]
    done = pre_commit(git_copy, tmp_path, *files)
    results = hook_results(done.stdout)
    assert results["ruff check (lint)"] == "Passed" and results["ruff format"] == "Passed", done.stdout
    assert results["runbooks parse as jupytext notebooks"] == "Passed", done.stdout
    assert results["kb check"] == "Passed", done.stdout
    assert done.returncode == 0


def test_pre_commit_stops_a_broken_runbook_and_lint_errors(git_copy: Path, tmp_path: Path) -> None:
    (git_copy / "runbooks" / "broken.py").write_text(
        "# %% [markdown]\n# # 깨진 런북\n\n# %%\nx = (\n", encoding="utf-8"
    )
    probe = git_copy / "src" / "platform_kb" / "lint_probe.py"
    probe.write_text('"""Probe."""\nimport os,sys\n', encoding="utf-8")
    done = pre_commit(git_copy, tmp_path, "runbooks/broken.py", "src/platform_kb/lint_probe.py")
    results = hook_results(done.stdout)
    assert done.returncode == 1
    assert results["kb check"] == "Failed" and "runbooks/broken.py" in done.stdout
    assert results["ruff check (lint)"] == "Failed" and "F401" in done.stdout


def test_publish_workflow_builds_and_deploys_site(repo_root: Path) -> None:
    workflow = yaml.safe_load((repo_root / ".github" / "workflows" / "publish-site.yml").read_text())
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = [s.get("run", "") for s in build["steps"]]
    uses = [s.get("uses", "") for s in build["steps"]]
    assert "scripts/setup --no-lab" in runs and ".venv/bin/kb docs build" in runs
    assert runs.index("scripts/setup --no-lab") < runs.index(".venv/bin/kb docs build")
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site"
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
