"""Where generated pages live, and which site page a repository file becomes.

Where it sits: shared by :mod:`platform_kb.site.generate` (writes the pages) and
:mod:`platform_kb.check` (resolves links to pages that are generated, not yet written).
Generated pages go to ``docs/_generated/`` (git-ignored): ``issues/index.md``,
``issues/<id>-<slug>.md``, ``runbooks/index.md``, ``runbooks/<id>.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..paths import ProjectPaths
from ..writeups import writeup_paths

GENERATED = "_generated"


def runbook_paths(runbooks_dir: Path) -> list[Path]:
    """The runbooks of a project: ``runbooks/*.py`` except files starting with ``_``."""
    if not runbooks_dir.is_dir():
        return []
    return sorted(p for p in runbooks_dir.glob("*.py") if not p.name.startswith("_"))


@dataclass(frozen=True)
class SiteLayout:
    """The generated part of the docs tree of one checkout."""

    paths: ProjectPaths

    @property
    def generated_dir(self) -> Path:
        return self.paths.docs / GENERATED

    @property
    def issues_dir(self) -> Path:
        return self.generated_dir / "issues"

    @property
    def runbooks_dir(self) -> Path:
        return self.generated_dir / "runbooks"

    def issue_page(self, writeup_path: Path) -> Path:
        return self.issues_dir / f"{writeup_path.stem}.md"

    def runbook_page(self, runbook_id: str) -> Path:
        return self.runbooks_dir / f"{runbook_id}.md"

    def planned_pages(self) -> set[Path]:
        """Every page generation writes (index pages included), whether or not it exists yet."""
        pages = {self.issues_dir / "index.md", self.runbooks_dir / "index.md"}
        pages |= {self.issue_page(p) for p in writeup_paths(self.paths.issues)}
        pages |= {self.runbook_page(p.stem) for p in runbook_paths(self.paths.runbooks)}
        return pages

    def page_for(self, repo_file: Path) -> Path | None:
        """The docs page a repository file is published as, or None when it is not published."""
        repo_file = Path(os.path.normpath(repo_file))
        docs = self.paths.docs
        if repo_file.is_relative_to(docs):
            return repo_file
        if repo_file.parent == self.paths.issues and repo_file.suffix == ".md":
            return self.issue_page(repo_file) if repo_file in writeup_paths(self.paths.issues) else None
        if repo_file.parent == self.paths.runbooks and repo_file.suffix == ".py":
            return (
                self.runbook_page(repo_file.stem) if repo_file in runbook_paths(self.paths.runbooks) else None
            )
        return None


def relative_link(from_page: Path, to_page: Path, anchor: str = "") -> str:
    """A relative Markdown link from one docs page to another (POSIX separators)."""
    link = Path(os.path.relpath(to_page, from_page.parent)).as_posix()
    return f"{link}#{anchor}" if anchor else link
