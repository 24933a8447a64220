"""``kb check``: validate write-ups, runbooks and internal links; exit 2 when anything is wrong.

Parses nothing but the project root and delegates to :func:`platform_kb.check.run_check`.
"""

from __future__ import annotations

import click

from ..check import run_check
from ..errors import KbError, UsageProblem
from ..paths import ProjectPaths


@click.command(name="check")
def command() -> None:
    """Check front matter, runbook ids, runbook files (jupytext percent), internal links and the
    glossary's spellings (docs/glossary.md)."""
    paths = ProjectPaths.discover()
    report = run_check(paths)
    for problem in report.problems + report.spellings:
        click.echo(problem.format(paths.root), err=True)
    counts = (
        f"{report.writeups} write-ups, {report.runbooks} runbooks, {report.links} internal links, "
        f"{report.terms} glossary terms"
    )
    if report.problems:
        raise UsageProblem(f"check failed: {len(report.problems + report.spellings)} problem(s) in {counts}")
    if report.spellings:
        raise KbError(
            f"check failed: {len(report.spellings)} spelling(s) differ from docs/glossary.md in {counts}"
        )
    click.echo(f"kb check: ok ({counts})")
