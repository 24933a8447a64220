"""``kb new``: start a write-up or a runbook from the project's templates.

Where it sits: the contributor's entrance. ``kb new issue`` renders the write-up template
(:func:`platform_kb.writeups.render_template`, ``templates/issue.md.j2``) into
``issues/<id>-<slug>.md``; ``kb new runbook`` renders ``templates/runbook.py.j2`` into
``runbooks/<id>.py`` and ``templates/runbook_test.py.j2`` into ``tests/runbooks/test_<id>.py``.
Everything is validated before a file is written (bad input -> :class:`UsageProblem`, exit 2,
nothing changed), and every rendered file is checked with the same parsers ``kb check`` uses, so
what ``kb new`` writes passes ``kb check`` and shows up in the site after ``kb docs build``.

File names: the slug comes from the title's ASCII letters and digits (``Spark UI 503`` ->
``spark-ui-503``). A title with none (an all-Korean title) gets the template's fallback slug
``write-up`` (``issues/3-11-write-up.md``); there is no transliteration. ``--slug`` overrides it.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import jupytext
import yaml

from . import writeups
from .errors import KbError, UsageProblem
from .paths import ProjectPaths
from .terms import GLOSSARY

DEFAULT_STATUS = "planned"
RESERVED_RUNBOOK_ID = "index"  # the runbooks index page (platform_kb.site.runbooks)
_ID = re.compile(writeups.ID_PATTERN)
_NAME = re.compile(writeups.NAME_PATTERN)


@dataclass(frozen=True)
class Created:
    """What ``kb new`` wrote (paths relative to the project root) and what to do next."""

    files: tuple[Path, ...]
    next_steps: tuple[str, ...]
    updated: tuple[Path, ...] = ()


# --- write-ups -----------------------------------------------------------------------------------


def existing_issue_ids(issues_dir: Path) -> dict[str, Path]:
    """id -> file for every write-up whose front matter names an id (even if the rest is invalid)."""
    found: dict[str, Path] = {}
    for path in writeups.writeup_paths(issues_dir):
        try:
            raw, _body, _line = writeups.split_front_matter(path.read_text(encoding="utf-8"))
            data = yaml.safe_load(raw)
        except (ValueError, OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("id") is not None:
            found.setdefault(str(data["id"]), path)
    return found


def git_user_name(root: Path) -> str | None:
    """``git config user.name`` (read only), used as the default participant."""
    try:
        done = subprocess.run(
            ["git", "config", "user.name"], cwd=root, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = done.stdout.strip()
    return name or None


def issue_file_name(issue_id: str, title: str, slug: str | None = None) -> str:
    return f"{issue_id}-{slug or writeups.slugify_title(title)}.md"


def _validate_issue(
    issue_id: str, title: str, slug: str | None, status: str, participants: Sequence[str]
) -> None:
    problems = []
    if not _ID.match(issue_id):
        problems.append(f"issue id {issue_id!r}: use numbers joined by '-', like 3-11")
    if not title.strip() or "\n" in title:
        problems.append("title: one non-empty line")
    if slug is not None and not _NAME.match(slug):
        problems.append(f"slug {slug!r}: lowercase ASCII letters, digits and '-'")
    if status not in writeups.STATUS_LABELS:
        problems.append(f"status {status!r}: one of {', '.join(writeups.STATUS_LABELS)}")
    if any(not p.strip() for p in participants):
        problems.append("participants: names must not be empty")
    if problems:
        raise UsageProblem("kb new issue: " + "; ".join(problems))


def _set_status(text: str, status: str) -> str:
    """Set ``status:`` in the rendered front matter (the template starts every write-up as ``open``)."""
    raw, body, _line = writeups.split_front_matter(text)
    new_raw, count = re.subn(r"(?m)^status:.*$", f"status: {status}", raw, count=1)
    if count != 1:
        raise KbError("the write-up template has no 'status:' line")
    return f"---\n{new_raw}---\n{body}"


def render_issue(
    issue_id: str, title: str, status: str, participants: Sequence[str], today: dt.date | None = None
) -> str:
    text = writeups.render_template(issue_id, title.strip(), date=today, participants=participants)
    return _set_status(text, status)


def _verify_writeup(text: str, name: str) -> None:
    """Parse the rendered write-up exactly as ``kb check`` would, before it reaches issues/."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / name
        probe.write_text(text, encoding="utf-8")
        try:
            writeups.parse_writeup(probe)
        except writeups.WriteupError as exc:
            raise KbError(
                f"the write-up template renders an invalid write-up: {'; '.join(exc.problems)}"
            ) from None


def new_issue(
    paths: ProjectPaths,
    issue_id: str,
    title: str,
    *,
    slug: str | None = None,
    status: str = DEFAULT_STATUS,
    participants: Sequence[str] = (),
    today: dt.date | None = None,
) -> Created:
    """Write ``issues/<id>-<slug>.md``; refuses an id that a write-up already uses."""
    _validate_issue(issue_id, title, slug, status, participants)
    taken = existing_issue_ids(paths.issues)
    if issue_id in taken:
        raise UsageProblem(f"issue id {issue_id} already exists: {taken[issue_id].relative_to(paths.root)}")
    name = issue_file_name(issue_id, title, slug)
    target = paths.issues / name
    if target.exists():
        raise UsageProblem(f"{target.relative_to(paths.root)} already exists")
    people = list(participants) or [n for n in [git_user_name(paths.root)] if n]
    text = render_issue(issue_id, title, status, people, today)
    _verify_writeup(text, name)
    paths.issues.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as out:  # "x": never overwrite, even in a race
        out.write(text)
    rel = target.relative_to(paths.root)
    return Created(
        (rel,),
        (
            f"fill in the sections of {rel} (Korean; keep the ## headings)",
            f"use the spellings of the glossary {GLOSSARY} (용어집); add a row there for a new term",
            "kb check        # also reports any spelling the glossary rejects, with file:line",
            "kb docs build   # the write-up appears in the issues index",
        ),
    )


