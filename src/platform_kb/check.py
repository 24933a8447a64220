"""``kb check``: is the knowledge base consistent before anything is built or run?

Where it sits: reads the sources only (never writes). Checks, in order: every write-up's front
matter and fixed headings (:mod:`platform_kb.writeups`); every runbook id a write-up names exists
as ``runbooks/<id>.py``; every runbook is a jupytext percent file whose code cells compile and whose
parameters cell declares well-formed parameters (a ``params_schema`` it names must import); every
internal link in ``issues/`` and ``docs/`` resolves (target file, or the page generation will
write, and its ``#anchor``); every spelling follows the glossary ``docs/glossary.md``
(:mod:`platform_kb.terms`). Returns a :class:`CheckReport`; the CLI turns problems into exit 2 and,
when the only problems are spellings, exit 1.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext

from .errors import UsageProblem
from .paths import ProjectPaths
from .site.issues import render_issue_page
from .site.layout import GENERATED, SiteLayout, runbook_paths
from .site.links import is_external, iter_links, split_anchor
from .terms import term_problems
from .writeups import NAME_PATTERN, Writeup, scan_writeups, split_front_matter, writeup_paths

_CELL_MARKER = re.compile(r"^# %%", re.MULTILINE)
_ID_ATTR = re.compile(r"\bid=\"([^\"]+)\"")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file."""

    path: Path
    message: str
    line: int | None = None

    def format(self, root: Path) -> str:
        where = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        return f"{where}:{self.line}: {self.message}" if self.line else f"{where}: {self.message}"


@dataclass(frozen=True)
class CheckReport:
    writeups: int
    runbooks: int
    links: int
    problems: tuple[Problem, ...] = field(default=())
    terms: int = 0  # glossary terms read from docs/glossary.md
    spellings: tuple[Problem, ...] = field(default=())  # variant spellings the glossary rejects

    @property
    def ok(self) -> bool:
        return not self.problems and not self.spellings


# --- runbooks -------------------------------------------------------------------------------


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes (``%...``, ``!...``) are not Python; blank them out."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def runbook_problems(path: Path) -> list[Problem]:
    """A runbook must be named like an id and be a jupytext percent file whose code compiles."""
    problems = []
    if not re.match(NAME_PATTERN, path.stem) or path.stem == "index":
        problems.append(
            Problem(path, f"runbook id {path.stem!r} must match {NAME_PATTERN} and not be 'index'")
        )
    text = path.read_text(encoding="utf-8")
    markers = [text.count("\n", 0, m.start()) + 1 for m in _CELL_MARKER.finditer(text)]
    if not markers:
        return problems + [Problem(path, "no '# %%' cell marker: not a jupytext percent file")]
    try:
        notebook = jupytext.reads(text, fmt="py:percent")
    except Exception as exc:  # jupytext raises many types
        return problems + [Problem(path, f"jupytext cannot read it as py:percent: {exc}")]
    declared = notebook.metadata.get("jupytext", {}).get("text_representation", {}).get("format_name")
    if declared and declared != "percent":
        problems.append(Problem(path, f"header declares format {declared!r}, expected 'percent'"))
    starts = markers if len(markers) == len(notebook.cells) else [None] * len(notebook.cells)
    for number, (cell, start) in enumerate(zip(notebook.cells, starts, strict=True), start=1):
        if cell.cell_type != "code":
            continue
        try:
            compile(_without_magics(cell.source), f"{path.name} cell {number}", "exec")
        except SyntaxError as exc:
            line = start + (exc.lineno or 1) if start else None
            problems.append(Problem(path, f"cell {number}: Python syntax error: {exc.msg}", line))
    return problems + parameter_problems(path, notebook)


def parameter_problems(path: Path, notebook: Any) -> list[Problem]:
    """The parameters cell must declare well-formed parameters; a ``params_schema`` it names must
    import and be a ``param()``-declared dataclass whose fields the cell does not declare again."""
    from .runner.params import parse_parameters

    try:
        parse_parameters(notebook, f"runbook {path.stem}")
    except UsageProblem as exc:
        return [Problem(path, str(exc))]
    return []


# --- links ----------------------------------------------------------------------------------


class _Anchors:
    """The ``id`` attributes MkDocs will give each page, rendered with the site's Markdown extensions."""

    def __init__(self, render: Callable[[str], str]) -> None:
        self._render = render
        self._cache: dict[Path, set[str]] = {}

    def of(self, page: Path, source: Callable[[], str]) -> set[str]:
        if page not in self._cache:
            self._cache[page] = set(_ID_ATTR.findall(self._render(source())))
        return self._cache[page]


def site_markdown(paths: ProjectPaths) -> Callable[[str], str]:
    """Markdown → HTML with the extensions and options of ``mkdocs.yml`` (raises UsageProblem)."""
    import markdown
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    try:
        config = load_config(config_file=str(paths.root / "mkdocs.yml"))
    except (MkDocsException, OSError) as exc:
        raise UsageProblem(f"mkdocs.yml: {exc}") from None
    md = markdown.Markdown(extensions=config["markdown_extensions"], extension_configs=config["mdx_configs"])
    return lambda source: md.reset().convert(source)


