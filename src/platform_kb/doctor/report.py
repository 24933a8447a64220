"""``kb doctor``'s report as a terminal table (rich): status, what was found, how to fix it."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..results import ERROR, OK, SKIP, WARNING
from .model import DoctorReport, is_optional

# The status column's words (an error prints as FAIL: a required check failed).
STYLES = {
    OK: ("ok", "green"),
    ERROR: ("FAIL", "bold red"),
    WARNING: ("warn", "yellow"),
    SKIP: ("skip", "dim"),
}


def render(report: DoctorReport, console: Console) -> None:
    table = Table(title="kb doctor", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("found")
    table.add_column("how to fix")
    for check in report.checks:
        label, style = STYLES[check.status]
        if is_optional(check):
            label += " (optional)"
        fix = check.fix if not check.ok else ""
        table.add_row(Text(check.title), Text(label, style=style), Text(check.detail), Text(fix))
    console.print(table)
    failed = report.failed
    if report.bad_input:
        return  # the CLI reports bad input as `kb: error: ...` with exit code 2
    if failed:
        names = ", ".join(c.title for c in failed)
        console.print(Text(f"{len(failed)} required check(s) failed: {names}", style="bold red"))
    else:
        console.print(Text("all required checks passed", style="green"))
