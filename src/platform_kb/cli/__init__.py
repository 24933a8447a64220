"""The ``kb`` command: parses arguments and delegates; no logic lives here.

Each command group sits in its own module under ``platform_kb.cli`` and is imported only when
used, so ``kb --help`` stays fast. Other installed packages add commands through the entry-point
group ``platform_kb.commands`` (the lab package adds ``kb lab`` that way, so the product never
imports the lab). Errors from the package (:class:`platform_kb.errors.KbError`)
become a one-line message on stderr and the error's exit code (2 for bad input).
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import EntryPoint, entry_points

import click

from ..errors import KbError

PLUGIN_GROUP = "platform_kb.commands"

# command name -> (module under platform_kb.cli, one-line help); each module has ``command``
COMMANDS: dict[str, tuple[str, str]] = {
    "docs": ("docs", "Build or serve the knowledge-base site."),
    "check": ("check", "Validate write-ups, runbooks and internal links."),
    "tunnel": ("tunnel", "Open the bastion tunnel (like ssh -N -L)."),
    "run": ("run", "Run a runbook with papermill and keep its record."),
    "runs": ("runs", "List and publish run records."),
    "new": ("new", "Create a write-up or runbook from the template."),
    "doctor": ("doctor", "Check this machine and a profile."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(_plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        plugin = _plugins().get(cmd_name)
        if plugin is not None and cmd_name not in COMMANDS:
            return plugin.load()
        if cmd_name not in COMMANDS:
            return None
        module_name, _help = COMMANDS[cmd_name]
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{module_name}":
                return _not_yet(cmd_name)
            raise
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _short_help(ctx, self, name)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _plugins() -> dict[str, EntryPoint]:
    """Commands other installed packages register under :data:`PLUGIN_GROUP`."""
    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


def _short_help(ctx: click.Context, group: click.Group, name: str) -> str:
    if name in COMMANDS:
        return COMMANDS[name][1]
    command = group.get_command(ctx, name)
    return command.get_short_help_str(limit=70) if command else ""


def _not_yet(name: str) -> click.Command:
    @click.command(name=name, help=COMMANDS[name][1], context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def placeholder(args: tuple[str, ...]) -> None:
        raise click.UsageError(f"`kb {name}` is not available in this version")

    return placeholder


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="platform-kb")
def cli() -> None:
    """platform-kb: write-ups and runbooks for the homelab data platform."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: KbError -> message and exit code."""
    try:
        cli.main(args=argv, prog_name="kb", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KbError as exc:
        click.echo(f"kb: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(0)
