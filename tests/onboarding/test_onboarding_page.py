"""docs/onboarding.md: every `kb` command on the page exists as written, and the marked blocks run.

A fenced ```bash block preceded by ``<!-- test -->`` runs, as one bash script, in a fresh copy of
the checkout (a clone: git-initialised, .venv linked); ``<!-- test lab -->`` blocks run the lab
walk-through in their own copy; ``exit=N`` says which exit code the block is expected to end with.
Blocks with placeholders (the homelab's example hosts, `git clone <...>`) are not marked; their
`kb` commands are still parsed against the real CLI.
"""

from __future__ import annotations

import os
import random
import re
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from platform_kb.cli import cli
from platform_kb.processes import free_port, spawn, wait_for_port

from ..prereq import PREFIX

VENV = Path(sys.executable).parent.parent
PAGE = Path(__file__).resolve().parents[2] / "docs" / "onboarding.md"
_MARKER = re.compile(r"^<!--\s*test\b(?P<opts>[^>]*)-->$")


@dataclass(frozen=True)
class Block:
    line: int
    code: str
    marked: bool
    lab: bool = False
    exit_code: int = 0

    def kb_lines(self) -> list[str]:
        return [line.strip() for line in self.code.splitlines() if line.strip().startswith(".venv/bin/kb ")]


def bash_blocks(text: str) -> list[Block]:
    """Every ```bash block with the test marker (if any) on the nearest non-blank line above it."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```bash":
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        above = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = _MARKER.match(above)
        opts = marker.group("opts").split() if marker else []
        exit_code = next((int(o.split("=", 1)[1]) for o in opts if o.startswith("exit=")), 0)
        blocks.append(Block(i + 1, "\n".join(lines[i + 1 : end]), bool(marker), "lab" in opts, exit_code))
        i = end + 1
    return blocks


BLOCKS = bash_blocks(PAGE.read_text(encoding="utf-8"))


def resolve(words: list[str]) -> tuple[click.Command, list[str], click.Context]:
    """The click command a `kb WORDS...` line names, its remaining args and its parent context."""
    ctx = click.Context(cli, info_name="kb")
    command: click.Command = cli
    rest = list(words)
    while isinstance(command, click.Group):
        assert rest, f"`kb {' '.join(words)}` names a group, not a command"
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"`kb {' '.join(words)}`: no command {rest[0]!r}"
        ctx = click.Context(sub, info_name=rest[0], parent=ctx)
        command, rest = sub, rest[1:]
    return command, rest, ctx


def test_page_marks_the_commands_a_new_contributor_needs() -> None:
    marked = "\n".join(b.code for b in BLOCKS if b.marked and not b.lab)
    lab = "\n".join(b.code for b in BLOCKS if b.lab)
    for needed in (
        "kb doctor",
        "kb check",
        "kb new issue",
        "kb new runbook",
        "kb docs build",
        "pre-commit install",
    ):
        assert needed in marked, needed
    for needed in (
        "kb lab up --scenario proxybase-root",
        "kb run spark-ui-ingress --profile lab",
        "kb runs publish",
        "kb lab down",
    ):
        assert needed in lab, needed
    assert any("kb docs serve" in b.code for b in BLOCKS)


@pytest.mark.parametrize("line", sorted({line for b in BLOCKS for line in b.kb_lines()}))
def test_every_kb_command_on_the_page_parses(line: str) -> None:
    """Each `kb ...` line names an existing command with options and arguments it accepts."""
    words = shlex.split(line, comments=True)[1:]
    command, rest, ctx = resolve(words)
    try:
        command.make_context(ctx.info_name, rest, parent=ctx.parent)
    except click.ClickException as exc:
        pytest.fail(f"{line}: {exc.format_message()}")


def run_block(block: Block, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\n" + block.code + "\n"
    return subprocess.run(
        ["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture()
def clone(repo_copy: Path) -> Path:
    """A fresh clone as a new contributor has it after `scripts/setup`: a git repository with .venv."""
    (repo_copy / ".venv").symlink_to(VENV)
    subprocess.run(["git", "init", "-q", str(repo_copy)], check=True, capture_output=True)
    return repo_copy


def clone_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(NO_MKDOCS_2_WARNING="1", PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    return env


def test_onboarding_commands_run_as_written(clone: Path, tmp_path: Path) -> None:
    env = clone_env(tmp_path)
    blocks = [b for b in BLOCKS if b.marked and not b.lab]
    for block in blocks:
        done = run_block(block, clone, env)
        assert done.returncode == block.exit_code, (
            f"docs/onboarding.md:{block.line}\n{done.stdout}\n{done.stderr}"
        )
    assert (clone / "issues" / "3-12-grafana-alertmanager.md").is_file()
    assert (clone / "runbooks" / "alert-rules.py").is_file()
    assert (clone / "site" / "onboarding" / "index.html").is_file()
    # the new write-up and runbook are in the built site: their pages and both index pages
    site = clone / "site"
    issue_page = next(site.rglob("3-12-grafana-alertmanager/index.html"))
    assert "Grafana 대시보드와 Alertmanager 알림 규칙" in issue_page.read_text(encoding="utf-8")
    runbook_page = next(site.rglob("alert-rules/index.html"))
    assert "알림 규칙 점검" in runbook_page.read_text(encoding="utf-8")
    indexes = [
        p.read_text(encoding="utf-8")
        for p in site.rglob("index.html")
        if p.parent.name in ("issues", "runbooks")
    ]
    assert any("3-12" in page for page in indexes) and any("alert-rules" in page for page in indexes)
    assert (clone / ".git" / "hooks" / "pre-commit").is_file()


def test_docs_serve_serves_the_site(clone: Path, tmp_path: Path) -> None:
    """The page's `kb docs serve` line, on a free port (8000 may be taken on a shared machine)."""
    line = next(line for b in BLOCKS for line in b.kb_lines() if "kb docs serve" in line)
    port = free_port()
    argv = [
        str(clone / word) if word.startswith(".venv/") else word for word in shlex.split(line, comments=True)
    ]
    proc, record = spawn(
        "kb-docs-serve",
        [*argv, "--port", str(port)],
        tmp_path / "serve.log",
        env=clone_env(tmp_path),
        cwd=clone,
    )
    try:
        wait_for_port("127.0.0.1", port, 120, proc, tmp_path / "serve.log")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/onboarding/", timeout=30) as response:
            assert response.status == 200
            assert "시작하기" in response.read().decode("utf-8")
    finally:
        record.stop()
        proc.wait(timeout=10)


