"""Where things live in a checkout: the project root and its well-known folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT_MARKERS = ("mkdocs.yml", "pyproject.toml")


def find_root(start: Path | None = None) -> Path:
    """The project root: ``$KB_ROOT`` if set, else the nearest parent holding mkdocs.yml and pyproject.toml."""
    env = os.environ.get("KB_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if all((candidate / m).exists() for m in ROOT_MARKERS):
            return candidate
    return here


@dataclass(frozen=True)
class ProjectPaths:
    """The folders of one checkout."""

    root: Path

    @classmethod
    def discover(cls, start: Path | None = None) -> ProjectPaths:
        return cls(find_root(start))

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def issues(self) -> Path:
        return self.root / "issues"

    @property
    def runbooks(self) -> Path:
        return self.root / "runbooks"

    @property
    def profiles(self) -> Path:
        return self.root / "profiles"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def lab(self) -> Path:
        return self.root / ".lab"

    @property
    def site(self) -> Path:
        return self.root / "site"
