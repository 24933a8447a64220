"""The lab's runtime records: ``.lab/state.json`` and what ``kb lab status`` and ``down`` answer.

Where this sits: :class:`LabState` is written by every step of ``kb lab up`` as soon as a process
runs (:mod:`.startup`), so a failed ``up`` can always be undone by pid (:mod:`.teardown`); each
record is mirrored in ``.lab/pids/NAME.json`` (:mod:`.pidfiles`), and the scenario goes to the
profile's run-context file, which every run record against the lab profile keeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from platform_kb.errors import KbError
from platform_kb.processes import ProcessRecord

from .config import LabSettings
from .monitoring import GRAFANA, GRAFANA_PATH, PROMETHEUS, PROMETHEUS_PATH
from .pidfiles import remove_pidfile, write_pidfile

BASE_PROCESSES = ("sshd", "nginx", "history-server", PROMETHEUS, GRAFANA)
DAEMON = "daemon"
STOP_ORDER = (DAEMON, "history-server", "nginx", "sshd")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class LabState:
    """``.lab/state.json``: what runs, for which scenario, on which ports, and how long ``up`` took."""

    settings: LabSettings
    scenario: str = ""
    processes: list[ProcessRecord] = field(default_factory=list)
    bastion_port: int = 0
    app: dict[str, Any] = field(default_factory=dict)
    started: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def record(self, name: str) -> ProcessRecord | None:
        return next((r for r in self.processes if r.name == name), None)

    def replace_record(self, record: ProcessRecord) -> None:
        self.processes = [r for r in self.processes if r.name != record.name] + [record]
        write_pidfile(self.settings.pids_dir, record)

    def drop_record(self, name: str) -> None:
        self.processes = [r for r in self.processes if r.name != name]
        remove_pidfile(self.settings.pids_dir, name)

    def save(self) -> None:
        path = self.settings.state_file
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "scenario": self.scenario,
            "started": self.started,
            "settings": self.settings.to_json(),
            "bastion_port": self.bastion_port,
            "processes": [r.to_json() for r in self.processes],
            "app": self.app,
            "timings": self.timings,
            "urls": lab_urls(self.settings, self.bastion_port, self.app),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)
        self._save_run_context()

    def _save_run_context(self) -> None:
        """What each run record against the lab profile keeps (``Profile.run_labels``): the scenario."""
        path = self.settings.run_context_file
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"lab_scenario": self.scenario or ""}))
        tmp.replace(path)

    @classmethod
    def load(cls, settings: LabSettings) -> LabState | None:
        try:
            data = json.loads(settings.state_file.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise KbError(
                f"{settings.state_file} is not valid JSON ({exc}); remove it after checking no lab runs"
            ) from exc
        return cls(
            settings=settings,
            scenario=data.get("scenario", ""),
            processes=[ProcessRecord.from_json(p) for p in data.get("processes", [])],
            bastion_port=int(data.get("bastion_port") or 0),
            app=data.get("app") or {},
            started=data.get("started", ""),
            timings=data.get("timings") or {},
        )


def lab_urls(settings: LabSettings, bastion_port: int, app: dict[str, Any]) -> dict[str, str]:
    local = f"http://{settings.local_ingress}"
    urls = {
        "bastion": f"ssh://{settings.bastion_host}:{bastion_port}" if bastion_port else "",
        "ingress (node)": settings.ingress_url + "/",
        "lab API (node)": settings.api_url,
        "History Server (node)": settings.history_url + "/",
        "Spark UI (via tunnel)": f"{local}/spark-ui/spark/long-test/",
        "History Server (via tunnel)": f"{local}/spark-history/",
        "Prometheus (node)": settings.prometheus_url + "/",
        "Prometheus (via tunnel)": f"{local}{PROMETHEUS_PATH}/",
        "Grafana (via tunnel)": f"{local}{GRAFANA_PATH}/",
    }
    ingress_path = app.get("ingress_path")
    if ingress_path and ingress_path.rstrip("/") != "/spark-ui/spark/long-test":
        urls["Spark UI of the submitted app (via tunnel)"] = f"{local}{ingress_path.rstrip('/')}/"
    return urls


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int
    alive: bool


@dataclass(frozen=True)
class LabStatus:
    running: bool
    scenario: str
    root: str
    processes: tuple[ProcessStatus, ...]
    urls: dict[str, str]
    app: dict[str, Any]
    timings: dict[str, float]
    profile: str
    kubeconfig: str


@dataclass(frozen=True)
class DownReport:
    stopped: tuple[str, ...]
    already_gone: tuple[str, ...]
    busy_ports: tuple[str, ...]
