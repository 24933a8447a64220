"""What ``kb run`` prints while a runbook executes: one line per code cell, the steps and findings
it produced, the failing step and its error, the plan, the verdict. Never a raw cell output.

Where this sits in the flow: ``execute.run_runbook`` calls these methods; every string passes
through the run's :class:`~platform_kb.secrets.Masker` (which learns secrets as cells register
them) right before it is printed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from ..runbook import ActionRecord, FindingRecord, StepRecord, manifest_yaml
from ..secrets import Masker

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_STATUS_STYLE = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "interrupted": "red",
    "skipped": "yellow",
    "running": "cyan",
}
_STEP_MARK = {"passed": "✓", "failed": "✗", "skipped": "-", "running": "…"}
_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "blue"}


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class RunConsole:
    def __init__(self, masker: Masker, file: TextIO | None = None) -> None:
        self.masker = masker
        self.console = Console(file=file or sys.stdout, highlight=False, soft_wrap=True)

    def _print(self, text: str, style: str | None = None, indent: int = 0) -> None:
        masked = self.masker.text(text)
        self.console.print(Text(" " * indent + masked, style=style or ""))

    def header(
        self,
        runbook_id: str,
        title: str,
        record: str,
        plan: bool,
        parameters: dict[str, Any],
        sources: dict[str, str],
    ) -> None:
        mode = "  [plan: actions are listed, not executed]" if plan else ""
        self._print(f"kb run {runbook_id} — {title}{mode}", "bold")
        self._print(f"record: {record}", "dim")
        for name, value in parameters.items():
            self._print(
                f"{name} = {json.dumps(value, ensure_ascii=False)}  ({sources.get(name, 'default')})",
                "dim",
                2,
            )

    def cell(
        self, position: int, total: int, seconds: float, ok: bool, label: str, cut_by: str | None = None
    ) -> None:
        """One finished code cell; ``cut_by`` names the signal that interrupted it (never a ✓)."""
        mark, style = ("✓", "green") if ok and cut_by is None else ("✗", "red")
        note = f"  (interrupted by {cut_by})" if cut_by else ""
        self._print(f"[{position}/{total}] {mark} {seconds:5.2f}s  {label}{note}", style)

    def interrupted(self, where: str, signal: str) -> None:
        self._print(f"✗ {where} was interrupted by {signal}; kernel stopped, partial record kept", "bold red")

    def steps(self, steps: Sequence[StepRecord]) -> None:
        for step in steps:
            extra = f": {step.reason}" if step.reason else ""
            self._print(
                f"{_STEP_MARK.get(step.status, '?')} step {step.name} — {step.status} ({step.seconds:.2f}s){extra}",
                _STATUS_STYLE.get(step.status),
                6,
            )

    def findings(self, findings: Sequence[FindingRecord]) -> None:
        for f in findings:
            self._print(f"! [{f.severity}] {f.id}: {f.title}", _SEVERITY_STYLE.get(f.severity), 6)

    def failure(self, where: str, ename: str, evalue: str, traceback: Sequence[str]) -> None:
        self._print(f"✗ {where} failed: {ename}: {evalue}", "bold red")
        lines = strip_ansi("\n".join(traceback)).splitlines()
        tail = lines[-20:]
        if len(lines) > len(tail):
            self._print("...", "dim", 2)
        for line in tail:
            self._print(line, "dim", 2)

    def kernel_output(self, text: str) -> None:
        lines = strip_ansi(text).strip().splitlines()[-15:]
        if lines:
            self._print("kernel output (last lines):", "dim")
            for line in lines:
                self._print(line, "dim", 2)

    def plan(self, actions: Sequence[ActionRecord]) -> None:
        self._print(f"plan: {len(actions)} action(s), not executed", "bold")
        for i, action in enumerate(actions, 1):
            self._print(
                f"{i}. {action.description}" + (f"   [step: {action.step}]" if action.step else ""), None, 2
            )
            if action.command_line and action.command_line != action.description:
                self._print(f"$ {action.command_line}", "cyan", 5)
            if action.manifest is not None:
                for line in manifest_yaml(action.manifest).splitlines():
                    self._print(line, "cyan", 5)

    def verdict(self, status: str, exit_code: int, record: str, findings: Sequence[FindingRecord]) -> None:
        counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
        detail = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
        self._print(f"{status} (exit {exit_code}) — {detail}", f"bold {_STATUS_STYLE.get(status, '')}")
        self._print(f"record: {record}", "dim")
