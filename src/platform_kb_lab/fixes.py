"""``kb lab apply-fix RECORD_DIR``: apply a run record's remedies to the lab as the homelab would.

Where this sits: a runbook's findings carry machine-readable remedies (:mod:`platform_kb.remedies`,
stored in ``summary.json`` → ``findings[].remedies``). :func:`read_record` reads them back from a
record of a lab run, :func:`plan_fixes` turns them into one :class:`FixPlan` (pure, unit-tested),
and :meth:`platform_kb_lab.manager.LabManager.apply_fix` carries the plan out and returns only when
the lab has converged:

* ``spark-conf`` / ``dag-operator-args`` / ingress annotations written in the application
  (``source: application``) → the DAG changes, so the SparkApplication is deleted and submitted again
  (the operator deletes and recreates driver, UI Service and UI Ingress — hand edits included);
* ``operator-values`` → ``helm upgrade`` of the operator: in the lab the daemon restarts with the new
  :class:`~platform_kb_lab.operator.OperatorSettings`, then the application is submitted again;
* ingress annotations edited by hand (``source: hand-edit``) → the Ingress is patched in place
  (``kubectl annotate``), and the lab waits until nginx serves the new configuration;
* ``use-url`` → nothing to change; printed.

Bad input (not a record, a record without remedies, a record not taken on the lab, an operator value
the lab cannot set) is a :class:`~platform_kb.errors.UsageProblem` before anything changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_kb.errors import UsageProblem
from platform_kb.remedies import Remedy, remedies_from_record

from .operator.model import OperatorSettings

SUMMARY = "summary.json"
FIX_SUFFIX = "+apply-fix"  # the lab state's scenario name once a fix changed it
# Helm values of the operator the lab emulates (kubeflow/spark-operator charts/spark-operator-chart/values.yaml)
OPERATOR_VALUES = (
    "controller.uiIngress.urlFormat",
    "controller.uiIngress.enable",
    "controller.uiIngress.ingressClassName",
)


@dataclass(frozen=True)
class LabRecord:
    """A run record taken on the lab, reduced to what ``apply-fix`` needs."""

    path: Path
    runbook: str
    status: str
    scenario: str
    remedies: tuple[tuple[str, Remedy], ...]


def read_record(record_dir: Path) -> LabRecord:
    """The record in ``record_dir`` (``runs/<id>/<run>/`` or a published ``records/<id>/<run>/``)."""
    summary = record_dir / SUMMARY
    if not record_dir.is_dir():
        raise UsageProblem(
            f"{record_dir}: not a directory (give a run record, e.g. runs/spark-ui-ingress/latest)"
        )
    if not summary.is_file():
        raise UsageProblem(f"{record_dir}: no {SUMMARY} here: not a run record")
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageProblem(f"{summary}: not readable as JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise UsageProblem(f"{summary}: not a run summary (no findings list)")
    context = data.get("context") or {}
    scenario = str(context.get("lab_scenario") or "")
    if not scenario:
        raise UsageProblem(
            f"{summary}: not a record of a lab run (context.profile={context.get('profile', '?')!r}); "
            "apply-fix changes only the local lab — apply a homelab record's fixes by hand"
        )
    try:
        remedies = tuple(remedies_from_record(data["findings"]))
    except ValueError as exc:
        raise UsageProblem(f"{summary}: {exc}") from None
    if not remedies:
        raise UsageProblem(f"{summary}: the record's findings carry no remedies: nothing to apply")
    return LabRecord(
        record_dir, str(data.get("runbook", "")), str(data.get("status", "")), scenario, remedies
    )


@dataclass
class FixPlan:
    """Everything a record's remedies change, merged (later remedies win on the same key)."""

    conf_set: dict[str, str] = field(default_factory=dict)
    conf_unset: list[str] = field(default_factory=list)
    suffix: bool | None = None  # the DAG's random_name_suffix, when a remedy sets it
    operator_values: dict[str, Any] = field(default_factory=dict)
    app_annotations_set: dict[str, str] = field(default_factory=dict)
    app_annotations_unset: list[str] = field(default_factory=list)
    ingress_set: dict[str, str] = field(default_factory=dict)
    ingress_unset: list[str] = field(default_factory=list)
    ingress_path: str | None = None
    urls: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # "finding-id: summary", in order

    @property
    def resubmits(self) -> bool:
        """The DAG or the operator changes: the application has to be submitted again."""
        return bool(
            self.conf_set
            or self.conf_unset
            or self.suffix is not None
            or self.operator_values
            or self.app_annotations_set
            or self.app_annotations_unset
        )

    @property
    def edits_ingress(self) -> bool:
        return bool(self.ingress_set or self.ingress_unset or self.ingress_path)

    @property
    def changes_anything(self) -> bool:
        return self.resubmits or self.edits_ingress

    def conf_after(self, conf: dict[str, str]) -> dict[str, str]:
        """``conf`` (the DAG's sparkConf) with this plan's set/unset applied."""
        result = {k: v for k, v in conf.items() if k not in self.conf_unset}
        result.update(self.conf_set)
        return result

    def operator_after(self, settings: OperatorSettings) -> OperatorSettings:
        """The operator's settings after ``helm upgrade --reuse-values --set ...`` of this plan."""
        values = self.operator_values
        url_format = str(values.get("controller.uiIngress.urlFormat", settings.url_format))
        if values.get("controller.uiIngress.enable") is False:
            url_format = ""
        return OperatorSettings(
            url_format=url_format,
            ingress_class_name=str(
                values.get("controller.uiIngress.ingressClassName", settings.ingress_class_name)
            ),
            ingress_annotations=dict(settings.ingress_annotations),
            ui_service_enable=settings.ui_service_enable,
            version=settings.version,
        )

    def describe(self) -> list[str]:
        """One line per change, as ``apply-fix`` prints them."""
        lines = [f"sparkConf: set {k}={v}" for k, v in self.conf_set.items()]
        lines += [f"sparkConf: unset {k}" for k in self.conf_unset]
        if self.suffix is not None:
            lines.append(f"DAG: SparkKubernetesOperator(random_name_suffix={self.suffix})")
        lines += [f"operator values: {k}={v}" for k, v in self.operator_values.items()]
        lines += [
            f"sparkUIOptions.ingressAnnotations: set {k}={v}" for k, v in self.app_annotations_set.items()
        ]
        lines += [f"sparkUIOptions.ingressAnnotations: unset {k}" for k in self.app_annotations_unset]
        lines += [f"ingress (hand edit): annotate {k}={v}" for k, v in self.ingress_set.items()]
        lines += [f"ingress (hand edit): annotate {k}-" for k in self.ingress_unset]
        if self.ingress_path:
            lines.append(f"ingress (hand edit): path {self.ingress_path}")
        lines += [f"open: {u}" for u in self.urls]
        return lines


