"""The runbook API: what a runbook's cells call to narrate, check, change and record.

Where this sits in the flow: ``kb run`` (``platform_kb.runner``) starts a kernel with two
environment variables, ``KB_RUN_STATE`` (a private JSON state file) and ``KB_PLAN`` (``1`` in plan
mode). Inside the kernel, ``rb = runbook.start("id")`` returns a :class:`Runbook` that flushes every
step, finding, action and secret *reference* to that file at once, so the runner can build
``summary.json`` from it even when a cell fails half-way. Without ``KB_RUN_STATE`` (a plain
notebook, ``python runbooks/x.py``, plain papermill) the same calls work and keep state in memory.

Usage (cells stay short)::

    from platform_kb import runbook
    rb = runbook.start("spark-ui-ingress")
    with rb.step("터널 열기"):
        ...
    rb.say("**한국어** 마크다운")
    rb.table([{"name": "a", "value": 1}], title="표")
    rb.finding(id="proxybase-root", severity="error", title="...", detail="...", evidence={...}, fix="...")
    rb.action("kubectl apply -f x.yaml", command=["kubectl", "apply", "-f", "x.yaml"])  # not run under --plan
    key = rb.secret(minio_secret_key)  # "env:NAME" / "file:PATH" -> value (masked by the runner)

A cell that raises ``RunbookStopped`` (see :meth:`Runbook.stop_on_errors`) ends the run with status
``failed`` (checks failed) rather than ``error`` (a cell raised unexpectedly).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import secrets as _secrets

STATE_ENV = "KB_RUN_STATE"
PLAN_ENV = "KB_PLAN"
STATE_VERSION = 1
SEVERITIES = ("error", "warning", "info")
STEP_STATUSES = ("running", "passed", "failed", "skipped")
_FINDING_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SEVERITY_LABEL = {"error": "오류", "warning": "경고", "info": "정보"}
_SEVERITY_ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
_STEP_LABEL = {"passed": "✅ 통과", "failed": "❌ 실패", "skipped": "⏭️ 건너뜀", "running": "… 진행 중"}


class RunbookStopped(Exception):
    """Raised on purpose to stop a run whose checks failed; the runner reports status ``failed``."""


class StepSkipped(Exception):
    """Raised by :meth:`Step.skip` to leave a step early with status ``skipped``."""


class ActionFailed(RuntimeError):
    """A declared action's command exited non-zero."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy (anything unknown becomes its ``str``)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


@dataclass
class StepRecord:
    name: str
    status: str = "running"
    seconds: float = 0.0
    started: str = field(default_factory=_now)
    error: str | None = None
    reason: str | None = None


@dataclass
class FindingRecord:
    id: str
    severity: str
    title: str
    detail: str = ""
    fix: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    step: str | None = None
    remedies: list[dict[str, Any]] = field(default_factory=list)  # platform_kb.remedies.Remedy.to_json()


@dataclass
class ActionRecord:
    description: str
    command: list[str] | None = None
    command_line: str | None = None
    manifest: Any = None
    status: str = "planned"  # planned | done | failed
    step: str | None = None
    seconds: float = 0.0
    returncode: int | None = None


@dataclass
class RunState:
    """Everything the runner reads back; secrets appear as references only."""

    runbook: str
    plan: bool = False
    version: int = STATE_VERSION
    steps: list[StepRecord] = field(default_factory=list)
    findings: list[FindingRecord] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        return cls(
            runbook=str(data.get("runbook", "")),
            plan=bool(data.get("plan", False)),
            version=int(data.get("version", STATE_VERSION)),
            steps=[StepRecord(**s) for s in data.get("steps", [])],
            findings=[FindingRecord(**f) for f in data.get("findings", [])],
            actions=[ActionRecord(**a) for a in data.get("actions", [])],
            secrets=[str(s) for s in data.get("secrets", [])],
        )


def read_state(path: Path) -> RunState | None:
    """The state a kernel wrote (None if there is none yet or it is unreadable)."""
    try:
        return RunState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_state(path: Path, state: RunState) -> None:
    """Atomic write, private to the user (0600)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(state.to_json(), out, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def manifest_yaml(manifest: Any) -> str:
    """A manifest as ``kubectl`` users read it (YAML, keys in their given order)."""
    import yaml

    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, default_flow_style=False)


# --- output: Markdown in a notebook, plain text elsewhere ---------------------------------------


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def _show(markdown: str, plain: str | None = None) -> None:
    if _in_ipython():
        from IPython.display import display

        display({"text/markdown": markdown, "text/plain": plain if plain is not None else markdown}, raw=True)
    else:
        print(plain if plain is not None else markdown)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub-style pipe table (what the notebook and the site both render)."""
    cols = list(columns) if columns else list(dict.fromkeys(k for row in rows for k in row))
    if not cols:
        return "_(비어 있음)_"
    lines = ["| " + " | ".join(_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in cols) + " |" for row in rows]
    return "\n".join(lines)


