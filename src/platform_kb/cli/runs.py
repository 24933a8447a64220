"""``kb runs list [ID]`` and ``kb runs publish ID [RUN]``: parse flags, delegate to the runner."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..paths import ProjectPaths

_RECORDS = click.option(
    "--records",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where records are (default: runs/ in the project).",
)


@click.group(name="runs", context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """List run records and choose which one the site shows."""


@command.command(name="list")
@click.argument("runbook_id", required=False)
@_RECORDS
def list_runs_command(runbook_id: str | None, records: Path | None) -> None:
    """List records under runs/ (or --records DIR), oldest first."""
    from rich.console import Console
    from rich.table import Table

    from ..runner.records import list_runs

    paths = ProjectPaths.discover()
    base = records or paths.runs
    runs = list_runs(base, runbook_id)
    # not on a terminal (a pipe, a file, CI): no width to fit, so ids and run names stay whole
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 10_000)
    if not runs:
        console.print(f"no records in {base}" + (f" for {runbook_id}" if runbook_id else ""))
        return
    table = Table("runbook", "run", "status", "started", "seconds", "findings", "mode", box=None)
    for rid, run_dir, summary in runs:
        s = summary or {}
        findings = s.get("findings") or []
        errors = sum(1 for f in findings if f.get("severity") == "error")
        table.add_row(
            rid,
            run_dir.name,
            str(s.get("status", "?")),
            str(s.get("started", "")),
            "" if s.get("seconds") is None else f"{s['seconds']:.1f}",
            f"{len(findings)} ({errors} error)" if findings else "0",
            "plan" if s.get("plan_mode") else "run",
        )
    console.print(table)


@command.command(name="publish")
@click.argument("runbook_id")
@click.argument("run", required=False)
@_RECORDS
def publish_command(runbook_id: str, run: str | None, records: Path | None) -> None:
    """Copy record RUN (default: latest) of RUNBOOK_ID, scrubbed, to records/<id>/ for the site."""
    from ..runner.publish import publish_record

    paths = ProjectPaths.discover()
    published = publish_record(paths, runbook_id, run, base=records)
    click.echo(f"published {runbook_id} run {published.run} ({published.status}) -> {published.path}")