# --- runbooks ------------------------------------------------------------------------------------


def _template(name: str) -> jinja2.Template:
    source = resources.files("platform_kb").joinpath(f"templates/{name}").read_text(encoding="utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, autoescape=False, undefined=jinja2.StrictUndefined)
    return env.from_string(source)


def render_runbook(runbook_id: str, title: str, issue: str | None = None) -> str:
    return _template("runbook.py.j2").render(
        id=runbook_id, title=title, issue=issue, jupytext_version=jupytext.__version__
    )


def render_runbook_test(runbook_id: str) -> str:
    return _template("runbook_test.py.j2").render(id=runbook_id)


def _verify_runbook(text: str, runbook_id: str) -> None:
    """The rendered runbook reads as a jupytext percent notebook whose parameters cell parses."""
    from .runner.params import parse_parameters

    try:
        nb = jupytext.reads(text, fmt="py:percent")
        specs = parse_parameters(nb, f"runbook {runbook_id}")
    except Exception as exc:  # jupytext raises many kinds; any is a template bug
        raise KbError(f"the runbook template renders an invalid runbook: {exc}") from exc
    if not specs:
        raise KbError("the runbook template renders no parameters cell")


def _link_runbook(writeup: Path, runbook_id: str) -> str:
    """The write-up's text with ``runbook_id`` added to its front matter ``runbooks:`` list."""
    text = writeup.read_text(encoding="utf-8")
    raw, body, _line = writeups.split_front_matter(text)
    data = yaml.safe_load(raw) or {}
    current = list(data.get("runbooks") or [])
    if runbook_id in current:
        return text
    new_list = "runbooks: [" + ", ".join([*current, runbook_id]) + "]\n"
    lines = raw.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for line in lines:
        if re.match(r"^runbooks\s*:", line):
            out.append(new_list)
            skipping = True
            continue
        if skipping and re.match(r"^\s+(-|\S)", line) and not re.match(r"^\S", line):
            continue  # an item of a block-style list
        skipping = False
        out.append(line)
    if new_list not in out:
        out.append(new_list)
    return "---\n" + "".join(out) + "---\n" + body


def new_runbook(
    paths: ProjectPaths,
    runbook_id: str,
    *,
    title: str | None = None,
    issue: str | None = None,
    with_test: bool = True,
) -> Created:
    """Write ``runbooks/<id>.py`` and ``tests/runbooks/test_<id>.py``; with ``issue``, also list the
    runbook in that write-up's front matter."""
    if not _NAME.match(runbook_id) or runbook_id == RESERVED_RUNBOOK_ID:
        raise UsageProblem(
            f"runbook id {runbook_id!r}: lowercase ASCII letters, digits and '-', like minio-logs (not 'index')"
        )
    if title is not None and (not title.strip() or "\n" in title):
        raise UsageProblem("--title: one non-empty line")
    existing = [
        p for p in (paths.runbooks / f"{runbook_id}.py", paths.runbooks / f"{runbook_id}.ipynb") if p.exists()
    ]
    if existing:
        raise UsageProblem(f"runbook {runbook_id} already exists: {existing[0].relative_to(paths.root)}")
    test_path = paths.root / "tests" / "runbooks" / f"test_{runbook_id.replace('-', '_')}.py"
    if with_test and test_path.exists():
        raise UsageProblem(f"{test_path.relative_to(paths.root)} already exists")
    writeup: Path | None = None
    if issue is not None:
        writeup = existing_issue_ids(paths.issues).get(issue)
        if writeup is None:
            raise UsageProblem(
                f'--issue {issue}: no write-up with that id in issues/ (kb new issue {issue} "제목")'
            )

    text = render_runbook(runbook_id, (title or f"{runbook_id} 런북").strip(), issue)
    _verify_runbook(text, runbook_id)
    linked = _link_runbook(writeup, runbook_id) if writeup is not None else None

    written: list[Path] = []
    paths.runbooks.mkdir(parents=True, exist_ok=True)
    target = paths.runbooks / f"{runbook_id}.py"
    with open(target, "x", encoding="utf-8") as out:
        out.write(text)
    written.append(target)
    if with_test:
        test_path.parent.mkdir(parents=True, exist_ok=True)
        with open(test_path, "x", encoding="utf-8") as out:
            out.write(render_runbook_test(runbook_id))
        written.append(test_path)
    updated: tuple[Path, ...] = ()
    if writeup is not None and linked is not None:
        writeup.write_text(linked, encoding="utf-8")
        updated = (writeup.relative_to(paths.root),)
    rel = tuple(p.relative_to(paths.root) for p in written)
    return Created(
        rel,
        (
            f"write the steps of {rel[0]} (Korean narrative in the markdown cells)",
            f"kb run {runbook_id} --plan",
            "kb check",
            "kb docs build   # the runbook appears in the runbooks index",
        ),
        updated,
    )
