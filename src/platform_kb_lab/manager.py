"""``kb lab up|status|down``: start, inspect and stop the local lab, by recorded pid only.

Where this sits: the CLI (``platform_kb_lab.cli``) calls :class:`LabManager`. ``up`` starts the
lab's processes in order, recording each in ``.lab/state.json`` as soon as it runs (so a failed
``up`` can always be undone): the bastion (real OpenSSH ``sshd``, :mod:`.sshd`), nginx
(:mod:`.nginx`), the Spark History Server (:mod:`.history`), Prometheus and the Grafana stand-in
(:mod:`.monitoring`), the scenario's node-exporters and the lab daemon (:mod:`.daemon`: lab API,
ingress controller, operator). It writes the ``lab`` profile, the host inventory, ``known_hosts``
and ``kubeconfig``, then applies the scenario (:mod:`.scenarios`): namespaces, the History
Server's, Prometheus's and Grafana's Service/Endpoints/Ingress, the ``long-test`` SparkApplication
(:mod:`.submit`), the scenario's hand edit, and waits until the scenario shows through nginx and
Prometheus has scraped every target with the scenario's health. ``up`` again with the same
scenario is a no-op; with another scenario only the daemon (and its drivers) is restarted and the
exporters are brought to the scenario's state — or only the exporters, when the two scenarios
differ in nothing else. ``down`` stops exactly the recorded processes (daemon first, so it stops
its drivers; then any driver still recorded), checks that the ports are free and removes the
runtime state.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import yaml

from platform_kb.errors import KbError, MissingPrerequisite, UsageProblem
from platform_kb.processes import ProcessRecord, load_records, port_open, spawn, wait_for_port, wait_until
from platform_kb.profiles import write_profile

from .config import LabSettings
from .daemon import DaemonConfig
from .fixes import FIX_SUFFIX, FixPlan, base_scenario
from .history import HistoryServer, find_java, find_spark_home, history_objects
from .ingress import applied_revision, empty_config, render
from .monitoring import (
    GRAFANA,
    GRAFANA_PATH,
    PROMETHEUS,
    PROMETHEUS_PATH,
    check_monitoring_prerequisites,
    exporter_ports_closed,
    exporter_process,
    monitoring_objects,
    running_exporters,
    start_exporters,
    start_grafana,
    start_prometheus,
    wait_monitoring,
    write_lab_inventory,
)
from .monitoring import NAMESPACE as MONITORING_NAMESPACE
from .nginx import Nginx, find_nginx
from .pidfiles import lab_listeners, load_pidfiles, remove_pidfile, write_pidfile
from .ports import BASTION, load_ports, record_port, recorded_port
from .scenarios import DEFAULT_SCENARIO, Scenario, get_scenario
from .sshd import Sshd, find_sshd, generate_key

BASE_PROCESSES = ("sshd", "nginx", "history-server", PROMETHEUS, GRAFANA)
DAEMON = "daemon"
STOP_ORDER = (DAEMON, "history-server", "nginx", "sshd")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_prerequisites() -> None:
    """MissingPrerequisite naming every missing system tool or extra (nothing is changed)."""
    missing: list[str] = []
    for probe in (find_sshd, find_nginx, find_java, find_spark_home):
        try:
            probe()
        except MissingPrerequisite as exc:
            missing.append(str(exc))
    missing.extend(check_monitoring_prerequisites())
    if not shutil.which("ssh-keygen"):
        missing.append("ssh-keygen not found: install the Debian package openssh-client")
    if missing:
        raise MissingPrerequisite("the lab needs: " + "; ".join(missing))


# ---------------------------------------------------------------------------- records


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


# ---------------------------------------------------------------------------- the lab API (plain HTTP)


class LabApi:
    """Just enough of the lab API for the manager; runbooks use the official client."""

    def __init__(self, settings: LabSettings) -> None:
        self.base = settings.api_url
        self.client = httpx.Client(base_url=self.base, timeout=10.0, trust_env=False)

    def close(self) -> None:
        self.client.close()

    def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any] | None:
        """POST; None when it already exists (409)."""
        response = self.client.post(path, json=obj)
        if response.status_code == 409:
            return None
        self._check(response, "create", path)
        return response.json()

    def get(self, path: str) -> dict[str, Any] | None:
        response = self.client.get(path)
        if response.status_code == 404:
            return None
        self._check(response, "get", path)
        return response.json()

    def delete(self, path: str) -> None:
        """DELETE; a missing object is fine."""
        response = self.client.delete(path)
        if response.status_code != 404:
            self._check(response, "delete", path)

    def merge_patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.patch(
            path, json=body, headers={"Content-Type": "application/merge-patch+json"}
        )
        self._check(response, "patch", path)
        return response.json()

    @staticmethod
    def _check(response: httpx.Response, verb: str, path: str) -> None:
        if response.status_code >= 400:
            raise KbError(f"lab API {verb} {path}: {response.status_code} {response.text[:300]}")

    @staticmethod
    def path_for(plural: str, namespace: str, name: str = "") -> str:
        groups = {
            "services": "/api/v1",
            "endpoints": "/api/v1",
            "ingresses": "/apis/networking.k8s.io/v1",
            "sparkapplications": "/apis/sparkoperator.k8s.io/v1beta2",
        }
        path = f"{groups[plural]}/namespaces/{namespace}/{plural}"
        return f"{path}/{name}" if name else path


# ---------------------------------------------------------------------------- the manager


class LabManager:
    """Up, status and down for the lab described by ``settings``."""

    def __init__(
        self,
        settings: LabSettings | None = None,
        *,
        python: str | None = None,
        echo: Callable[[str], None] | None = None,
        ready_timeout: float = 240.0,
    ) -> None:
        self.settings = settings or LabSettings.from_env()
        self.python = python or sys.executable
        self.echo = echo or (lambda message: None)
        self.ready_timeout = ready_timeout

    # -- up ---------------------------------------------------------------------------------

    def up(self, scenario: str | Scenario = DEFAULT_SCENARIO, duration: float | None = None) -> LabStatus:
        """Bring the lab to ``scenario``: a registered name (``kb lab up --scenario``) or a
        :class:`Scenario` built by a caller (the browser matrix in ``tests/spark_ui``)."""
        if not isinstance(scenario, Scenario):
            scenario = get_scenario(scenario)
        if duration is not None and duration < 0:
            raise UsageProblem("--duration must be >= 0 seconds")
        check_prerequisites()
        started = time.monotonic()
        state = LabState.load(self.settings)
        if state is not None:
            base_alive = all((r := state.record(n)) is not None and r.alive() for n in BASE_PROCESSES)
            daemon = state.record(DAEMON)
            spark_up = base_alive and daemon is not None and daemon.alive()
            if spark_up and state.scenario == scenario.name and self._exporters_match(state, scenario):
                if self._app_ready(state, scenario):
                    self.echo(f"lab already up with scenario {scenario.name}")
                    return self.status()
            elif (
                spark_up
                and duration is None
                and self._same_spark(state.scenario, scenario)
                and self._app_ready(state, scenario)
            ):
                return self._switch_monitoring(state, scenario, started)
            if not base_alive:
                self.echo("lab is partly down: stopping what is left, then starting again")
                self.down()
                state = None
        try:
            if state is None:
                state = self._start_base()
            else:
                self.echo(
                    f"switching scenario {state.scenario or '-'} → {scenario.name}: restarting the lab daemon"
                )
                self._stop_daemon(state)
            self._reconcile_exporters(state, scenario)
            self._start_daemon(state, scenario)
            self._apply_scenario(state, scenario, duration)
            self._wait_monitoring(state, scenario)
        except BaseException as exc:
            self._undo_failed_up(exc)
            raise
        return self._finish_up(state, started)

    def _undo_failed_up(self, exc: BaseException) -> None:
        """Stop what a failed ``up`` started; the caller re-raises (a KbError other than ``exc`` is raised here)."""
        self.echo("lab up failed; stopping what was started")
        try:
            self.down()
        except Exception as cleanup:  # report the first failure, mention the second
            raise KbError(f"lab up failed: {exc}; and down failed too: {cleanup}") from exc
        if not isinstance(exc, KbError | KeyboardInterrupt):
            raise KbError(f"lab up failed: {exc}") from exc

    def _finish_up(self, state: LabState, started: float) -> LabStatus:
        state.timings["up_seconds"] = round(time.monotonic() - started, 2)
        state.save()
        return self.status()

    @staticmethod
    def _same_spark(current: str, scenario: Scenario) -> bool:
        """True when the running scenario differs from ``scenario`` only in monitoring."""
        try:
            return get_scenario(current).spark_part() == scenario.spark_part()
        except UsageProblem:
            return False

    def _switch_monitoring(self, state: LabState, scenario: Scenario, started: float) -> LabStatus:
        """Switch to a scenario whose Spark side is the same: only the exporters change."""
        self.echo(f"switching scenario {state.scenario} → {scenario.name}: Spark unchanged, exporters only")
        try:
            self._reconcile_exporters(state, scenario)
            state.scenario = scenario.name
            state.save()
            self._wait_monitoring(state, scenario)
        except BaseException as exc:
            self._undo_failed_up(exc)
            raise
        return self._finish_up(state, started)

    def _exporters_match(self, state: LabState, scenario: Scenario) -> bool:
        """The scenario's exporters run (by their records) and no other exporter is recorded."""
        wanted = {exporter_process(n) for n in running_exporters(scenario.exporters_down)}
        every = {exporter_process(n) for n in self.settings.exporter_ports()}
        for name in every:
            record = state.record(name)
            running = record is not None and record.alive()
            if running != (name in wanted) or (record is not None and name not in wanted):
                return False
        return True

    def _reconcile_exporters(self, state: LabState, scenario: Scenario) -> None:
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

    def _wait_monitoring(self, state: LabState, scenario: Scenario) -> None:
        t0 = time.monotonic()
        records = [state.record(n) for n in (PROMETHEUS, GRAFANA)]
        found = wait_monitoring(self.settings, scenario.exporters_down, self.ready_timeout, records)
        summary = ", ".join(f"{t.job}/{t.key} {t.health}" for t in found if t.job != "prometheus")
        self.echo(f"Prometheus scraped every target: {summary}")
        state.timings["monitoring_seconds"] = round(time.monotonic() - t0, 2)

    def _check_ports_free(self) -> None:
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

    def _start_base(self) -> LabState:
        s = self.settings
        self._check_ports_free()
        for folder in (s.root, s.keys_dir, s.logs_dir, s.run_dir, s.events_dir):
            folder.mkdir(parents=True, exist_ok=True)
        state = LabState(settings=s, started=_now())
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
        self._write_client_files(state)
        state.replace_record(start_prometheus(s))
        state.save()
        self.echo(f"Prometheus starting on {s.prometheus_url}/")
        state.replace_record(start_grafana(s, self.python))
        state.save()
        self.echo(f"Grafana (stand-in) starting on {s.grafana_url}/")
        state.timings["base_seconds"] = round(time.monotonic() - t0, 2)
        return state

    def _write_client_files(self, state: LabState) -> None:
        s = self.settings
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "lab", "cluster": {"server": s.api_url}}],
            "users": [{"name": "lab", "user": {}}],
            "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab", "namespace": "spark"}}],
            "current-context": "lab",
            "preferences": {},
        }
        s.kubeconfig.write_text(yaml.safe_dump(kubeconfig, sort_keys=False))
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

    def _start_daemon(self, state: LabState, scenario: Scenario) -> None:
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

    def _stop_daemon(self, state: LabState) -> None:
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

    def _apply_scenario(self, state: LabState, scenario: Scenario, duration: float | None) -> None:
        from .submit import submit

        s = self.settings
        t0 = time.monotonic()
        api = LabApi(s)
        try:
            for namespace in (scenario.namespace, MONITORING_NAMESPACE):
                api.create(
                    "/api/v1/namespaces",
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                )
            for plural, obj in [*history_objects(s), *monitoring_objects(s)]:
                api.create(LabApi.path_for(plural, obj["metadata"]["namespace"]), obj)
            created = submit(
                s,
                scenario.app_name,
                scenario.namespace,
                suffix=scenario.suffix,
                duration=scenario.duration if duration is None else duration,
                conf=scenario.spark_conf,
            )
            name = created["metadata"]["name"]
            state.app = {"name": name, "namespace": scenario.namespace}
            state.save()
            self.echo(f"submitted SparkApplication {scenario.namespace}/{name}")
            if not HistoryServer(s, record=state.record("history-server")).wait_ready(self.ready_timeout):
                raise KbError(
                    f"the History Server did not answer within {self.ready_timeout:.0f}s; see {s.logs_dir}"
                )
            app = self._wait_app(api, scenario, name)
            info = (app.get("status") or {}).get("driverInfo") or {}
            state.app.update(self._app_summary(app))
            if scenario.hand_edits_ingress:
                self._edit_ingress(api, scenario, info)
            self._wait_ingress_applied(api)
            self._wait_scenario(state, scenario)
        finally:
            api.close()
        state.timings["scenario_seconds"] = round(time.monotonic() - t0, 2)

    def _wait_app(self, api: LabApi, scenario: Scenario, name: str) -> dict[str, Any]:
        path = LabApi.path_for("sparkapplications", scenario.namespace, name)
        wanted = ("RUNNING",) if scenario.ready == "running" else ("COMPLETED",)
        found: dict[str, Any] = {}

        def reached() -> bool:
            nonlocal found
            found = api.get(path) or {}
            state = ((found.get("status") or {}).get("applicationState") or {}).get("state", "")
            if state in ("FAILED", "SUBMISSION_FAILED") or (
                state == "COMPLETED" and "COMPLETED" not in wanted
            ):
                message = (found.get("status") or {}).get("applicationState", {}).get("errorMessage", "")
                raise KbError(
                    f"SparkApplication {name} ended {state} {message}; see {self.settings.drivers_dir}"
                )
            return state in wanted

        if not wait_until(reached, self.ready_timeout, interval=0.25):
            raise KbError(
                f"SparkApplication {name} did not reach {'/'.join(wanted)} within {self.ready_timeout:.0f}s"
            )
        return found

    @staticmethod
    def _app_summary(app: dict[str, Any]) -> dict[str, Any]:
        status = app.get("status") or {}
        info = status.get("driverInfo") or {}
        address = info.get("webUIIngressAddress") or ""
        url = httpx.URL(address) if address else None
        path = url.path if url else ""
        return {
            "state": (status.get("applicationState") or {}).get("state", ""),
            "applicationId": status.get("sparkApplicationId", ""),
            "ingress": info.get("webUIIngressName", ""),
            "service": info.get("webUIServiceName", ""),
            "ingress_path": path,
            "ingress_host": url.host if url else "",
        }

    def ui_ingress_annotations(self) -> dict[str, str]:
        """The annotations of the running application's UI Ingress ({} when it has none)."""
        state = LabState.load(self.settings)
        if state is None or not state.app.get("ingress"):
            return {}
        api = LabApi(self.settings)
        try:
            ingress = (
                api.get(LabApi.path_for("ingresses", state.app["namespace"], state.app["ingress"])) or {}
            )
        finally:
            api.close()
        return dict((ingress.get("metadata") or {}).get("annotations") or {})

    def annotate_ui_ingress(self, set_annotations: dict[str, str], remove: tuple[str, ...] = ()) -> None:
        """``kubectl annotate`` on the running application's UI Ingress; returns once nginx serves it.

        Unlike a scenario switch nothing restarts: the driver keeps running. Used to vary the
        Ingress side of a configuration in place (the browser matrix)."""
        state = LabState.load(self.settings)
        if state is None or not state.app.get("name"):
            raise UsageProblem(
                "the lab is not running with an application: run `kb lab up --scenario NAME` first"
            )
        api = LabApi(self.settings)
        try:
            path = LabApi.path_for("sparkapplications", state.app["namespace"], state.app["name"])
            app = api.get(path) or {}
            info = (app.get("status") or {}).get("driverInfo") or {}
            edit = Scenario(
                name=state.scenario,
                summary="",
                operator=DaemonConfig.read(self.settings.daemon_config).operator,
                namespace=state.app["namespace"],
                remove_ingress_annotations=remove,
                set_ingress_annotations=tuple(set_annotations.items()),
            )
            self._edit_ingress(api, edit, info)
            self._wait_ingress_applied(api)
        finally:
            api.close()

    def _edit_ingress(self, api: LabApi, scenario: Scenario, info: dict[str, Any]) -> None:
        """The scenario's hand edit, as ``kubectl annotate ingress NAME KEY- KEY=VALUE`` would do it."""
        name = info.get("webUIIngressName")
        if not name:
            raise KbError(f"scenario {scenario.name}: the operator created no UI Ingress to edit")
        annotations: dict[str, str | None] = dict.fromkeys(scenario.remove_ingress_annotations)
        annotations.update(dict(scenario.set_ingress_annotations))
        body = {"metadata": {"annotations": annotations}}
        api.merge_patch(LabApi.path_for("ingresses", scenario.namespace, name), body)
        changes = [f"{k}-" for k in scenario.remove_ingress_annotations]
        changes += [f"{k}={v}" for k, v in scenario.set_ingress_annotations]
        self.echo(f"annotated ingress {scenario.namespace}/{name}: {' '.join(changes)}")

    def _wait_ingress_applied(self, api: LabApi) -> None:
        """Wait until nginx runs a configuration rendered from the store as it is now (our edits included)."""
        listing = api.get("/apis/networking.k8s.io/v1/ingresses") or {}
        revision = int((listing.get("metadata") or {}).get("resourceVersion") or 0)
        if not wait_until(lambda: applied_revision(self.settings) >= revision, 30, interval=0.05):
            raise KbError(
                f"the lab's ingress controller did not apply revision {revision} within 30s "
                f"(applied: {applied_revision(self.settings)}); see {self.settings.logs_dir}"
            )

    def _wait_scenario(self, state: LabState, scenario: Scenario) -> None:
        """Wait until nginx shows the scenario: the app's path answers (running) or answers 503 (finished)."""
        s = self.settings
        path = (state.app.get("ingress_path") or "/").rstrip("/") + "/"
        url = s.ingress_url + path
        if scenario.ready == "finished":
            history = HistoryServer(s, record=state.record("history-server"))
            app_id = state.app.get("applicationId", "")
            if not app_id or not history.wait_listed(app_id, completed=True, timeout=self.ready_timeout):
                raise KbError(f"the History Server does not list {app_id or 'the application'} as completed")
            expect: Callable[[int], bool] = lambda code: code == 503  # noqa: E731
        else:
            expect = lambda code: code not in (404, 502, 503, 504)  # noqa: E731
        if not state.app.get("ingress"):
            return  # urlFormat unset: the operator made no Ingress, nginx has nothing to show
        host = state.app.get("ingress_host") or ""
        headers = {"Host": host} if host else {}
        last: list[int] = []

        def shows() -> bool:
            try:
                code = httpx.get(
                    url, headers=headers, timeout=3.0, trust_env=False, follow_redirects=False
                ).status_code
            except httpx.HTTPError:
                return False
            last[:] = [code]
            return expect(code)

        if not wait_until(shows, 60, interval=0.2):
            raise KbError(
                f"nginx does not show scenario {scenario.name} at {url} (last status {last or 'none'})"
            )

    def _app_ready(self, state: LabState, scenario: Scenario) -> bool:
        name = state.app.get("name")
        if not name:
            return False
        api = LabApi(self.settings)
        try:
            app = api.get(LabApi.path_for("sparkapplications", scenario.namespace, name)) or {}
        except (httpx.HTTPError, KbError):
            return False
        finally:
            api.close()
        current = ((app.get("status") or {}).get("applicationState") or {}).get("state", "")
        return current == ("RUNNING" if scenario.ready == "running" else "COMPLETED")

    # -- apply-fix --------------------------------------------------------------------------

    def apply_fix(self, plan: FixPlan) -> LabStatus:
        """Carry out ``plan`` (:mod:`.fixes`) on the running lab; return once the lab has converged.

        DAG or operator changes resubmit the application (after a lab "helm upgrade" — a daemon
        restart with the new operator settings — when operator values change); hand edits patch the
        UI Ingress in place. Converged: the new driver RUNNING, nginx serving the store's revision, the
        UI prefix answering.
        """
        state = LabState.load(self.settings)
        if state is None or not state.app.get("name") or not self._daemon_alive(state):
            raise UsageProblem(
                "the lab is not running with an application: run `kb lab up --scenario NAME` first"
            )
        if plan.app_annotations_set or plan.app_annotations_unset:
            raise UsageProblem("annotations in the application's sparkUIOptions are not emulated by the lab")
        base = get_scenario(base_scenario(state.scenario))
        started = time.monotonic()
        api = LabApi(self.settings)
        try:
            if plan.resubmits:
                self._resubmit(
                    state,
                    api,
                    self._fixed_scenario(state, api, base, plan),
                    restart=bool(plan.operator_values),
                )
            if plan.edits_ingress:
                self._patch_ui_ingress(state, api, plan)
                self._wait_ingress_applied(api)
                self._wait_scenario(state, base)
        finally:
            api.close()
        state.scenario = base.name + FIX_SUFFIX
        state.timings["apply_fix_seconds"] = round(time.monotonic() - started, 2)
        state.save()
        return self.status()

    def _daemon_alive(self, state: LabState) -> bool:
        record = state.record(DAEMON)
        return record is not None and record.alive()

    def _fixed_scenario(self, state: LabState, api: LabApi, base: Scenario, plan: FixPlan) -> Scenario:
        """The running scenario with the DAG's conf, its suffix flag and the operator's values fixed."""
        from dataclasses import replace

        from .submit import build_application

        name = state.app["name"]
        app = api.get(LabApi.path_for("sparkapplications", base.namespace, name)) or {}
        defaults = build_application(name)["spec"]["sparkConf"]
        conf = {
            k: str(v)
            for k, v in ((app.get("spec") or {}).get("sparkConf") or {}).items()
            if defaults.get(k) != v
        }
        operator = DaemonConfig.read(self.settings.daemon_config).operator
        return replace(
            base,
            name=base.name + FIX_SUFFIX,
            operator=plan.operator_after(operator),
            spark_conf=plan.conf_after(conf),
            suffix=plan.suffix if plan.suffix is not None else name != base.app_name,
            remove_ingress_annotations=(),
            set_ingress_annotations=(),  # a resubmitted app gets a fresh Ingress from the operator
        )

    def _resubmit(self, state: LabState, api: LabApi, scenario: Scenario, restart: bool) -> None:
        if restart:
            self.echo("operator values changed: restarting the lab daemon (helm upgrade), then resubmitting")
            self._stop_daemon(state)
            self._start_daemon(state, scenario)
        else:
            path = LabApi.path_for("sparkapplications", scenario.namespace, state.app["name"])
            api.delete(path)
            if not wait_until(lambda: api.get(path) is None, 60, interval=0.2):
                raise KbError(f"SparkApplication {state.app['name']} was not deleted within 60s")
            self.echo(f"deleted SparkApplication {scenario.namespace}/{state.app['name']}: resubmitting")
        self._apply_scenario(state, scenario, None)

    def _patch_ui_ingress(self, state: LabState, api: LabApi, plan: FixPlan) -> None:
        """``kubectl annotate ingress`` (and a path edit) on the app's UI Ingress."""
        namespace = state.app.get("namespace", "spark")
        app = api.get(LabApi.path_for("sparkapplications", namespace, state.app["name"])) or {}
        name = ((app.get("status") or {}).get("driverInfo") or {}).get("webUIIngressName")
        if not name:
            raise KbError(f"SparkApplication {state.app['name']} has no UI Ingress to patch")
        path = LabApi.path_for("ingresses", namespace, name)
        annotations: dict[str, str | None] = dict.fromkeys(plan.ingress_unset)
        annotations.update(plan.ingress_set)
        body: dict[str, Any] = {"metadata": {"annotations": annotations}}
        if plan.ingress_path:
            ingress = api.get(path) or {}
            rules = (ingress.get("spec") or {}).get("rules") or []
            for rule in rules:
                for item in (rule.get("http") or {}).get("paths") or []:
                    item["path"] = plan.ingress_path
            body["spec"] = {"rules": rules}
        api.merge_patch(path, body)
        self.echo(f"patched ingress {namespace}/{name}: " + "; ".join(plan.describe()))

    # -- status -----------------------------------------------------------------------------

    def status(self) -> LabStatus:
        s = self.settings
        state = LabState.load(s)
        if state is None:
            return LabStatus(False, "", str(s.root), (), {}, {}, {}, "", "")
        records = list(state.processes) + load_records(s.drivers_file)
        processes = tuple(ProcessStatus(r.name, r.pid, r.alive()) for r in records)
        app = dict(state.app)
        daemon = state.record(DAEMON)
        if app.get("name") and daemon is not None and daemon.alive():
            api = LabApi(s)
            try:
                found = api.get(
                    LabApi.path_for("sparkapplications", app.get("namespace", "spark"), app["name"])
                )
                if found:
                    app.update(self._app_summary(found))
            except (httpx.HTTPError, KbError):
                app["state"] = "unknown (lab API does not answer)"
            finally:
                api.close()
        running = bool(state.processes) and all(
            p.alive for p in processes if p.name in (*BASE_PROCESSES, DAEMON)
        )
        return LabStatus(
            running=running,
            scenario=state.scenario,
            root=str(s.root),
            processes=processes,
            urls=lab_urls(s, state.bastion_port, app),
            app=app,
            timings=dict(state.timings),
            profile=str(s.profile_path) if s.profile_path.exists() else "",
            kubeconfig=str(s.kubeconfig) if s.kubeconfig.exists() else "",
        )

    # -- down -------------------------------------------------------------------------------

    def down(self) -> DownReport:
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
