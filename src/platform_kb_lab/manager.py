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

The steps live next to this facade: :mod:`.startup` (the processes, one component at a time),
:mod:`.apply` (a scenario and its edits through the lab API, reached with the official client in
:mod:`.labkube`), :mod:`.teardown` (``down``) and :mod:`.state` (``.lab/state.json``).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable

from platform_kb.errors import KbError, MissingPrerequisite, UsageProblem
from platform_kb.processes import load_records

from .apply import ScenarioApplier, app_summary, ui_ingress_of
from .config import LabSettings
from .fixes import FIX_SUFFIX, FixPlan, base_scenario
from .history import find_java, find_spark_home
from .labkube import LabKube
from .monitoring import check_monitoring_prerequisites
from .nginx import find_nginx
from .scenarios import DEFAULT_SCENARIO, Scenario, get_scenario
from .sshd import find_sshd
from .startup import LabProcesses
from .state import BASE_PROCESSES, DAEMON, DownReport, LabState, LabStatus, ProcessStatus, lab_urls
from .teardown import LabTeardown


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
        self.processes = LabProcesses(self.settings, self.python, self.echo, ready_timeout)
        self.scenarios = ScenarioApplier(self.settings, self.echo, ready_timeout)

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
            if (
                spark_up
                and state.scenario == scenario.name
                and self.processes.exporters_match(state, scenario)
            ):
                if self.scenarios.app_ready(state, scenario):
                    self.echo(f"lab already up with scenario {scenario.name}")
                    return self.status()
            elif (
                spark_up
                and duration is None
                and self._same_spark(state.scenario, scenario)
                and self.scenarios.app_ready(state, scenario)
            ):
                return self._switch_monitoring(state, scenario, started)
            if not base_alive:
                self.echo("lab is partly down: stopping what is left, then starting again")
                self.down()
                state = None
        try:
            if state is None:
                state = self.processes.start_base()
            else:
                self.echo(
                    f"switching scenario {state.scenario or '-'} → {scenario.name}: restarting the lab daemon"
                )
                self.processes.stop_daemon(state)
            self.processes.reconcile_exporters(state, scenario)
            self.processes.start_daemon(state, scenario)
            self.scenarios.apply(state, scenario, duration)
            self.processes.wait_scraped(state, scenario)
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
            self.processes.reconcile_exporters(state, scenario)
            state.scenario = scenario.name
            state.save()
            self.processes.wait_scraped(state, scenario)
        except BaseException as exc:
            self._undo_failed_up(exc)
            raise
        return self._finish_up(state, started)

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
        with LabKube(self.settings) as kube:
            if plan.resubmits:
                self._resubmit(
                    state,
                    kube,
                    self.scenarios.fixed_scenario(state, kube, base, plan),
                    restart=bool(plan.operator_values),
                )
            if plan.edits_ingress:
                self.scenarios.patch_ui_ingress(state, kube, plan)
                self.scenarios.wait_ingress_applied(kube)
                self.scenarios.wait_scenario(state, base)
        state.scenario = base.name + FIX_SUFFIX
        state.timings["apply_fix_seconds"] = round(time.monotonic() - started, 2)
        state.save()
        return self.status()

    def _daemon_alive(self, state: LabState) -> bool:
        record = state.record(DAEMON)
        return record is not None and record.alive()

    def _resubmit(self, state: LabState, kube: LabKube, scenario: Scenario, restart: bool) -> None:
        if restart:
            self.echo("operator values changed: restarting the lab daemon (helm upgrade), then resubmitting")
            self.processes.stop_daemon(state)
            self.processes.start_daemon(state, scenario)
        else:
            self.scenarios.delete_app(state, kube, scenario.namespace)
        self.scenarios.apply(state, scenario, None)

    # -- the running application's UI Ingress -------------------------------------------------

    def ui_ingress_annotations(self) -> dict[str, str]:
        """The annotations of the running application's UI Ingress ({} when it has none)."""
        state = LabState.load(self.settings)
        if state is None or not state.app.get("ingress"):
            return {}
        with LabKube(self.settings) as kube:
            ingress = kube.get("ingresses", state.app["namespace"], state.app["ingress"]) or {}
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
        namespace = state.app["namespace"]
        with LabKube(self.settings) as kube:
            name = ui_ingress_of(kube.get("sparkapplications", namespace, state.app["name"]) or {})
            if not name:
                raise KbError(f"scenario {state.scenario}: the operator created no UI Ingress to edit")
            self.scenarios.edit_ingress(kube, namespace, name, set_annotations, remove)
            self.scenarios.wait_ingress_applied(kube)

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
            try:
                with LabKube(s) as kube:
                    found = kube.get("sparkapplications", app.get("namespace", "spark"), app["name"])
                if found:
                    app.update(app_summary(found))
            except KbError:
                app["state"] = "unknown (lab API does not answer)"
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
        """Stop exactly the recorded processes, check the ports are free, remove the runtime state."""
        return LabTeardown(self.settings, self.echo).down()
