"""Generation: ``issues/`` and ``runbooks/`` → plain Markdown pages under ``docs/_generated/``.

Where it sits: the first step of ``kb docs build`` and ``kb docs serve`` (then MkDocs builds a plain
``mkdocs.yml`` with no hooks, so Zensical can build the same tree). Pages are rendered into a
staging folder and copied over only when their content changed, and stale pages are removed, so a
running ``mkdocs serve`` rebuilds only after a real change. Generation owns
``docs/_generated/issues/`` and ``docs/_generated/runbooks/`` (stale files there are removed);
other folders under ``docs/_generated/`` are left alone, except ``assets/``, where the vendored
front-end files (:mod:`platform_kb.site.vendor`: Mermaid) are copied.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..paths import ProjectPaths
from ..runner.publish import load_published
from ..writeups import load_writeups
from .issues import generate_issue_pages
from .layout import SiteLayout, runbook_paths
from .runbooks import generate_runbook_pages
from .vendor import copy_into


@dataclass(frozen=True)
class GeneratedSite:
    """What one generation wrote (``changed``: files created, updated or removed)."""

    out_dir: Path
    pages: tuple[Path, ...]
    changed: tuple[Path, ...]


def generate_site(paths: ProjectPaths) -> GeneratedSite:
    """Render every generated page; raises UsageProblem (before writing) if a write-up is invalid."""
    layout = SiteLayout(paths)
    writeups = load_writeups(paths.issues)
    runbooks = runbook_paths(paths.runbooks)
    with tempfile.TemporaryDirectory(prefix="kb-pages-") as tmp:
        staging = Path(tmp)
        ids = {p.stem for p in runbooks}
        records = {rid: rec[0] for rid in ids if (rec := load_published(paths.root, rid)) is not None}
        generate_issue_pages(writeups, layout, staging / "issues", ids, records)
        generate_runbook_pages(runbooks, staging / "runbooks")
        pages: list[Path] = []
        changed: list[Path] = []
        for section, out_dir in (("issues", layout.issues_dir), ("runbooks", layout.runbooks_dir)):
            section_pages, section_changed = _sync(staging / section, out_dir)
            pages += section_pages
            changed += section_changed
    changed += copy_into(paths.docs)
    return GeneratedSite(layout.generated_dir, tuple(pages), tuple(changed))


def _sync(staging: Path, out_dir: Path) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Make ``out_dir`` hold exactly the staged files, touching only those that differ."""
    wanted = {p.relative_to(staging): p.read_bytes() for p in staging.rglob("*") if p.is_file()}
    changed: list[Path] = []
    if out_dir.exists():
        for existing in sorted(out_dir.rglob("*"), reverse=True):
            relative = existing.relative_to(out_dir)
            if existing.is_file() and relative not in wanted:
                existing.unlink()
                changed.append(existing)
            elif existing.is_dir() and not any(existing.iterdir()):
                existing.rmdir()
    pages = []
    for relative, content in sorted(wanted.items()):
        target = out_dir / relative
        pages.append(target)
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        changed.append(target)
    return tuple(pages), tuple(changed)
