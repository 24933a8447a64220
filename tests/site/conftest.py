"""Fixtures for the site and ``kb check`` tests: throw-away copies of the project, the ``kb`` command.

Every test works on a copy under tmp (selected with ``KB_ROOT``), never on the real ``issues/``,
``docs/`` or ``site/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WRITEUP = "3-10-airflow-spark-operator-ui-ingress"

SAMPLE_RUNBOOK = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 샘플 진단 런북
#
# 인그레스 NodePort 30998까지 닿는지 확인하는 테스트용 런북이다.
#
# ## 준비물
#
# - 로컬 랩

# %% tags=["parameters"]
ingress_nodeport: int = 30998  # NodePort of ingress-nginx

# %%
print(ingress_nodeport)
"""


@dataclass(frozen=True)
class Project:
    """A copy of the project the ``kb`` command is pointed at with ``KB_ROOT``."""

    root: Path

    @property
    def writeup(self) -> Path:
        return self.root / "issues" / f"{WRITEUP}.md"

    def env(self) -> dict[str, str]:
        return {**os.environ, "KB_ROOT": str(self.root), "NO_MKDOCS_2_WARNING": "1"}

    def kb(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the real ``kb`` console script on this copy."""
        return subprocess.run(
            [kb_executable(), *args],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def set_front_matter(self, old: str, new: str) -> None:
        text = self.writeup.read_text(encoding="utf-8")
        assert old in text, old
        self.writeup.write_text(text.replace(old, new, 1), encoding="utf-8")


def kb_executable() -> str:
    candidate = Path(sys.executable).with_name("kb")
    return str(candidate) if candidate.exists() else shutil.which("kb") or "kb"


def copy_project(dest: Path, with_runbooks: bool = True) -> Project:
    """Copy what the site and ``kb check`` read: mkdocs.yml, pyproject.toml, docs/, issues/, records/, runbooks/."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "docs", dest / "docs", ignore=shutil.ignore_patterns("_generated"))
    shutil.copytree(REPO / "issues", dest / "issues")
    if (REPO / "records").is_dir():  # published run records (kb runs publish)
        shutil.copytree(REPO / "records", dest / "records")
    (dest / "runbooks").mkdir()
    if with_runbooks and (REPO / "runbooks").is_dir():
        for runbook in (REPO / "runbooks").glob("*.py"):
            shutil.copy2(runbook, dest / "runbooks" / runbook.name)
    elif not with_runbooks:
        _drop_runbook_references(dest)
    return Project(dest)


def _drop_runbook_references(root: Path) -> None:
    """Without runbooks/, nothing links to a runbook: write-ups get ``runbooks: []`` and links to
    runbook files or runbook pages (in write-ups and hand-written pages) become their plain text."""
    for writeup in (root / "issues").glob("*.md"):
        text = writeup.read_text(encoding="utf-8")
        text = re.sub(r"^runbooks: \[.*\]$", "runbooks: []", text, count=1, flags=re.M)
        text = re.sub(r"\[([^\]]+)\]\(\.\./runbooks/[^)]+\)", r"\1", text)
        writeup.write_text(text, encoding="utf-8")
    for page in (root / "docs").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        text = re.sub(r"\[([^\]]+)\]\((?:\.\./)*_generated/runbooks/(?!index\.md)[^)]+\)", r"\1", text)
        page.write_text(text, encoding="utf-8")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """A fresh copy per call; ``with_runbooks=False`` leaves runbooks/ empty."""
    counter = iter(range(1000))

    def make(with_runbooks: bool = False) -> Project:
        return copy_project(tmp_path / f"project{next(counter)}", with_runbooks=with_runbooks)

    return make


@pytest.fixture(scope="session")
def writeup_name() -> str:
    return WRITEUP


@pytest.fixture(scope="session")
def sample_runbook() -> str:
    return SAMPLE_RUNBOOK


@dataclass(frozen=True)
class BuiltSite:
    project: Project
    site: Path
    stdout: str

    def page(self, *parts: str) -> Path:
        return self.site.joinpath(*parts, "index.html")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The real content (docs, write-ups, runbooks) built once with ``kb docs build``."""
    project = copy_project(tmp_path_factory.mktemp("built"), with_runbooks=True)
    result = project.kb("docs", "build")
    assert result.returncode == 0, result.stdout + result.stderr
    return BuiltSite(project, project.root / "site", result.stdout)
