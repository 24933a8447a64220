"""Write-ups: the Korean incident records in ``issues/`` (YAML front matter + fixed headings).

Where it sits: ``issues/*.md`` → :func:`parse_writeup` (split the front matter, validate it with
JSON Schema, check the fixed headings) → :class:`Writeup` records, read by :mod:`platform_kb.check`
(``kb check``) and :mod:`platform_kb.site` (page generation). :func:`render_template` fills in the
write-up template (``templates/issue.md.j2``) for new write-ups.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from .errors import UsageProblem

STATUS_LABELS: dict[str, str] = {"resolved": "해결됨", "planned": "계획됨", "open": "진행 중"}

# The fixed Korean H2 headings every write-up has, in this order (more H2s may sit between them).
REQUIRED_HEADINGS: tuple[str, ...] = (
    "개요",
    "작업 내용",
    "트러블슈팅",
    "의사결정",
    "결론 및 향후 계획",
    "참고 자료",
)

ID_PATTERN = r"^[0-9]+(-[0-9]+)*$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(\s*~\s*\d{4}-\d{2}-\d{2})?$"

FRONT_MATTER_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "date", "participants", "status", "components", "runbooks", "tags"],
    "properties": {
        "id": {"type": "string", "pattern": ID_PATTERN},
        "title": {"type": "string", "minLength": 1},
        "date": {"type": "string", "pattern": DATE_PATTERN},
        "participants": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "status": {"enum": list(STATUS_LABELS)},
        "components": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": NAME_PATTERN},
        },
        "runbooks": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": NAME_PATTERN},
        },
        "tags": {"type": "array", "uniqueItems": True, "items": {"type": "string", "minLength": 1}},
    },
}

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{[^}]*\})?\s*#*\s*$")


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that keeps ``2026-01-03`` as text: dates are checked by the schema and DateRange."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_front_matter(raw: str) -> object:
    """The front matter YAML as Python values (dates stay strings); raises yaml.YAMLError."""
    return yaml.load(raw, Loader=_FrontMatterLoader)  # noqa: S506 - a SafeLoader subclass


class WriteupError(UsageProblem):
    """A write-up that cannot be used; ``problems`` lists every reason (``line N: ...`` where known)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class DateRange:
    """The day, or first and last day, a write-up covers."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, text: str) -> DateRange:
        parts = [p.strip() for p in text.split("~")]
        start = dt.date.fromisoformat(parts[0])
        end = dt.date.fromisoformat(parts[-1])
        if end < start:
            raise ValueError(f"date range ends ({end}) before it starts ({start})")
        return cls(start, end)

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start} ~ {self.end}"


@dataclass(frozen=True)
class Writeup:
    """One validated write-up from ``issues/``."""

    path: Path
    id: str
    title: str
    date: DateRange
    participants: tuple[str, ...]
    status: str
    components: tuple[str, ...]
    runbooks: tuple[str, ...]
    tags: tuple[str, ...]
    body: str
    body_line: int  # 1-based line of the file where the body starts

    @property
    def slug(self) -> str:
        """The file name without ``.md``: ``<id>-<slug>``; also the generated page's name."""
        return self.path.stem

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def sort_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.id.split("-"))


def writeup_paths(issues_dir: Path) -> list[Path]:
    """The write-ups of a project: ``issues/*.md`` except files starting with ``_`` and README.md."""
    if not issues_dir.is_dir():
        return []
    return sorted(
        p for p in issues_dir.glob("*.md") if not p.name.startswith("_") and p.name.lower() != "readme.md"
    )


