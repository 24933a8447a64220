"""The glossary (``docs/glossary.md``) as data, and the spellings ``kb check`` rejects.

Where it sits: :func:`platform_kb.check.run_check` calls :func:`term_problems` after the write-up and
link checks. The glossary page is the single source: each row of its table names the one spelling
used and, in the last column, the spellings not to use (in backticks). A Korean variant is reported
anywhere in a line; a variant made only of Latin letters (``bastion``) only in Korean prose — outside
inline code and fenced code blocks, and not as part of an identifier, flag, path or host name — since
code keeps the English word. Variants with other characters (``operator@``) are reported anywhere,
code blocks included. A separate rule reports a space between a Latin or code token and a Korean
particle (``root_url 에`` instead of ``root_url에``).

Scanned: write-ups (``issues/``), runbooks, hand-written docs pages, ``README.md`` and the finding
texts (``src/platform_kb/checks/``, ``src/platform_kb/install/``), when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

GLOSSARY = Path("docs") / "glossary.md"
_ROW = re.compile(r"^\|(.+)\|\s*$")
_CODE = re.compile(r"`([^`]+)`")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_INLINE_CODE = re.compile(r"`[^`]*`")
# A Latin/code token, one space, then a particle standing alone (followed by a space, punctuation or the end).
_PARTICLE = re.compile(
    r"(?P<token>[A-Za-z0-9_`'\"}\])]) (?P<particle>에서|으로|에|가|를|을|은|는|의|로|와|과|이|도)(?=[\s.,:;)!?]|$)"
)


@dataclass(frozen=True)
class Term:
    """One glossary row: the spelling used and the spellings ``kb check`` rejects."""

    spelling: str
    english: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class TermHit:
    path: Path
    line: int
    message: str


def parse_glossary(text: str) -> list[Term]:
    """Rows of the glossary table: ``| 용어 | 쓰는 표기 | 영어 | 뜻 | 쓰지 않는 표기 |``."""
    terms = []
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if not match:
            continue
        cells = [c.strip() for c in match.group(1).split("|")]
        if len(cells) < 5 or set(cells[0]) <= set("-: ") or cells[0] == "용어":
            continue
        variants = tuple(_CODE.findall(cells[4]))
        if variants:
            terms.append(Term(cells[1].split(" (")[0].strip("`"), cells[2], variants))
    return terms


def _latin_only(variant: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]+", variant))


def _variant_pattern(variant: str) -> re.Pattern[str]:
    if _latin_only(variant):
        # prose only: not inside identifiers (bastion_host), flags (--bastion), paths, hosts or choices
        return re.compile(
            rf"(?<![A-Za-z0-9_\-/.@|\[]){re.escape(variant)}(?![A-Za-z0-9_\-/.@\]])", re.IGNORECASE
        )
    return re.compile(re.escape(variant))


def scanned_files(root: Path) -> list[Path]:
    files: list[Path] = []
    files += sorted((root / "issues").glob("*.md"))
    files += sorted((root / "runbooks").glob("*.py"))
    docs = root / "docs"
    if docs.is_dir():
        files += sorted(
            p
            for p in docs.rglob("*.md")
            if "_generated" not in p.relative_to(docs).parts and p != root / GLOSSARY
        )
    if (root / "README.md").is_file():
        files.append(root / "README.md")
    for sub in ("checks", "install"):
        files += sorted((root / "src" / "platform_kb" / sub).rglob("*.py"))
    return files


def _line_hits(path: Path, number: int, line: str, in_fence: bool, terms: list[Term]) -> list[TermHit]:
    hits = []
    prose = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
    for term in terms:
        for variant in term.variants:
            latin = _latin_only(variant)
            if latin and (in_fence or not _HANGUL.search(line)):
                continue
            if _variant_pattern(variant).search(prose if latin else line):
                hits.append(
                    TermHit(
                        path,
                        number,
                        f"term {variant!r}: write {term.spelling!r} ({term.english}; see {GLOSSARY})",
                    )
                )
    if not in_fence and _HANGUL.search(line):
        for match in _PARTICLE.finditer(line):
            hits.append(
                TermHit(
                    path,
                    number,
                    f"spacing: no space before the particle {match.group('particle')!r} "
                    f"({match.group(0)!r}; see {GLOSSARY})",
                )
            )
    return hits


def file_hits(path: Path, terms: list[Term]) -> list[TermHit]:
    hits: list[TermHit] = []
    in_fence = False
    markdown = path.suffix == ".md"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if markdown and line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            hits += _line_hits(path, number, line, True, [t for t in terms if not _all_latin(t)])
            continue
        hits += _line_hits(path, number, line, in_fence, terms)
    return hits


def _all_latin(term: Term) -> bool:
    return all(_latin_only(v) for v in term.variants)


def term_problems(root: Path) -> tuple[int, list[TermHit]]:
    """(number of glossary terms, every variant spelling in the scanned files). No glossary: (0, [])."""
    glossary = root / GLOSSARY
    if not glossary.is_file():
        return 0, []
    terms = parse_glossary(glossary.read_text(encoding="utf-8"))
    hits: list[TermHit] = []
    for path in scanned_files(root):
        hits += file_hits(path, terms)
    return len(terms), hits
