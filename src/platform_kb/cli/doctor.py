"""``kb doctor [--profile NAME]``: parse the flags, run :func:`platform_kb.doctor.run_doctor`, print.

Exit code 0 when every required check passes, 1 when one fails, 2 for bad input (a missing or
malformed profile). Extra folders searched for tools after PATH come from
``$KB_DOCTOR_TOOL_DIRS`` (``os.pathsep``-separated; default ``/usr/sbin:/usr/local/sbin:/sbin``).
"""

from __future__ import annotations

import json
import os
import sys

import click
from rich.console import Console

from ..doctor import run_doctor
from ..doctor.model import DEFAULT_TIMEOUT, MachineEnv
from ..doctor.report import render
from ..errors import UsageProblem


def _console() -> Console:
    # Off a terminal rich would wrap at 80 columns and split fingerprints; keep lines whole.
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "200"))
    return Console(width=width, highlight=False)


@click.command(name="doctor")
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME",
    help="Also check this profile: its validity, bastion reachability and host key.",
)
@click.option(
    "--no-lab", is_flag=True, help="Treat the lab's tools (Java, sshd, nginx, pyspark) as optional."
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 120),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the bastion.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of a table.")
def command(profile_name: str | None, no_lab: bool, timeout: float, as_json: bool) -> None:
    """Check this machine (and a profile) and say how to fix what is missing."""
    report = run_doctor(profile_name, MachineEnv.from_os(timeout=timeout, lab=not no_lab))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        render(report, _console())
    if report.bad_input:
        raise UsageProblem(report.bad_input)
    sys.exit(report.exit_code)
