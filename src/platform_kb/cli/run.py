"""``kb run RUNBOOK``: parse flags, delegate to ``platform_kb.runner.execute.run_runbook``.

``kb run RUNBOOK --help`` also lists the runbook's own parameters: click answers ``--help``
eagerly, before arguments are processed, so :class:`RunCommand` notes the RUNBOOK token while
parsing and :meth:`RunCommand.format_help` appends a section built from its parameters cell.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import KbError
from ..paths import ProjectPaths

_VALUE_OPTIONS = {"--profile": 1, "--params": 1, "--records": 1, "--timeout": 1, "-p": 2, "--param": 2}
_HELP = {"-h", "--help"}


def _runbook_token(args: list[str]) -> str | None:
    """The first positional argument (RUNBOOK), skipping options and their values."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if arg.startswith("-"):
            i += 1 if "=" in arg else 1 + _VALUE_OPTIONS.get(arg, 0)
            continue
        return arg
    return None


class RunCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if any(a in _HELP for a in args):
            ctx.meta["kb_runbook"] = _runbook_token([a for a in args if a not in _HELP])
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        ref = ctx.meta.get("kb_runbook")
        if ref:
            _format_runbook_parameters(ref, formatter)


def _format_runbook_parameters(ref: str, formatter: click.HelpFormatter) -> None:
    from ..runner.source import load_runbook

    try:
        source = load_runbook(ref, ProjectPaths.discover())
    except KbError as exc:
        with formatter.section(f"Runbook {ref}"):
            formatter.write_text(f"(cannot read it: {exc})")
        return
    with formatter.section(f"Runbook {source.id} ({source.title})"):
        formatter.write_text(f"{source.path}")
    rows = []
    for p in source.params:
        meta = [p.type_label()]
        must_give = p.required and p.default in (None, "")
        meta.append("required" if must_give else f"default {p.default_label()}")
        meta += [c for c in p.constraint_label().split(", ") if c and not (must_give and c == "required")]
        text = f"[{'; '.join(meta)}]"
        rows.append((p.name, f"{p.description}  {text}" if p.description else text))
    with formatter.section("Runbook parameters (-p NAME VALUE)"):
        if rows:
            formatter.write_dl(rows)
        else:
            formatter.write_text("(none declared)")


@click.command(cls=RunCommand, name="run", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("runbook")
@click.option(
    "--profile",
    metavar="NAME|FILE",
    help="Connection profile: profiles/NAME.yaml, .lab/profiles/NAME.yaml or a path.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.yaml",
    help="YAML mapping of parameter values.",
)
@click.option(
    "-p",
    "--param",
    "cli_params",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="Set one parameter (repeatable; wins over --params and --profile).",
)
@click.option(
    "--plan",
    is_flag=True,
    help="List the changes (actions) without executing them; read-only checks still run.",
)
@click.option(
    "--records",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where records go (default: runs/ in the project).",
)
@click.option(
    "--timeout",
    type=float,
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="Per-cell execution timeout; 0 for none.",
)
def command(
    runbook: str,
    profile: str | None,
    params_file: Path | None,
    cli_params: tuple[tuple[str, str], ...],
    plan: bool,
    records: Path | None,
    timeout: float,
) -> None:
    """Run RUNBOOK (an id in runbooks/ or a path to a .py percent file or .ipynb) with papermill,
    keep its record under runs/<id>/<UTC timestamp>/, exit 0 passed, 1 failed/error, 2 bad input.

    `kb run RUNBOOK --help` lists the runbook's parameters."""
    from ..runner.execute import RunRequest, run_runbook

    request = RunRequest(
        runbook=runbook,
        profile=profile,
        params_file=params_file,
        cli_params=tuple(cli_params),
        plan=plan,
        records=records.resolve() if records else None,
        timeout=timeout or None,
        paths=ProjectPaths.discover(),
    )
    result = run_runbook(request)
    sys.stdout.flush()
    if result.exit_code:
        sys.exit(result.exit_code)
