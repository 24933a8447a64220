"""``kb new issue ID "TITLE"`` and ``kb new runbook ID``: parse the flags, call :mod:`platform_kb.scaffold`.

Bad input (a malformed or taken id, an empty title) exits 2 before any file is written.
"""

from __future__ import annotations

import click

from ..paths import ProjectPaths
from ..scaffold import DEFAULT_STATUS, Created, new_issue, new_runbook
from ..writeups import STATUS_LABELS


def _report(created: Created) -> None:
    for path in created.files:
        click.echo(f"created {path}")
    for path in created.updated:
        click.echo(f"updated {path}")
    click.echo("next:")
    for step in created.next_steps:
        click.echo(f"  {step}")


@click.group(name="new")
def command() -> None:
    """Create a write-up or a runbook from the project's templates."""


@command.command(name="issue")
@click.argument("issue_id", metavar="ID")
@click.argument("title")
@click.option("--slug", help="File-name slug (default: from the title's ASCII words; 'write-up' if none).")
@click.option(
    "--status",
    type=click.Choice(list(STATUS_LABELS)),
    default=DEFAULT_STATUS,
    show_default=True,
    help="Front matter status.",
)
@click.option(
    "--participant",
    "participants",
    multiple=True,
    metavar="NAME",
    help="Repeatable (default: git user.name).",
)
def issue(issue_id: str, title: str, slug: str | None, status: str, participants: tuple[str, ...]) -> None:
    """Create issues/ID-SLUG.md from the write-up template (front matter filled in, Korean headings)."""
    _report(
        new_issue(
            ProjectPaths.discover(), issue_id, title, slug=slug, status=status, participants=participants
        )
    )


@command.command(name="runbook")
@click.argument("runbook_id", metavar="ID")
@click.option("--title", help="The runbook's Korean title (default: 'ID 런북').")
@click.option(
    "--issue", "issue_id", metavar="ISSUE_ID", help="Also list the runbook in this write-up's front matter."
)
@click.option("--no-test", is_flag=True, help="Do not create tests/runbooks/test_ID.py.")
def runbook(runbook_id: str, title: str | None, issue_id: str | None, no_test: bool) -> None:
    """Create runbooks/ID.py (parameters cell, named steps, Korean narrative) and its test stub."""
    _report(
        new_runbook(ProjectPaths.discover(), runbook_id, title=title, issue=issue_id, with_test=not no_test)
    )
