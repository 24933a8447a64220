"""``kb docs``: generate the pages from issues/ and runbooks/, then build or serve the site.

Parses options and delegates to :mod:`platform_kb.site`; bad input raises UsageProblem (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import click

from ..paths import ProjectPaths
from ..site import build_site, generate_site, serve_site
from ..site.vendor import VENDORED, fetch


@click.group(name="docs", help="Build or serve the knowledge-base site.")
def command() -> None:
    pass


def _generate(paths: ProjectPaths) -> None:
    result = generate_site(paths)
    rel = (
        result.out_dir.relative_to(paths.root)
        if result.out_dir.is_relative_to(paths.root)
        else result.out_dir
    )
    click.echo(f"kb docs: generated {len(result.pages)} pages in {rel}/ ({len(result.changed)} changed)")


@command.command("generate")
def generate() -> None:
    """Write the pages for issues/ and runbooks/ into docs/_generated/ (no build)."""
    _generate(ProjectPaths.discover())


@command.command("vendor")
def vendor() -> None:
    """Fetch the site's pinned front-end files (Mermaid) from npm into the venv (scripts/setup runs it)."""
    for script in VENDORED:
        click.echo(f"kb docs: {script.npm_package}@{script.version} in {fetch(script)}")


@command.command("build")
@click.option(
    "--site-dir", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: site/)."
)
@click.option("--strict/--no-strict", default=True, show_default=True, help="Fail on any MkDocs warning.")
def build(site_dir: Path | None, strict: bool) -> None:
    """Generate the pages, then build the site into site/ with mkdocs build --strict."""
    paths = ProjectPaths.discover()
    _generate(paths)
    result = build_site(paths, site_dir=site_dir, strict=strict)
    for warning in result.warnings:
        click.echo(warning, err=True)
    click.echo(f"kb docs: built {result.pages} pages into {result.site_dir} in {result.seconds:.1f}s")


@command.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def serve(port: int, host: str) -> None:
    """Generate the pages and serve the site (regenerates when issues/ or runbooks/ change)."""
    paths = ProjectPaths.discover()
    _generate(paths)
    click.echo(f"kb docs: serving on http://{host}:{port}/ (Ctrl-C stops)")
    code = serve_site(
        paths,
        host,
        port,
        regenerate=lambda: _generate(paths),
        report=lambda message: click.echo(message, err=True),
    )
    if code:
        raise click.exceptions.Exit(code)