def plan_fixes(remedies: Iterable[tuple[str, Remedy]]) -> FixPlan:
    """Merge remedies into one plan; an operator value the lab cannot set is a UsageProblem."""
    plan = FixPlan()
    for finding_id, remedy in remedies:
        plan.sources.append(f"{finding_id}: {remedy.summary or remedy.kind}")
        _add(plan, remedy)
    return plan


def _set_unset(patch: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return dict(patch.get("set") or {}), [str(k) for k in patch.get("unset") or []]


def _add(plan: FixPlan, remedy: Remedy) -> None:
    kind, patch = remedy.kind, remedy.patch
    if kind == "spark-conf":
        set_, unset = _set_unset(patch)
        plan.conf_set.update({str(k): str(v) for k, v in set_.items()})
        plan.conf_unset += [k for k in unset if k not in plan.conf_unset]
    elif kind == "dag-operator-args":
        set_, _ = _set_unset(patch)
        if "random_name_suffix" in set_:
            plan.suffix = bool(set_["random_name_suffix"])
    elif kind == "operator-values":
        set_, _ = _set_unset(patch)
        unknown = [k for k in set_ if k not in OPERATOR_VALUES]
        if unknown:
            raise UsageProblem(
                f"operator value {', '.join(unknown)} is not one the lab's operator takes "
                f"({', '.join(OPERATOR_VALUES)})"
            )
        plan.operator_values.update(set_)
    elif kind == "ingress-annotations":
        _add_annotations(plan, remedy)
    elif kind == "use-url":
        if patch.get("url"):
            plan.urls.append(str(patch["url"]))


def _add_annotations(plan: FixPlan, remedy: Remedy) -> None:
    set_, unset = _set_unset(remedy.patch)
    source = str(remedy.target.get("source") or "hand-edit")
    if source == "application":
        plan.app_annotations_set.update({str(k): str(v) for k, v in set_.items()})
        plan.app_annotations_unset += unset
    elif source == "operator-values":
        raise UsageProblem("ingress annotations in the operator's Helm values are not emulated by the lab")
    else:
        plan.ingress_set.update({str(k): str(v) for k, v in set_.items()})
        plan.ingress_unset += unset
        if remedy.patch.get("path"):
            plan.ingress_path = str(remedy.patch["path"])


def base_scenario(name: str) -> str:
    """The scenario a (possibly already fixed) lab state started from."""
    return name.split(FIX_SUFFIX, 1)[0]
