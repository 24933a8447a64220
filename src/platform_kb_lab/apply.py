"""A scenario applied to the running lab: its objects, its application, its hand edit, its wait.

Where this sits: :class:`platform_kb_lab.manager.LabManager` calls :class:`ScenarioApplier` once
the lab daemon runs (``kb lab up``, a scenario switch, ``kb lab apply-fix``). It creates the
namespaces and the History Server's, Prometheus's and Grafana's Service/Endpoints/Ingress through
the lab API (:mod:`.labkube`), submits the SparkApplication (:mod:`.submit`), waits for the
operator to bring it to the scenario's state, makes the scenario's hand edit of the UI Ingress
(as ``kubectl annotate`` would) and waits until nginx serves the store as it is now and shows the
scenario. Polling always has a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from platform_kb.errors import KbError
from platform_kb.processes import wait_until

from .config import LabSettings
from .daemon import DaemonConfig
from .fixes import FIX_SUFFIX, FixPlan
from .history import HistoryServer, history_objects
from .ingress import applied_revision
from .labkube import LabKube
from .monitoring import NAMESPACE as MONITORING_NAMESPACE
from .monitoring import monitoring_objects
from .scenarios import Scenario
from .state import LabState

INGRESS_APPLIED_SECONDS = 30
SHOWS_SECONDS = 60


def app_summary(app: dict[str, Any]) -> dict[str, Any]:
    """What ``.lab/state.json`` keeps of the SparkApplication's status (state, id, UI objects, path)."""
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


def annotation_patch(set_annotations: dict[str, str], remove: tuple[str, ...]) -> dict[str, str | None]:
    """``kubectl annotate KEY- KEY=VALUE`` as merge-patch annotations (None removes a key)."""
    annotations: dict[str, str | None] = dict.fromkeys(remove)
    annotations.update(set_annotations)
    return annotations


def ui_ingress_of(app: dict[str, Any]) -> str:
    """The UI Ingress the operator named in the application's ``driverInfo`` ("" when none)."""
    return ((app.get("status") or {}).get("driverInfo") or {}).get("webUIIngressName") or ""


