"""``kb lab down``: stop exactly the lab's recorded processes, check its ports, remove runtime state.

Where this sits: :meth:`platform_kb_lab.manager.LabManager.down` (and a failed ``up``) calls
:class:`LabTeardown`. Processes are stopped by their records (``.lab/state.json`` and the pid
files of :mod:`.pidfiles`, then the drivers' records), the daemon first so that it stops its
drivers; a lab process the records missed is found by listening on one of the lab's ports.
Ports still busy afterwards belong to another program: they are reported, never killed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from platform_kb.errors import KbError
from platform_kb.processes import ProcessRecord, load_records, port_open, wait_until

from .config import LabSettings
from .pidfiles import lab_listeners, load_pidfiles
from .ports import BASTION, load_ports
from .state import DAEMON, STOP_ORDER, DownReport, LabState


class LabTeardown:
    """Stop the lab of ``settings`` by pid (messages go to ``echo``)."""

    def __init__(self, settings: LabSettings, echo: Callable[[str], None]) -> None:
        self.settings = settings
        self.echo = echo

    def down(self) -> DownReport:
        """Stop every recorded process (the daemon first), then anything still on the lab's ports."""
        s = self.settings
        state = LabState.load(s)
        records = list(state.processes) if state else []
        known = {(r.pid, r.start_time) for r in records}
        orphans = [r for r in load_pidfiles(s.pids_dir) if (r.pid, r.start_time) not in known]
        if state is None and orphans:
            self.echo(
                f"no {s.state_file}: stopping the lab processes found by their pid files in {s.pids_dir}"
            )
        records += orphans
        ordered = sorted(records, key=lambda r: STOP_ORDER.index(r.name) if r.name in STOP_ORDER else 1)
        stopped: list[str] = []
        gone: list[str] = []
        bastion_port = state.bastion_port if state else 0
        daemon_first = [r for r in ordered if r.name == DAEMON]
        rest = [r for r in ordered if r.name != DAEMON]
        for record in daemon_first:
            self._stop(record, stopped, gone, timeout=25.0)
        for record in load_records(s.drivers_file):  # drivers the daemon could not stop
            self._stop(record, stopped, gone)
        for record in rest:
            self._stop(record, stopped, gone)
        ports = self._lab_ports(bastion_port or load_ports(s.ports_file).get(BASTION, 0))
        for record in lab_listeners(s.root, [(host, port) for _name, host, port in ports]):
            self.echo(f"found {record.name} (pid {record.pid}) by its port")
            self._stop(record, stopped, gone)
        if not (state or orphans or stopped or s.ports_file.exists()):
            ports = []  # no lab ever ran from this folder: other programs' ports are not ours to report
        busy = tuple(
            f"{name} {host}:{port}"
            for name, host, port in ports
            if not wait_until(lambda h=host, p=port: not port_open(h, p), 10)
        )
        for path in (
            s.state_file,
            s.run_context_file,
            s.profile_path,
            s.kubeconfig,
            s.known_hosts,
            s.inventory_path,
        ):
            path.unlink(missing_ok=True)
        for folder in (s.run_dir, s.events_dir, s.pids_dir):
            shutil.rmtree(folder, ignore_errors=True)
        if busy:
            raise KbError(f"lab stopped, but port(s) still in use by another program: {', '.join(busy)}")
        return DownReport(tuple(stopped), tuple(gone), busy)

    def _lab_ports(self, bastion_port: int) -> list[tuple[str, str, int]]:
        """(name, host, port) of every port the lab listens on: the node's services and the bastion."""
        s = self.settings
        ports = [(name, s.node, port) for name, port in s.node_ports().items()]
        if bastion_port:
            ports += [("bastion", host, bastion_port) for host in dict.fromkeys([s.bastion_host, s.node])]
        return ports

    def _stop(
        self, record: ProcessRecord, stopped: list[str], gone: list[str], timeout: float = 10.0
    ) -> None:
        if record.alive():
            record.stop(timeout=timeout)
            stopped.append(f"{record.name} (pid {record.pid})")
            self.echo(f"stopped {record.name} (pid {record.pid})")
        else:
            gone.append(f"{record.name} (pid {record.pid})")
