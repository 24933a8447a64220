"""The papermill engine ``kb run`` registers: papermill's nbclient engine with per-cell events and
a kernel started with our environment, working directory and private output streams.

Where this sits in the flow: ``execute.run_runbook`` calls :func:`execute_notebook`, which calls
``papermill.execute_notebook(nb, None, engine_name="kb", ...)`` — papermill's own pipeline
(parameter injection, metadata, error markers; papermill/execute.py) with ``output_path=None`` so
papermill itself writes nothing: every file is written by ``records`` after masking.

papermill's ``Engine.execute_notebook`` (papermill/engines.py) builds a NotebookExecutionManager and
hands it to ``PapermillNotebookClient``; we do the same with a manager that reports each cell
start and end to a :class:`CellEvents` listener, and we start the kernel ourselves so that

* its environment holds ``KB_RUN_STATE`` / ``KB_PLAN`` (papermill would use ``os.environ``);
* its real stdout/stderr go to a private log file, not our console: ipykernel captures fd-level
  output into the notebook *and* echoes it to the launching terminal, unmasked;
* a cell timeout or a dead kernel becomes an error output on the cell that was running, so
  papermill's ``raise_for_execution_errors`` reports it like any other failing cell.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, NotebookExecutionManager, papermill_engines
from papermill.log import logger

from .interrupt import Interrupted, KernelHandle
from .kernel import KERNEL_MANAGER_CLASS

ENGINE_NAME = "kb"


class CellEvents(Protocol):
    def cell_started(self, index: int, cell: nbformat.NotebookNode) -> None: ...

    def cell_finished(self, index: int, cell: nbformat.NotebookNode, nb: nbformat.NotebookNode) -> None: ...


@dataclass(frozen=True)
class KernelLaunch:
    """How to start the kernel: environment, working directory, where its own output goes."""

    env: Mapping[str, str]
    cwd: Path
    output: IO[bytes]
    kernel_name: str = "python3"
    startup_timeout: float = 60.0
    handle: KernelHandle | None = None  # told the kernel's process group, for signals


class _ReportingManager(NotebookExecutionManager):
    """papermill's execution manager, never saving, reporting each cell to ``events``."""

    def __init__(
        self,
        nb: nbformat.NotebookNode,
        events: CellEvents,
        timeout: float | None,
        handle: KernelHandle | None = None,
    ) -> None:
        super().__init__(nb, output_path=None, progress_bar=False, log_output=False, autosave_cell_every=0)
        self.events = events
        self.timeout = timeout
        self.handle = handle
        self.client: Any = None
        self.current: int | None = None

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        if self.handle is not None and self.handle.stopping:
            raise Interrupted("a signal came before this cell started")
        super().cell_start(cell, cell_index, **kwargs)
        if self.handle is not None and self.client is not None and self.client.km is not None:
            self.handle.note(self.client.km)
        self.current = cell_index
        self.events.cell_started(cell_index if cell_index is not None else -1, cell)

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        # papermill calls this from a `finally:`; a timeout or a dead kernel is still in flight
        in_flight = sys.exc_info()[1]
        if isinstance(in_flight, CellTimeoutError):
            self.mark_failed(
                cell, "CellTimeoutError", f"the cell ran longer than {self.timeout:g} s (--timeout)"
            )
        elif isinstance(in_flight, DeadKernelError):
            self.mark_failed(cell, "DeadKernelError", str(in_flight) or "the kernel died")
        super().cell_complete(cell, cell_index, **kwargs)
        self.events.cell_finished(cell_index if cell_index is not None else -1, cell, self.nb)

    def mark_failed(self, cell: Any, ename: str, evalue: str) -> None:
        """Put the cause first among the cell's outputs."""
        outputs = [o for o in cell.get("outputs", []) if o.get("ename") != "KeyboardInterrupt"]
        error = nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
        cell["outputs"] = [error, *outputs]
        self.cell_exception(cell)


class RecordingEngine(Engine):
    """Registered as papermill engine ``kb``."""

    @classmethod
    def execute_notebook(  # type: ignore[override]
        cls,
        nb: nbformat.NotebookNode,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = False,
        log_output: bool = False,
        autosave_cell_every: int = 0,
        *,
        events: CellEvents,
        launch: KernelLaunch,
        execution_timeout: float | None = None,
        **kwargs: Any,
    ) -> nbformat.NotebookNode:
        nb_man = _ReportingManager(nb, events, execution_timeout, launch.handle)
        nb_man.notebook_start()
        try:
            client = PapermillNotebookClient(
                nb_man,
                kernel_name=kernel_name,
                kernel_manager_class=KERNEL_MANAGER_CLASS,
                timeout=execution_timeout,
                startup_timeout=launch.startup_timeout,
                coalesce_streams=True,  # one stream output per cell: nothing split a secret across outputs
                log=logger,
            )
            nb_man.client = client
            client.execute(
                env=dict(launch.env), cwd=str(launch.cwd), stdout=launch.output, stderr=launch.output
            )
        except (CellTimeoutError, DeadKernelError):
            # already recorded on the cell by cell_complete; papermill reports it as a cell error.
            # The kernel's shutdown interrupted that cell: its KeyboardInterrupt is not the cause.
            if nb_man.current is not None:
                cell = nb_man.nb.cells[nb_man.current]
                cell["outputs"] = [
                    o for o in cell.get("outputs", []) if o.get("ename") != "KeyboardInterrupt"
                ]
        finally:
            nb_man.notebook_complete()
        return nb_man.nb


def register() -> None:
    """Idempotent: papermill's engine registry is the designed plug-in point."""
    papermill_engines.register(ENGINE_NAME, RecordingEngine)


def execute_notebook(
    nb: nbformat.NotebookNode,
    parameters: dict[str, Any],
    events: CellEvents,
    launch: KernelLaunch,
    timeout: float | None,
) -> nbformat.NotebookNode:
    """Run ``nb`` through papermill; raises ``PapermillExecutionError`` if a cell failed (the
    executed notebook, with papermill's error markers, is what ``events`` last saw)."""
    register()
    quiet = UnknownParameterFilter()
    logger.addFilter(quiet)
    try:
        return papermill.execute_notebook(
            nb,
            None,
            parameters=parameters,
            engine_name=ENGINE_NAME,
            kernel_name=launch.kernel_name,
            language="python",
            progress_bar=False,
            request_save_on_cell_execute=False,
            events=events,
            launch=launch,
            execution_timeout=timeout,
        )
    finally:
        logger.removeFilter(quiet)


class UnknownParameterFilter(logging.Filter):
    """Drops papermill's "Passed unknown parameter" warnings (papermill/execute.py): papermill infers
    the names from the cell's assignments, which a runbook naming a ``params_schema`` does not have,
    and every parameter passed here was already checked against the runbook's specs
    (``validate.resolve_parameters`` refuses unknown names before anything runs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Passed unknown parameter:")
