"""Find and read a runbook: ``runbooks/<id>.py`` (jupytext percent) or a path to ``.py`` / ``.ipynb``.

Where this sits in the flow: first step of ``execute.run_runbook`` and of ``kb run ID --help``;
the site's runbook pages read the same :class:`RunbookSource`.

What a page shows comes from the runbook's markdown, by convention:

* title — the first ``# 제목`` heading;
* purpose — the text between that heading and the next heading;
* prerequisites — the section under a heading named ``준비물``, ``사전 준비``, ``전제 조건`` or
  ``Prerequisites`` (up to the next heading of the same or a higher level).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

from ..errors import UsageProblem
from ..paths import ProjectPaths
from .params import ParamSpec, parse_parameters

SUFFIXES = (".py", ".ipynb")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_PREREQ = re.compile(r"준비물|사전\s*준비|전제\s*조건|필요한\s*것|prerequisite", re.IGNORECASE)


@dataclass(frozen=True)
class RunbookSource:
    id: str
    path: Path
    nb: nbformat.NotebookNode = field(repr=False)
    params: list[ParamSpec] = field(default_factory=list)

    @property
    def markdown(self) -> str:
        return "\n\n".join(c.source for c in self.nb.cells if c.cell_type == "markdown")

    @property
    def title(self) -> str:
        for line in self.markdown.splitlines():
            match = _HEADING.match(line)
            if match and len(match.group(1)) == 1:
                return match.group(2)
        return self.id

    @property
    def purpose(self) -> str:
        lines = self.markdown.splitlines()
        start = next(
            (i for i, line in enumerate(lines) if (m := _HEADING.match(line)) and len(m.group(1)) == 1), -1
        )
        body: list[str] = []
        for line in lines[start + 1 :]:
            if _HEADING.match(line):
                break
            body.append(line)
        return "\n".join(body).strip()

    @property
    def prerequisites(self) -> str:
        lines = self.markdown.splitlines()
        for i, line in enumerate(lines):
            match = _HEADING.match(line)
            if match and _PREREQ.search(match.group(2)):
                level = len(match.group(1))
                body: list[str] = []
                for rest in lines[i + 1 :]:
                    other = _HEADING.match(rest)
                    if other and len(other.group(1)) <= level:
                        break
                    body.append(rest)
                return "\n".join(body).strip()
        return ""


def available_ids(paths: ProjectPaths) -> list[str]:
    if not paths.runbooks.is_dir():
        return []
    return sorted(
        {
            p.stem
            for p in paths.runbooks.iterdir()
            if p.suffix in SUFFIXES and not p.name.startswith((".", "_"))
        }
    )


def locate_runbook(ref: str, paths: ProjectPaths) -> Path:
    """An id (``runbooks/<id>.py`` or ``.ipynb``) or a path to a runbook file."""
    direct = Path(ref).expanduser()
    if direct.suffix in SUFFIXES or "/" in ref:
        if direct.is_file() and direct.suffix in SUFFIXES:
            return direct.resolve()
        raise UsageProblem(f"runbook file not found (a .py percent file or .ipynb): {ref}")
    for suffix in SUFFIXES:
        candidate = paths.runbooks / f"{ref}{suffix}"
        if candidate.is_file():
            return candidate
    known = ", ".join(available_ids(paths)) or "none"
    raise UsageProblem(f"runbook {ref!r} not found in {paths.runbooks} (available: {known})")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        nb = jupytext.read(path, fmt="py:percent") if path.suffix == ".py" else jupytext.read(path)
    except Exception as exc:  # jupytext/nbformat raise many kinds on malformed input
        raise UsageProblem(f"runbook {path}: cannot be read as a notebook: {exc}") from exc
    return nb


def load_runbook(ref: str, paths: ProjectPaths | None = None) -> RunbookSource:
    paths = paths or ProjectPaths.discover()
    path = locate_runbook(ref, paths)
    nb = read_notebook(path)
    return RunbookSource(id=path.stem, path=path, nb=nb, params=parse_parameters(nb, f"runbook {path.stem}"))
