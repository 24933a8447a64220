"""Start-up of the lab's processes, one component at a time, each recorded as soon as it runs.

Where this sits: :class:`platform_kb_lab.manager.LabManager` calls :class:`LabProcesses` for
``kb lab up``: the base (bastion ``sshd`` :mod:`.sshd`, nginx :mod:`.nginx`, the History Server
:mod:`.history`, Prometheus and the Grafana stand-in :mod:`.monitoring`) with the client files
(``kubeconfig``, ``known_hosts``, the ``lab`` profile, the host inventory), the scenario's
node-exporters, and the lab daemon (:mod:`.daemon`: lab API, ingress controller, operator), which
a scenario switch restarts. Every record lands in :class:`.state.LabState` at once, so a failed
``up`` is undone by pid.
"""

from __future__ import annotations

import os
import pwd
import shutil
import time
from collections.abc import Callable

import yaml

from platform_kb.errors import KbError
from platform_kb.processes import ProcessRecord, load_records, port_open, spawn, wait_for_port, wait_until
from platform_kb.profiles import write_profile

from .config import LabSettings
from .daemon import DaemonConfig
from .history import HistoryServer
from .ingress import empty_config, render
from .kubeapi.server import kubeconfig
from .monitoring import (
    GRAFANA,
    PROMETHEUS,
    exporter_ports_closed,
    exporter_process,
    running_exporters,
    start_exporters,
    start_grafana,
    start_prometheus,
    wait_monitoring,
    write_lab_inventory,
)
from .nginx import Nginx
from .ports import BASTION, record_port, recorded_port
from .scenarios import Scenario
from .sshd import Sshd, generate_key
from .state import DAEMON, LabState, utc_now