def split_front_matter(text: str) -> tuple[str, str, int]:
    """``(front matter YAML, body, body start line)``; raises ValueError when there is none."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ValueError("no front matter: the file must start with a '---' line")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise ValueError("front matter is not closed by a '---' line")


def _normalise(data: dict) -> dict:
    """YAML reads ``2026-01-03`` as a date; the schema works on its ISO text."""
    date = data.get("date")
    if isinstance(date, dt.date):
        data = {**data, "date": date.isoformat()}
    return data


def front_matter_problems(data: object) -> list[str]:
    """Every schema violation of a parsed front matter, as ``field: message``."""
    if not isinstance(data, dict):
        return [f"front matter must be a mapping of fields, not {type(data).__name__}"]
    validator = jsonschema.Draft202012Validator(FRONT_MATTER_SCHEMA)
    problems = []
    for error in sorted(validator.iter_errors(_normalise(data)), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "front matter"
        problems.append(f"{where}: {error.message}")
    if not problems:
        try:
            DateRange.parse(_normalise(data)["date"])
        except ValueError as exc:
            problems.append(f"date: {exc}")
    return problems


def iter_headings(markdown: str) -> Iterable[tuple[int, int, str]]:
    """``(line, level, text)`` of every ATX heading outside fenced code blocks (lines are 1-based)."""
    fence: str | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif fence == marker:
                fence = None
            continue
        if fence is not None:
            continue
        heading = _HEADING.match(line)
        if heading:
            yield number, len(heading.group(1)), heading.group(2)


def heading_problems(body: str, first_line: int = 1) -> list[str]:
    """The fixed H2 headings must all be there, in order; the H1 comes from the front matter."""
    problems = []
    h2: list[str] = []
    for line, level, text in iter_headings(body):
        if level == 1:
            problems.append(
                f"line {first_line + line - 1}: H1 '{text}' not allowed (the page title comes from front matter 'title')"
            )
        elif level == 2:
            h2.append(text)
    position = 0
    for wanted in REQUIRED_HEADINGS:
        try:
            position = h2.index(wanted, position) + 1
        except ValueError:
            where = "missing" if wanted not in h2 else "out of order"
            problems.append(
                f"heading '## {wanted}' {where} (required, in this order: {', '.join(REQUIRED_HEADINGS)})"
            )
    return problems


def parse_writeup(path: Path) -> Writeup:
    """Read and validate one write-up; raises :class:`WriteupError` naming every problem."""
    text = path.read_text(encoding="utf-8")
    try:
        raw, body, body_line = split_front_matter(text)
    except ValueError as exc:
        raise WriteupError(path, [str(exc)]) from None
    try:
        data = load_front_matter(raw)
    except yaml.YAMLError as exc:
        raise WriteupError(path, [f"front matter is not valid YAML: {' '.join(str(exc).split())}"]) from None
    problems = front_matter_problems(data)
    if not problems and not path.stem.startswith(f"{data['id']}-"):
        problems.append(f"file name must be '{data['id']}-<slug>.md' (id {data['id']!r})")
    problems += heading_problems(body, body_line)
    if problems:
        raise WriteupError(path, problems)
    data = _normalise(data)
    return Writeup(
        path=path,
        id=data["id"],
        title=data["title"],
        date=DateRange.parse(data["date"]),
        participants=tuple(data["participants"]),
        status=data["status"],
        components=tuple(data["components"]),
        runbooks=tuple(data["runbooks"]),
        tags=tuple(data["tags"]),
        body=body,
        body_line=body_line,
    )


def scan_writeups(issues_dir: Path) -> tuple[list[Writeup], list[WriteupError]]:
    """All write-ups that parse, and the errors of those that do not (duplicate ids included)."""
    good: list[Writeup] = []
    bad: list[WriteupError] = []
    seen: dict[str, Path] = {}
    for path in writeup_paths(issues_dir):
        try:
            writeup = parse_writeup(path)
        except WriteupError as exc:
            bad.append(exc)
            continue
        if writeup.id in seen:
            bad.append(WriteupError(path, [f"id {writeup.id!r} is already used by {seen[writeup.id].name}"]))
            continue
        seen[writeup.id] = path
        good.append(writeup)
    good.sort(key=lambda w: w.sort_key)
    return good, bad


def load_writeups(issues_dir: Path) -> list[Writeup]:
    """All write-ups, sorted by id; raises the first :class:`WriteupError` if any is invalid."""
    good, bad = scan_writeups(issues_dir)
    if bad:
        raise bad[0]
    return good


def slugify_title(title: str) -> str:
    """An ASCII file-name slug for ``<id>-<slug>.md`` (``write-up`` when nothing ASCII is left)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:60].rstrip("-") or "write-up"


def render_template(
    id: str, title: str, date: dt.date | None = None, participants: Iterable[str] = ()
) -> str:
    """A new write-up from ``templates/issue.md.j2``: valid front matter and every fixed heading."""
    import jinja2

    source = resources.files("platform_kb").joinpath("templates/issue.md.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, autoescape=False)
    env.filters["yamlvalue"] = lambda value: json.dumps(value, ensure_ascii=False)  # JSON is valid YAML
    template = env.from_string(source)
    return template.render(
        id=id,
        title=title,
        date=(date or dt.date.today()).isoformat(),
        participants=list(participants) or ["이름"],
        headings=REQUIRED_HEADINGS,
    )
