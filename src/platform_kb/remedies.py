"""Machine-readable fixes attached to findings: what to change, where, and the patch.

Where this sits: a check (:mod:`platform_kb.checks`) builds a :class:`Remedy` next to the Korean
``fix`` text of a :class:`~platform_kb.results.Check`; ``rb.finding(..., remedies=[...])`` stores
it in the run record (``summary.json`` → ``findings[].remedies``). Tools read it back from a record
with :func:`remedies_from_record`: ``kb lab apply-fix RECORD_DIR`` applies each remedy to the lab the
way the homelab would have to, and the site shows it.

Kinds (``Remedy.kind``) and their ``target`` / ``patch``:

``spark-conf``
    The SparkApplication's ``spec.sparkConf`` as the DAG (``SparkKubernetesOperator``'s template)
    submits it. target: ``{"namespace", "application"}`` (the DAG's name, without Airflow's suffix).
    patch: ``{"set": {key: value}, "unset": [key, ...]}``. Applied by resubmitting the application.
``operator-values``
    The spark-operator Helm release's values. target: ``{"release", "namespace"}``.
    patch: ``{"set": {"controller.uiIngress.urlFormat": "..."}}`` (dotted Helm keys). Applied by
    ``helm upgrade --reuse-values --set ...`` and then resubmitting the application (the operator
    reads the values when it creates the UI Ingress and injects proxyBase before submission).
``ingress-annotations``
    A UI Ingress' annotations. target: ``{"namespace", "name", "source"}``, where ``source`` says
    where the annotation is written (``"application"``: ``spec.sparkUIOptions.ingressAnnotations``
    of the SparkApplication; ``"operator-values"``: ``controller.uiIngress.annotations``;
    ``"hand-edit"``: the Ingress object itself). patch: ``{"set": {...}, "unset": [...]}``.
``dag-operator-args``
    Arguments of ``SparkKubernetesOperator`` in the DAG. target: ``{"namespace", "application"}``.
    patch: ``{"set": {"random_name_suffix": False}}``. Applied by resubmitting the application.
``use-url``
    Nothing to change in the cluster: open another address. patch: ``{"url": "..."}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

REMEDY_KINDS = ("spark-conf", "operator-values", "ingress-annotations", "dag-operator-args", "use-url")


@dataclass(frozen=True)
class Remedy:
    """One change that fixes a finding: its kind, what it applies to, the patch, a one-line summary."""

    kind: str
    target: dict[str, Any] = field(default_factory=dict)
    patch: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    def __post_init__(self) -> None:
        if self.kind not in REMEDY_KINDS:
            raise ValueError(f"remedy kind must be one of {', '.join(REMEDY_KINDS)}, got {self.kind!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Remedy:
        return cls(
            kind=str(data.get("kind", "")),
            target=dict(data.get("target") or {}),
            patch=dict(data.get("patch") or {}),
            summary=str(data.get("summary", "")),
        )


def remedies_from_record(findings: Iterable[Mapping[str, Any]]) -> list[tuple[str, Remedy]]:
    """``(finding id, remedy)`` pairs of a record's ``findings`` list, in order."""
    return [(str(f.get("id", "")), Remedy.from_json(r)) for f in findings for r in (f.get("remedies") or [])]