@pytest.fixture()
def lab_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Its own node address and local ingress port, so this lab never meets another one on the machine."""
    env = clone_env(tmp_path)
    env["KB_LAB_NODE"] = f"127.0.{random.randint(100, 250)}.{random.randint(2, 250)}"
    env["KB_LAB_LOCAL_INGRESS"] = f"127.0.0.1:{free_port()}"
    yield env


LAB_OPT_IN = "KB_TEST_ONBOARDING_LAB"


@pytest.mark.lab
@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get(LAB_OPT_IN) == "0",
    reason=f"{PREFIX}the lab ({LAB_OPT_IN}=0): the lab walk-through (about a minute: lab up + a Spark UI diagnosis) is skipped",
)
def test_lab_walkthrough_runs_as_written(clone: Path, lab_env: dict[str, str]) -> None:
    """lab up -> doctor --profile lab -> kb run (exit 1: the scenario's findings) -> records -> publish -> lab down."""
    blocks = [b for b in BLOCKS if b.lab]
    try:
        for block in blocks:
            done = run_block(block, clone, lab_env)
            assert done.returncode == block.exit_code, (
                f"docs/onboarding.md:{block.line}\n{done.stdout}\n{done.stderr}"
            )
        assert (clone / "runs" / "spark-ui-ingress" / "latest" / "summary.json").is_file()
        assert (clone / "records" / "spark-ui-ingress" / "summary.json").is_file()
    finally:
        subprocess.run(
            [str(VENV / "bin" / "kb"), "lab", "down"],
            cwd=clone,
            env=lab_env,
            capture_output=True,
            timeout=120,
            check=False,
        )