class LabProcesses:
    """Start, reconcile and stop the lab's processes for ``settings`` (messages go to ``echo``)."""

    def __init__(
        self, settings: LabSettings, python: str, echo: Callable[[str], None], ready_timeout: float
    ) -> None:
        self.settings = settings
        self.python = python
        self.echo = echo
        self.ready_timeout = ready_timeout

    def exporters_match(self, state: LabState, scenario: Scenario) -> bool:
        """The scenario's exporters run (by their records) and no other exporter is recorded."""
        wanted = {exporter_process(n) for n in running_exporters(scenario.exporters_down)}
        every = {exporter_process(n) for n in self.settings.exporter_ports()}
        for name in every:
            record = state.record(name)
            running = record is not None and record.alive()
            if running != (name in wanted) or (record is not None and name not in wanted):
                return False
        return True

    def reconcile_exporters(self, state: LabState, scenario: Scenario) -> None:
        """Start the scenario's missing exporters, stop (by pid) those it wants down."""
        s = self.settings
        wanted = running_exporters(scenario.exporters_down)
        stopped = []
        for name in s.exporter_ports():
            record = state.record(exporter_process(name))
            if record is not None and (name not in wanted or not record.alive()):
                record.stop()
                state.drop_record(record.name)
                if name not in wanted:
                    stopped.append(name)
                    self.echo(f"stopped {record.name} (pid {record.pid})")
        state.save()
        if stopped and not exporter_ports_closed(s, stopped):
            raise KbError(f"node-exporter port(s) of {', '.join(stopped)} still open after stopping them")
        missing = [n for n in wanted if state.record(exporter_process(n)) is None]
        ports = s.exporter_ports()

        def started(name: str, record: ProcessRecord) -> None:
            state.replace_record(record)
            state.save()
            self.echo(f"{record.name} on {s.node}:{ports[name]} (pid {record.pid})")

        start_exporters(s, missing, started)

    def wait_scraped(self, state: LabState, scenario: Scenario) -> None:
        """Wait until Prometheus has scraped every target with the scenario's health."""
        t0 = time.monotonic()
        records = [state.record(n) for n in (PROMETHEUS, GRAFANA)]
        found = wait_monitoring(self.settings, scenario.exporters_down, self.ready_timeout, records)
        summary = ", ".join(f"{t.job}/{t.key} {t.health}" for t in found if t.job != "prometheus")
        self.echo(f"Prometheus scraped every target: {summary}")
        state.timings["monitoring_seconds"] = round(time.monotonic() - t0, 2)

    def check_ports_free(self) -> None:
        busy = [
            f"{name} {self.settings.node}:{port}"
            for name, port in self.settings.node_ports().items()
            if port_open(self.settings.node, port)
        ]
        if busy:
            raise KbError(
                f"port(s) already in use: {', '.join(busy)}; another lab or program uses this node address "
                f"(set KB_LAB_NODE to another 127.0.0.x, or stop it)"
            )

    def start_base(self) -> LabState:
        s = self.settings
        self.check_ports_free()
        for folder in (s.root, s.keys_dir, s.logs_dir, s.run_dir, s.events_dir):
            folder.mkdir(parents=True, exist_ok=True)
        state = LabState(settings=s, started=utc_now())
        t0 = time.monotonic()
        generate_key(s.client_key, comment="platform-kb-lab-client")
        choice = recorded_port(s.ports_file, BASTION, list(dict.fromkeys([s.bastion_host, s.node])))
        if choice.note:
            self.echo(choice.note)
        sshd = Sshd(
            s.sshd_dir,
            host=s.bastion_host,
            port=choice.port,
            client_keys=[s.client_key],
            extra_hosts=[s.node],
        )
        sshd.prepare()  # known_hosts before sshd listens: a reconnecting tunnel never sees it missing
        s.known_hosts.write_text("".join(line + "\n" for line in sshd.known_hosts_lines()))
        record = sshd.start()
        state.replace_record(record)
        state.bastion_port = sshd.port
        state.save()
        record_port(s.ports_file, BASTION, sshd.port)
        self.echo(
            f"bastion sshd on {s.bastion_host}:{sshd.port} and {s.node}:{sshd.port} (lab hosts) (pid {record.pid})"
        )
        nginx = Nginx(s)
        text, _version = render(empty_config(), s)
        state.replace_record(nginx.start(text))
        state.save()
        self.echo(f"nginx on {s.node}:{s.ingress_port}")
        history = HistoryServer(s)
        state.replace_record(history.start())
        state.save()
        self.echo(f"History Server starting on {s.node}:{s.history_port}")
        self.write_client_files(state)
        state.replace_record(start_prometheus(s))
        state.save()
        self.echo(f"Prometheus starting on {s.prometheus_url}/")
        state.replace_record(start_grafana(s, self.python))
        state.save()
        self.echo(f"Grafana (stand-in) starting on {s.grafana_url}/")
        state.timings["base_seconds"] = round(time.monotonic() - t0, 2)
        return state

    def write_client_files(self, state: LabState) -> None:
        s = self.settings
        s.kubeconfig.write_text(yaml.safe_dump(kubeconfig(s.api_url, namespace="spark"), sort_keys=False))
        write_lab_inventory(s, state.bastion_port)
        profile = {
            "description": "The local lab (kb lab up): OpenSSH bastion, nginx ingress, lab API, Spark.",
            "bastion": {
                "host": s.bastion_host,
                "port": state.bastion_port,
                "user": pwd.getpwuid(os.geteuid()).pw_name,
                "identity_file": str(s.client_key),
                "known_hosts": str(s.known_hosts),
                "host_key_policy": "yes",
            },
            "node": {"host": s.node, "ingress_nodeport": s.ingress_port, "api_port": s.api_port},
            "forwards": [
                {"name": "ingress", "local": s.local_ingress, "remote": f"node:{s.ingress_port}"},
                {"name": "api", "local": "127.0.0.1:0", "remote": f"node:{s.api_port}"},
            ],
            "kubeconfig": str(s.kubeconfig),
            "inventory": str(s.inventory_path),
            "run_context": str(s.run_context_file),
        }
        write_profile(s.profile_path, profile)

    def start_daemon(self, state: LabState, scenario: Scenario) -> None:
        s = self.settings
        t0 = time.monotonic()
        config = DaemonConfig(s, scenario.operator, scenario.name)
        config.write(s.daemon_config)
        log = s.logs_dir / "daemon.log"
        proc, record = spawn(DAEMON, [self.python, "-m", "platform_kb_lab.daemon", str(s.daemon_config)], log)
        state.replace_record(record)
        state.scenario = scenario.name
        state.app = {}
        state.save()
        wait_for_port(s.node, s.api_port, 60, proc, log)
        state.timings["daemon_seconds"] = round(time.monotonic() - t0, 2)
        self.echo(f"lab daemon (API, ingress controller, operator) on {s.api_url} (pid {record.pid})")

    def stop_daemon(self, state: LabState) -> None:
        record = state.record(DAEMON)
        if record is not None:
            record.stop(timeout=25.0)
            state.drop_record(DAEMON)
        for driver in load_records(self.settings.drivers_file):
            driver.stop()
        self.settings.drivers_file.unlink(missing_ok=True)
        shutil.rmtree(self.settings.drivers_dir, ignore_errors=True)
        wait_until(lambda: not port_open(self.settings.node, self.settings.api_port), 10)
        state.save()