@dataclass
class _LinkChecker:
    paths: ProjectPaths
    writeups: dict[Path, Writeup]  # generated page -> write-up
    runbook_ids: set[str]
    anchors: _Anchors
    links: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def layout(self) -> SiteLayout:
        return SiteLayout(self.paths)

    @functools.cached_property
    def planned(self) -> set[Path]:
        return self.layout.planned_pages()

    def page_source(self, page: Path) -> Callable[[], str] | None:
        """How to get the Markdown of a docs page, or None for pages without checkable anchors."""
        if page in self.writeups:
            writeup = self.writeups[page]
            return lambda: render_issue_page(writeup, self.layout, self.runbook_ids)
        if page.suffix == ".md" and page.is_file() and not page.is_relative_to(self.layout.generated_dir):
            return lambda: _strip_meta(page.read_text(encoding="utf-8"))
        return None

    def check_anchor(self, file: Path, line: int, page: Path, anchor: str, shown: str) -> None:
        source = self.page_source(page)
        if anchor and source is not None and anchor not in self.anchors.of(page, source):
            self.problems.append(
                Problem(file, f"link {shown!r}: no heading or id '#{anchor}' in that page", line)
            )

    def check_file(
        self, file: Path, text: str, own_page: Path, to_page: Callable[[Path], Path | None]
    ) -> None:
        """``to_page`` maps a resolved target file to the docs page it becomes (None: not published)."""
        planned = self.planned
        for link in iter_links(text):
            target = link.target.strip()
            if not target or is_external(target):
                continue
            self.links += 1
            path, anchor = split_anchor(target)
            if not path:
                self.check_anchor(file, link.line, own_page, anchor, target)
                continue
            if path.startswith("/"):
                self.problems.append(
                    Problem(file, f"link {target!r}: absolute path; use a relative link", link.line)
                )
                continue
            resolved = Path(_normpath(file.parent / path))
            if path.endswith("/") or resolved.is_dir():
                self.problems.append(
                    Problem(file, f"link {target!r}: points to a folder; link to a file", link.line)
                )
                continue
            page = to_page(resolved)
            if page is None:
                where = "not found" if not resolved.exists() else "not published on the site"
                self.problems.append(Problem(file, f"link {target!r}: {where}", link.line))
                continue
            if not (page.exists() or page in planned):
                self.problems.append(Problem(file, f"link {target!r}: not found", link.line))
                continue
            self.check_anchor(file, link.line, page, anchor, target)


def _normpath(path: Path) -> str:
    return os.path.normpath(path)


def _strip_meta(text: str) -> str:
    try:
        return split_front_matter(text)[1]
    except ValueError:
        return text


def _docs_pages(paths: ProjectPaths) -> list[Path]:
    generated = paths.docs / GENERATED
    return sorted(p for p in paths.docs.rglob("*.md") if not p.is_relative_to(generated))


def link_problems(
    paths: ProjectPaths, writeups: list[Writeup], runbook_ids: set[str], render: Callable[[str], str]
) -> tuple[int, list[Problem]]:
    layout = SiteLayout(paths)
    checker = _LinkChecker(
        paths, {layout.issue_page(w.path): w for w in writeups}, runbook_ids, _Anchors(render)
    )

    def in_docs(resolved: Path) -> Path | None:
        return resolved if resolved.is_relative_to(paths.docs) else None

    for page in _docs_pages(paths):
        checker.check_file(page, page.read_text(encoding="utf-8"), page, in_docs)
    for file in writeup_paths(paths.issues):
        text = file.read_text(encoding="utf-8")
        try:
            _meta, body, body_line = split_front_matter(text)
        except ValueError:
            body, body_line = text, 1
        offset = body_line - 1
        before = len(checker.problems)
        checker.check_file(file, body, layout.issue_page(file), layout.page_for)
        checker.problems[before:] = [
            Problem(p.path, p.message, p.line + offset if p.line else None) for p in checker.problems[before:]
        ]
    for runbook in runbook_paths(paths.runbooks):  # the narrative's links, as the runbook page rewrites them
        checker.check_file(
            runbook, runbook.read_text(encoding="utf-8"), layout.runbook_page(runbook.stem), layout.page_for
        )
    return checker.links, checker.problems


# --- all ------------------------------------------------------------------------------------


def run_check(paths: ProjectPaths) -> CheckReport:
    """Every check over one checkout; nothing is written."""
    problems: list[Problem] = []
    writeups, bad = scan_writeups(paths.issues)
    for error in bad:
        problems += [Problem(error.path, message) for message in error.problems]
    runbooks = runbook_paths(paths.runbooks)
    runbook_ids = {p.stem for p in runbooks}
    for writeup in writeups:
        for runbook_id in writeup.runbooks:
            if runbook_id not in runbook_ids:
                problems.append(
                    Problem(
                        writeup.path,
                        f"runbooks: no runbook {runbook_id!r} (expected runbooks/{runbook_id}.py)",
                    )
                )
    for runbook in runbooks:
        problems += runbook_problems(runbook)
    try:
        render = site_markdown(paths)
    except UsageProblem as exc:
        problems.append(Problem(paths.root / "mkdocs.yml", f"cannot be loaded: {exc}"))
        return CheckReport(len(writeups), len(runbooks), 0, tuple(problems))
    links, found = link_problems(paths, writeups, runbook_ids, render)
    terms, hits = term_problems(paths.root)
    spellings = tuple(Problem(h.path, h.message, h.line) for h in hits)
    return CheckReport(len(writeups), len(runbooks), links, tuple(problems + found), terms, spellings)