def plain_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    cols = list(columns) if columns else list(dict.fromkeys(k for row in rows for k in row))
    cells = [[str(c) for c in cols]] + [
        ["" if r.get(c) is None else str(r.get(c)) for c in cols] for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cols))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


# --- the API ------------------------------------------------------------------------------------


class Step:
    """Handle yielded by :meth:`Runbook.step`."""

    def __init__(self, record: StepRecord) -> None:
        self.record = record

    @property
    def name(self) -> str:
        return self.record.name

    def skip(self, reason: str) -> None:
        """Leave the step now with status ``skipped``."""
        raise StepSkipped(reason)


class Runbook:
    """One run of one runbook; every mutation is flushed to the state file (if any) at once."""

    def __init__(self, name: str, state_path: Path | None = None, plan: bool = False) -> None:
        self.state_path = state_path
        existing = read_state(state_path) if state_path and state_path.exists() else None
        if existing is not None and existing.runbook == name:
            self.state = existing
            self.state.plan = plan
        else:
            self.state = RunState(runbook=name, plan=plan)
        self._stack: list[StepRecord] = []
        self._flush()

    # state -------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.state.runbook

    @property
    def plan(self) -> bool:
        """True under ``kb run --plan``: actions are recorded, not executed."""
        return self.state.plan

    @property
    def findings(self) -> list[FindingRecord]:
        return list(self.state.findings)

    @property
    def errors(self) -> list[FindingRecord]:
        return [f for f in self.state.findings if f.severity == "error"]

    @property
    def current_step(self) -> str | None:
        return self._stack[-1].name if self._stack else None

    def _flush(self) -> None:
        if self.state_path is not None:
            write_state(self.state_path, self.state)

    # steps -------------------------------------------------------------------------------------
    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """A named step: ``passed``, ``failed`` (it raised, or added an error finding) or ``skipped``."""
        record = StepRecord(name=str(name))
        self.state.steps.append(record)
        self._stack.append(record)
        errors_before = len(self.errors)
        started = time.monotonic()
        self._flush()
        try:
            yield Step(record)
        except StepSkipped as skipped:
            record.status, record.reason = "skipped", str(skipped)
        except BaseException as exc:
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        else:
            record.status = "failed" if len(self.errors) > errors_before else "passed"
        finally:
            record.seconds = round(time.monotonic() - started, 3)
            self._stack.pop()
            self._flush()
            self._show_step(record)

    def skip_step(self, name: str, reason: str) -> None:
        """Record a step that is not run at all (e.g. a previous check already failed)."""
        record = StepRecord(name=str(name), status="skipped", reason=reason)
        self.state.steps.append(record)
        self._flush()
        self._show_step(record)

    def _show_step(self, record: StepRecord) -> None:
        line = f"{_STEP_LABEL.get(record.status, record.status)} — **{record.name}** ({record.seconds:.2f}초)"
        if record.reason:
            line += f": {record.reason}"
        _show(line, f"[{record.status}] {record.name} ({record.seconds:.2f}s)")

    # narrative ---------------------------------------------------------------------------------
    def say(self, markdown: str) -> None:
        """Markdown narrative (Korean), rendered in the notebook and on the site."""
        _show(str(markdown))

    def table(
        self, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, title: str | None = None
    ) -> None:
        rows = list(rows)
        md = markdown_table(rows, columns)
        plain = plain_table(rows, columns)
        if title:
            md, plain = f"**{title}**\n\n{md}", f"{title}\n{plain}"
        _show(md, plain)

    # checks ------------------------------------------------------------------------------------
    def finding(
        self,
        id: str,  # noqa: A002 - the contract's name
        severity: str,
        title: str,
        detail: str = "",
        evidence: dict[str, Any] | None = None,
        fix: str = "",
        remedies: Any = (),
    ) -> FindingRecord:
        """Record a finding with a stable id; severity ``error`` makes the run ``failed``."""
        if severity not in SEVERITIES:
            raise ValueError(
                f"finding {id!r}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}"
            )
        if not _FINDING_ID.match(str(id)):
            raise ValueError(f"finding id must be lowercase letters, digits and '-', got {id!r}")
        record = FindingRecord(
            id=str(id),
            severity=severity,
            title=str(title),
            detail=str(detail or ""),
            fix=str(fix or ""),
            evidence=_jsonable(evidence or {}),
            step=self.current_step,
            remedies=[_jsonable(r.to_json() if hasattr(r, "to_json") else dict(r)) for r in remedies],
        )
        self.state.findings.append(record)
        self._flush()
        _show(self._finding_markdown(record), f"[{severity}] {record.id}: {record.title}")
        return record

    @staticmethod
    def _finding_markdown(f: FindingRecord) -> str:
        parts = [f"{_SEVERITY_ICON[f.severity]} **[{_SEVERITY_LABEL[f.severity]}] `{f.id}`** — {f.title}"]
        if f.detail:
            parts.append(f.detail)
        if f.evidence:
            parts.append(markdown_table([{"근거": k, "값": v} for k, v in f.evidence.items()]))
        if f.fix:
            parts.append(f"**해결:** {f.fix}")
        return "\n\n".join(parts)

    def stop_on_errors(self, message: str = "오류가 있어 이후 단계를 진행하지 않습니다.") -> None:
        """Raise :class:`RunbookStopped` if any error finding exists (the run ends as ``failed``)."""
        if self.errors:
            self.say(f"**중단:** {message}")
            raise RunbookStopped(", ".join(f.id for f in self.errors))

    def report(self) -> None:
        """Show the steps and findings so far as two tables (a good last cell)."""
        self.table(
            [{"단계": s.name, "상태": s.status, "초": s.seconds} for s in self.state.steps], title="단계"
        )
        if self.state.findings:
            rows = [
                {"id": f.id, "심각도": f.severity, "제목": f.title, "해결": f.fix}
                for f in self.state.findings
            ]
            self.table(rows, title="발견 사항")
        else:
            self.say("발견 사항 없음.")
        if self.state.actions:
            rows = [{"작업": a.command_line or a.description, "상태": a.status} for a in self.state.actions]
            self.table(rows, title="작업")

    # changes -----------------------------------------------------------------------------------
    def action(
        self,
        description: str,
        command: Sequence[str] | None = None,
        manifest: Any = None,
        apply: Callable[[], Any] | None = None,
        check: bool = True,
    ) -> Any:
        """A change to the system, declared so that ``--plan`` can list it instead of running it.

        ``apply`` (a callable) runs if given; else ``command`` (argv) runs with ``subprocess``; with
        neither, ``description`` itself is taken as the command line (split like a shell would).
        Plan mode records the action and returns None. Otherwise returns apply()'s result or the
        ``CompletedProcess``; a non-zero exit raises :class:`ActionFailed` when ``check``.
        """
        argv = list(command) if command is not None else None
        if argv is None and apply is None:
            if manifest is not None:
                raise ValueError(f"action {description!r}: a manifest needs apply= (or command=)")
            argv = shlex.split(description)
        record = ActionRecord(
            description=str(description),
            command=[str(a) for a in argv] if argv else None,
            command_line=shlex.join(str(a) for a in argv) if argv else None,
            manifest=_jsonable(manifest) if manifest is not None else None,
            step=self.current_step,
        )
        self.state.actions.append(record)
        self._flush()
        if self.plan:
            _show(
                self._action_markdown(record, "계획(실행 안 함)"),
                f"[plan] {record.command_line or record.description}",
            )
            return None
        started = time.monotonic()
        try:
            result = apply() if apply is not None else self._run_command(record, check)
        except BaseException:
            record.status = "failed"
            raise
        else:
            record.status = "done" if record.returncode in (None, 0) else "failed"
            return result
        finally:
            record.seconds = round(time.monotonic() - started, 3)
            self._flush()

    @staticmethod
    def _action_markdown(record: ActionRecord, label: str) -> str:
        text = f"**{label}:** {record.description}"
        if record.command_line and record.command_line != record.description:
            text += f"\n\n```console\n$ {record.command_line}\n```"
        if record.manifest is not None:
            text += "\n\n```yaml\n" + manifest_yaml(record.manifest) + "```"
        return text

    def _run_command(self, record: ActionRecord, check: bool) -> subprocess.CompletedProcess[str]:
        assert record.command is not None
        _show(self._action_markdown(record, "실행"), f"$ {record.command_line}")
        proc = subprocess.run(record.command, capture_output=True, text=True, check=False)
        record.returncode = proc.returncode
        output = (proc.stdout + proc.stderr).strip()
        if output:
            _show(f"```text\n{output}\n```", output)
        if check and proc.returncode != 0:
            raise ActionFailed(f"{record.command_line} exited with {proc.returncode}")
        return proc

    # secrets -----------------------------------------------------------------------------------
    def secret(self, reference: str) -> str:
        """Resolve ``env:NAME`` / ``file:PATH``; the reference (never the value) is recorded so the
        runner masks the value everywhere."""
        value = _secrets.resolve(reference, base=Path.cwd())
        if reference not in self.state.secrets:
            self.state.secrets.append(str(reference))
            self._flush()
        return value


def start(name: str, *, plan: bool | None = None, state_path: str | Path | None = None) -> Runbook:
    """The runbook of this kernel: state file from ``$KB_RUN_STATE``, plan mode from ``$KB_PLAN``."""
    path = state_path if state_path is not None else os.environ.get(STATE_ENV) or None
    if plan is None:
        plan = os.environ.get(PLAN_ENV, "") not in ("", "0", "false", "no")
    return Runbook(str(name), Path(path) if path else None, bool(plan))
