"""MkDocs wrappers: a strict ``mkdocs build`` and a ``mkdocs serve`` that regenerates on change.

Where it sits: the second step of ``kb docs build`` / ``kb docs serve``, after
:func:`platform_kb.site.generate.generate_site`. MkDocs runs as a child process
(``python -m mkdocs``) with ``NO_MKDOCS_2_WARNING=1`` (Material 9.8 prints an end-of-life notice
otherwise). A strict build that fails on warnings is bad input (exit 2); any other failure is exit 1.
After a build, :func:`platform_kb.site.audit.audit_site` must find no external load (closed network).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KbError, UsageProblem
from ..paths import ProjectPaths
from .audit import audit_site


@dataclass(frozen=True)
class BuildResult:
    site_dir: Path
    pages: int
    seconds: float
    warnings: tuple[str, ...]


def mkdocs_env() -> dict[str, str]:
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def mkdocs_command(paths: ProjectPaths, *args: str) -> list[str]:
    return [sys.executable, "-m", "mkdocs", *args, "--config-file", str(paths.root / "mkdocs.yml")]


def build_site(paths: ProjectPaths, site_dir: Path | None = None, strict: bool = True) -> BuildResult:
    """``mkdocs build [--strict]`` into ``site_dir`` (default ``site/``); raises with MkDocs' warnings."""
    site_dir = (site_dir or paths.site).resolve()
    args = ["build", "--clean", "--site-dir", str(site_dir)] + (["--strict"] if strict else [])
    started = time.monotonic()
    proc = subprocess.run(
        mkdocs_command(paths, *args), cwd=paths.root, env=mkdocs_env(), capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    output = (proc.stdout + proc.stderr).splitlines()
    warnings = tuple(line for line in output if line.startswith(("WARNING", "ERROR")))
    if proc.returncode != 0:
        if any("strict mode" in line for line in output) and warnings:
            raise UsageProblem("mkdocs build --strict failed:\n  " + "\n  ".join(warnings))
        tail = "\n  ".join(output[-20:])
        raise KbError(f"mkdocs build failed (exit {proc.returncode}):\n  {tail}")
    loads = audit_site(site_dir)
    if loads:
        shown = [load.format(site_dir) for load in loads[:20]]
        more = f"\n  ... and {len(loads) - 20} more" if len(loads) > 20 else ""
        raise UsageProblem(
            "the built site loads files from other hosts (it must work in a closed network):\n  "
            + "\n  ".join(shown)
            + more
        )
    pages = sum(1 for _ in site_dir.rglob("index.html"))
    return BuildResult(site_dir, pages, seconds, warnings)


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageProblem(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def _snapshot(folders: Iterable[Path]) -> dict[Path, float]:
    state: dict[Path, float] = {}
    for folder in folders:
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.is_file():
                    state[path] = path.stat().st_mtime
    return state


def serve_site(
    paths: ProjectPaths,
    host: str,
    port: int,
    regenerate: Callable[[], None],
    report: Callable[[str], None],
    poll_seconds: float = 1.0,
) -> int:
    """Run ``mkdocs serve`` on ``host:port``; call ``regenerate`` when issues/ or runbooks/ change.

    Blocks until MkDocs exits or Ctrl-C; returns MkDocs' exit code. MkDocs itself watches ``docs/``
    (the regenerated pages included) and rebuilds.
    """
    ensure_port_free(host, port)
    previous = _stop_on_sigterm()
    proc = subprocess.Popen(
        mkdocs_command(paths, "serve", "--dev-addr", f"{host}:{port}"), cwd=paths.root, env=mkdocs_env()
    )
    sources = (paths.issues, paths.runbooks)
    seen = _snapshot(sources)
    try:
        while proc.poll() is None:
            time.sleep(poll_seconds)
            now = _snapshot(sources)
            if now != seen:
                seen = now
                try:
                    regenerate()
                except KbError as exc:
                    report(f"kb: pages not regenerated: {exc}")
        return proc.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    """SIGTERM (e.g. a stop by pid) ends serving like Ctrl-C, so MkDocs is stopped too."""
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread
        return None
