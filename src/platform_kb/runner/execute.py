"""``run_runbook()``: the whole of ``kb run`` as one linear pipeline of short steps.

Where this sits in the flow (the CLI only parses flags and calls this)::

    load      source.load_runbook               runbooks/<id>.py -> notebook + ParamSpecs
    validate  validate.resolve_parameters       profile < params file < -p; UsageProblem -> exit 2,
                                                nothing executed, no record
    mask      secrets.Masker                    every resolved secret, before anything is written
    record    records.RecordDir.create          runs/<id>/<UTC timestamp>/ (0700), latest ->
    execute   engine.execute_notebook           papermill + IPC kernel; after each cell the
                                                masked partial record is written
    conclude  _conclude                         status passed | failed | error, exit 0 | 1
    write     records.write_record              final masked output.ipynb + summary.json (0600)

The kernel reports steps, findings, actions and secret *references* through a private state
file (``platform_kb.runbook``); the runner reads it after every cell.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from ..errors import UsageProblem
from ..paths import ProjectPaths
from ..profiles import load_profile
from ..runbook import PLAN_ENV, STATE_ENV, RunState, read_state
from ..secrets import Masker, SecretError, resolve
from .console import RunConsole
from .interrupt import KernelHandle, SignalGuard, exit_code_for, private_tmp, signal_name
from .records import RecordDir, RunSummary, check_records_base, write_record
from .source import RunbookSource, load_runbook
from .validate import ResolvedParameters, read_params_file, resolve_parameters

if TYPE_CHECKING:  # papermill is imported only once a run really starts (a bad invocation fails fast)
    from papermill.exceptions import PapermillExecutionError

DEFAULT_TIMEOUT = 600.0
STOPPED = "RunbookStopped"  # platform_kb.runbook.RunbookStopped: checks failed, not a crash


@dataclass(frozen=True)
class RunRequest:
    runbook: str
    profile: str | None = None
    params_file: Path | None = None
    cli_params: tuple[tuple[str, str], ...] = ()
    plan: bool = False
    records: Path | None = None
    timeout: float | None = DEFAULT_TIMEOUT  # per cell; None or 0: no limit
    paths: ProjectPaths = field(default_factory=ProjectPaths.discover)


@dataclass(frozen=True)
class RunResult:
    status: str
    exit_code: int
    record: Path
    summary: dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


# --- steps before execution ---------------------------------------------------------------------


def validate_request(request: RunRequest, source: RunbookSource) -> ResolvedParameters:
    """All parameter sources merged and checked (UsageProblem otherwise)."""
    if request.timeout is not None and (not math.isfinite(request.timeout) or request.timeout < 0):
        raise UsageProblem(f"--timeout must be a finite number >= 0 seconds (0: none), got {request.timeout}")
    check_records_base(request.records or request.paths.runs, "--records" if request.records else "runs/")
    profile = load_profile(request.profile, request.paths).as_parameters() if request.profile else None
    params_file = read_params_file(request.params_file) if request.params_file else None
    return resolve_parameters(
        source.params,
        profile=profile,
        params_file=params_file,
        cli=list(request.cli_params),
        base=request.paths.root,
        params_file_name=f"params file {request.params_file}" if request.params_file else "params file",
    )


def kernel_env(state_path: Path, plan: bool, root: Path, tmp: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if tmp is not None:  # the kernel's temporary files live and die with the run's private folder
        env["TMPDIR"] = str(tmp)
    env[STATE_ENV] = str(state_path)
    env[PLAN_ENV] = "1" if plan else "0"
    env["KB_ROOT"] = str(root)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


# --- during execution ---------------------------------------------------------------------------


def _label(cell: nbformat.NotebookNode) -> str:
    if "injected-parameters" in cell.metadata.get("tags", []):
        return "(injected parameters)"
    if "parameters" in cell.metadata.get("tags", []):
        return "(parameters)"
    for line in cell.source.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line if len(line) <= 70 else line[:67] + "..."
    return "(comments only)"


def tidy_metadata(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """papermill stamps ``input_path`` with the input itself (a whole NotebookNode here) and
    ``output_path`` with None: record the runbook's relative path and the record's file name."""
    meta = nb.metadata.setdefault("papermill", {})
    meta["input_path"] = source
    meta["output_path"] = "output.ipynb"
    return nb


class RunTracker:
    """Listens to cell events: learns secrets, prints progress, writes the masked partial record."""

    def __init__(
        self,
        record: RecordDir,
        summary: RunSummary,
        state_path: Path,
        masker: Masker,
        console: RunConsole,
        root: Path,
        total: int,
    ) -> None:
        self.record, self.summary, self.state_path = record, summary, state_path
        self.masker, self.console, self.root, self.total = masker, console, root, total
        self.nb: nbformat.NotebookNode | None = None
        self.state = RunState(runbook=summary.runbook, plan=summary.plan_mode)
        self.position = 0
        self.started = time.monotonic()
        self.current_cell: int | None = None
        self.current_label: str | None = None
        self.signal: int | None = None
        self.cut: dict[str, Any] | None = None  # the cell a signal cut off
        self._known_secrets: set[str] = set()

    def interrupted(self, signum: int) -> None:
        """A signal came (called from the signal handler: no I/O here, just note where we were)."""
        self.signal = signum
        self.cut = {"cell_index": self.current_cell, "cell": self.current_label}

    def refresh_state(self) -> RunState:
        state = read_state(self.state_path)
        if state is not None:
            self.state = state
            for ref in state.secrets:
                self._learn(ref)
        return self.state

    def _learn(self, ref: str) -> None:
        if ref in self._known_secrets:
            return
        self._known_secrets.add(ref)
        try:
            self.masker.add(resolve(ref, base=self.root))
        except SecretError:
            pass  # the kernel could not resolve it either, so it has no value to leak

    def cell_started(self, index: int, cell: nbformat.NotebookNode) -> None:
        self.current_cell, self.current_label = index, _label(cell)
        self.started = time.monotonic()

    def cell_finished(self, index: int, cell: nbformat.NotebookNode, nb: nbformat.NotebookNode) -> None:
        self.nb = nb
        if cell.cell_type != "code":
            return
        seconds = time.monotonic() - self.started
        before_steps, before_findings = len(self.state.steps), len(self.state.findings)
        state = self.refresh_state()
        self.position += 1
        ok = not any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if self.signal is not None and self.cut is not None and self.cut["cell_index"] == index:
            self.console.cell(
                self.position, self.total, seconds, False, _label(cell), signal_name(self.signal)
            )
        else:
            self.console.cell(self.position, self.total, seconds, ok, _label(cell))
        self.current_cell = self.current_label = None
        self.console.steps([s for s in state.steps[before_steps:] if s.status != "running"])
        self.console.findings(state.findings[before_findings:])
        fill_from_state(self.summary, state)
        write_record(self.record, tidy_metadata(nb, self.summary.source), self.summary, self.masker)


def fill_from_state(summary: RunSummary, state: RunState) -> None:
    summary.steps = [
        {
            "name": s.name,
            "status": s.status,
            "seconds": s.seconds,
            **({"error": s.error} if s.error else {}),
            **({"reason": s.reason} if s.reason else {}),
        }
        for s in state.steps
    ]
    summary.findings = [asdict(f) for f in state.findings]
    refs = [
        str(summary.parameters[name]) for name in summary.secret_parameters if summary.parameters.get(name)
    ]
    summary.secret_references = list(dict.fromkeys(refs + state.secrets))
    actions = [asdict(a) for a in state.actions]
    summary.plan = actions if summary.plan_mode else []
    summary.actions = [] if summary.plan_mode else actions


# --- after execution ----------------------------------------------------------------------------


def _failing_step(state: RunState) -> str | None:
    for step in reversed(state.steps):
        if step.status in ("failed", "running"):
            return step.name
    return None


def _conclude(state: RunState, error: PapermillExecutionError | None) -> tuple[str, int]:
    if error is not None:
        return ("failed" if error.ename == STOPPED else "error"), 1
    if any(f.severity == "error" for f in state.findings) or any(s.status == "failed" for s in state.steps):
        return "failed", 1
    return "passed", 0


def _error_info(
    error: PapermillExecutionError, state: RunState, nb: nbformat.NotebookNode | None
) -> dict[str, Any]:
    step = _failing_step(state)
    failed = [
        c
        for c in (nb.cells if nb is not None else [])
        if any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    cell_label = _label(failed[0]) if failed else None
    return {
        "step": step,
        "cell": cell_label,
        "exec_count": error.exec_count,
        "ename": error.ename,
        "evalue": error.evalue,
    }


def run_context(profile: str | None, paths: ProjectPaths) -> dict[str, Any]:
    """The profile's name and the labels of its ``run_context`` file (the lab's scenario, for one)."""
    if not profile:
        return {}
    loaded = load_profile(profile, paths)
    return {"profile": loaded.name, **loaded.run_labels()}


# --- the pipeline -------------------------------------------------------------------------------


def run_runbook(request: RunRequest, console_file: Any = None) -> RunResult:
    """Run one runbook end to end (see the module docstring for the steps)."""
    source = load_runbook(request.runbook, request.paths)
    source.nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (platform-kb)",
        "language": "python",
    }
    resolved = validate_request(request, source)
    masker = Masker.of(resolved.secret_values)
    console = RunConsole(masker, console_file)

    started = _now()
    record = RecordDir.create(request.records or request.paths.runs, source.id, started)
    summary = RunSummary(
        runbook=source.id,
        title=source.title,
        source=_relative(source.path, request.paths.root),
        run=record.name,
        started=_iso(started),
        plan_mode=request.plan,
        context=run_context(request.profile, request.paths),
        parameters=dict(resolved.values),
        parameter_sources=dict(resolved.sources),
        secret_parameters=[p.name for p in source.params if p.secret],
    )
    handle = KernelHandle()
    # from here on a signal is noted and the kernel stopped; the record is always finished
    with SignalGuard(handle) as guard:
        write_record(record, None, summary, masker)
        console.header(
            source.id, source.title, str(record.path), request.plan, resolved.values, resolved.sources
        )
        # 0700; removed on every exit path, with what the kernel put in its TMPDIR inside it
        with tempfile.TemporaryDirectory(prefix="kb-run-", ignore_cleanup_errors=True) as work:
            state_path = Path(work) / "state.json"
            total = sum(1 for c in source.nb.cells if c.cell_type == "code") + (1 if resolved.values else 0)
            tracker = RunTracker(record, summary, state_path, masker, console, request.paths.root, total)
            guard.on_signal = tracker.interrupted
            try:
                error = _execute(source, resolved, request, tracker, Path(work), console, handle, guard)
            finally:
                handle.sweep()
            state = tracker.refresh_state()
        return _finish(request, record, summary, masker, console, tracker, state, error, started)


def _finish(
    request: RunRequest,
    record: RecordDir,
    summary: RunSummary,
    masker: Masker,
    console: RunConsole,
    tracker: RunTracker,
    state: RunState,
    error: PapermillExecutionError | None,
    started: datetime,
) -> RunResult:
    """Conclude, write the final record, print the verdict."""
    status, exit_code = _conclude(state, error)
    finished = _now()
    fill_from_state(summary, state)
    summary.finished, summary.seconds = _iso(finished), round((finished - started).total_seconds(), 3)
    if tracker.signal is not None:
        status, exit_code = "interrupted", exit_code_for(tracker.signal)
        cut = tracker.cut or {}
        summary.interrupted = {
            "signal": signal_name(tracker.signal),
            "cell": cut.get("cell"),
            "cell_index": cut.get("cell_index"),
            "step": _failing_step(state),
        }
        for step in summary.steps:  # the step the signal cut off (the kernel saw a KeyboardInterrupt)
            if step["status"] == "running" or str(step.get("error", "")).startswith("KeyboardInterrupt"):
                step.update(status="failed", error=f"interrupted by {signal_name(tracker.signal)}")
        where = f"cell {cut.get('cell')!r}" if cut.get("cell") else "the run"
        console.interrupted(where, signal_name(tracker.signal))
    elif error is not None:
        summary.error = _error_info(error, state, tracker.nb)
        for step in summary.steps:  # cut off by a timeout or a dead kernel
            if step["status"] == "running":
                step.update(status="failed", error=f"{error.ename}: {error.evalue}")
        where = (
            f"step {summary.error['step']!r}" if summary.error["step"] else f"cell {summary.error['cell']!r}"
        )
        console.failure(where, error.ename, error.evalue, error.traceback)
    summary.status, summary.exit_code = status, exit_code
    if tracker.nb is not None:
        tidy_metadata(tracker.nb, summary.source)
    write_record(record, tracker.nb, summary, masker)

    if request.plan and tracker.signal is None:
        console.plan(state.actions)
    console.verdict(status, exit_code, str(record.path), state.findings)
    return RunResult(status, exit_code, record.path, summary.to_json())


def _execute(
    source: RunbookSource,
    resolved: ResolvedParameters,
    request: RunRequest,
    tracker: RunTracker,
    work: Path,
    console: RunConsole,
    handle: KernelHandle,
    guard: SignalGuard,
) -> PapermillExecutionError | None:
    """Run the cells in a worker thread (the main thread keeps the signal handlers, see
    ``interrupt``); the executed notebook ends up in ``tracker.nb``. A cell error is returned; a
    crash of the machinery still leaves a (masked) partial record. After a signal the outcome is
    whatever the cut cell ended with (``tracker.signal`` says the run was interrupted)."""
    from papermill.exceptions import PapermillExecutionError

    from .engine import KernelLaunch, execute_notebook

    timeout = request.timeout or None
    kernel_log = work / "kernel.log"
    outcome: dict[str, BaseException] = {}
    with open(kernel_log, "wb") as log:
        launch = KernelLaunch(
            env=kernel_env(tracker.state_path, request.plan, request.paths.root, private_tmp(work)),
            cwd=request.paths.root,
            output=log,
            handle=handle,
        )

        def work_thread() -> None:
            try:
                tracker.nb = execute_notebook(source.nb, resolved.values, tracker, launch, timeout)
            except BaseException as exc:  # handed to the main thread
                outcome["error"] = exc

        thread = threading.Thread(target=work_thread, name="kb-run-notebook", daemon=True)
        thread.start()
        guard.wait(thread)
    exc = outcome.get("error")
    if exc is None or tracker.signal is not None:
        return None
    if isinstance(exc, PapermillExecutionError):
        if exc.ename == "DeadKernelError":
            console.kernel_output(kernel_log.read_text(errors="replace"))
        return exc
    _write_crash(tracker, exc)
    console.kernel_output(kernel_log.read_text(errors="replace"))
    return PapermillExecutionError(
        cell_index=tracker.current_cell if tracker.current_cell is not None else -1,
        exec_count=None,
        source="",
        ename=type(exc).__name__,
        evalue=str(exc),
        traceback=[],
    )


def _write_crash(tracker: RunTracker, exc: BaseException) -> None:
    summary = tracker.summary
    fill_from_state(summary, tracker.refresh_state())
    summary.status, summary.exit_code = "error", 1
    summary.finished = _iso(_now())
    summary.error = {
        "step": _failing_step(tracker.state),
        "cell": None,
        "ename": type(exc).__name__,
        "evalue": str(exc),
    }
    nb = tidy_metadata(tracker.nb, summary.source) if tracker.nb is not None else None
    write_record(tracker.record, nb, summary, tracker.masker)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return path.name