class ScenarioApplier:
    """Apply scenarios and edits to the running lab of ``settings`` (messages go to ``echo``)."""

    def __init__(self, settings: LabSettings, echo: Callable[[str], None], ready_timeout: float) -> None:
        self.settings = settings
        self.echo = echo
        self.ready_timeout = ready_timeout

    def apply(self, state: LabState, scenario: Scenario, duration: float | None) -> None:
        from .submit import submit

        s = self.settings
        t0 = time.monotonic()
        with LabKube(s) as kube:
            for namespace in (scenario.namespace, MONITORING_NAMESPACE):
                kube.create(
                    "namespaces",
                    None,
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                )
            for plural, obj in [*history_objects(s), *monitoring_objects(s)]:
                kube.create(plural, obj["metadata"]["namespace"], obj)
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
            app = self.wait_app(kube, scenario, name)
            state.app.update(app_summary(app))
            if scenario.hand_edits_ingress:
                ingress = ui_ingress_of(app)
                if not ingress:
                    raise KbError(f"scenario {scenario.name}: the operator created no UI Ingress to edit")
                self.edit_ingress(
                    kube,
                    scenario.namespace,
                    ingress,
                    dict(scenario.set_ingress_annotations),
                    scenario.remove_ingress_annotations,
                )
            self.wait_ingress_applied(kube)
            self.wait_scenario(state, scenario)
        state.timings["scenario_seconds"] = round(time.monotonic() - t0, 2)

    def wait_app(self, kube: LabKube, scenario: Scenario, name: str) -> dict[str, Any]:
        wanted = ("RUNNING",) if scenario.ready == "running" else ("COMPLETED",)
        found: dict[str, Any] = {}

        def reached() -> bool:
            nonlocal found
            found = kube.get("sparkapplications", scenario.namespace, name) or {}
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

    def edit_ingress(
        self,
        kube: LabKube,
        namespace: str,
        name: str,
        set_annotations: dict[str, str],
        remove: tuple[str, ...] = (),
    ) -> None:
        """``kubectl annotate ingress NAME KEY- KEY=VALUE`` on one Ingress."""
        body = {"metadata": {"annotations": annotation_patch(set_annotations, remove)}}
        kube.merge_patch("ingresses", namespace, name, body)
        changes = [f"{k}-" for k in remove] + [f"{k}={v}" for k, v in set_annotations.items()]
        self.echo(f"annotated ingress {namespace}/{name}: {' '.join(changes)}")

    def wait_ingress_applied(self, kube: LabKube) -> None:
        """Wait until nginx runs a configuration rendered from the store as it is now (our edits included)."""
        revision = kube.revision("ingresses")
        if not wait_until(
            lambda: applied_revision(self.settings) >= revision, INGRESS_APPLIED_SECONDS, interval=0.05
        ):
            raise KbError(
                f"the lab's ingress controller did not apply revision {revision} within "
                f"{INGRESS_APPLIED_SECONDS}s (applied: {applied_revision(self.settings)}); "
                f"see {self.settings.logs_dir}"
            )

    def wait_scenario(self, state: LabState, scenario: Scenario) -> None:
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

        if not wait_until(shows, SHOWS_SECONDS, interval=0.2):
            raise KbError(
                f"nginx does not show scenario {scenario.name} at {url} (last status {last or 'none'})"
            )

    def app_ready(self, state: LabState, scenario: Scenario) -> bool:
        """The recorded application is in the scenario's state (False when the API does not answer)."""
        name = state.app.get("name")
        if not name:
            return False
        try:
            with LabKube(self.settings) as kube:
                app = kube.get("sparkapplications", scenario.namespace, name) or {}
        except KbError:
            return False
        current = ((app.get("status") or {}).get("applicationState") or {}).get("state", "")
        return current == ("RUNNING" if scenario.ready == "running" else "COMPLETED")

    # -- apply-fix ----------------------------------------------------------------------------

    def fixed_scenario(self, state: LabState, kube: LabKube, base: Scenario, plan: FixPlan) -> Scenario:
        """The running scenario with the DAG's conf, its suffix flag and the operator's values fixed."""
        from .submit import build_application

        name = state.app["name"]
        app = kube.get("sparkapplications", base.namespace, name) or {}
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

    def delete_app(self, state: LabState, kube: LabKube, namespace: str) -> None:
        """Delete the recorded SparkApplication and wait (60 s at most) until it is gone."""
        name = state.app["name"]
        kube.delete("sparkapplications", namespace, name)
        if not wait_until(lambda: kube.get("sparkapplications", namespace, name) is None, 60, interval=0.2):
            raise KbError(f"SparkApplication {name} was not deleted within 60s")
        self.echo(f"deleted SparkApplication {namespace}/{name}: resubmitting")

    def patch_ui_ingress(self, state: LabState, kube: LabKube, plan: FixPlan) -> None:
        """``kubectl annotate ingress`` (and a path edit) on the app's UI Ingress."""
        namespace = state.app.get("namespace", "spark")
        name = ui_ingress_of(kube.get("sparkapplications", namespace, state.app["name"]) or {})
        if not name:
            raise KbError(f"SparkApplication {state.app['name']} has no UI Ingress to patch")
        body: dict[str, Any] = {
            "metadata": {"annotations": annotation_patch(dict(plan.ingress_set), tuple(plan.ingress_unset))}
        }
        if plan.ingress_path:
            ingress = kube.get("ingresses", namespace, name) or {}
            rules = (ingress.get("spec") or {}).get("rules") or []
            for rule in rules:
                for item in (rule.get("http") or {}).get("paths") or []:
                    item["path"] = plan.ingress_path
            body["spec"] = {"rules": rules}
        kube.merge_patch("ingresses", namespace, name, body)
        self.echo(f"patched ingress {namespace}/{name}: " + "; ".join(plan.describe()))
