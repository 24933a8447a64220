"""Diagnosis checks: pure detection logic that runbooks call and record.

Where this sits in the flow: a runbook cell *collects* observations (kube API, HTTP probes through
the tunnel), a check module under this package turns them into :class:`Finding` records with pure
functions (unit-tested on captured API objects and HTTP responses), and the cell hands each finding
to ``rb.finding(**finding.as_record())`` so it lands in ``summary.json``.

Modules: :mod:`platform_kb.checks.spark_ui` (the #3-10 Spark UI behind ingress-nginx).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..remedies import Remedy

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One diagnosed problem: a stable id, Korean text, the evidence that makes it hold, the fix."""

    id: str
    severity: str
    title: str
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str = ""
    remedies: tuple[Remedy, ...] = ()  # the fix as data (platform_kb.remedies), for `kb lab apply-fix`

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"finding {self.id!r}: severity must be one of {SEVERITIES}, got {self.severity!r}"
            )

    def as_record(self) -> dict[str, Any]:
        """Keyword arguments for ``rb.finding``."""
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "evidence": dict(self.evidence),
            "fix": self.fix,
            "remedies": [r.to_json() for r in self.remedies],
        }


def has_errors(findings: list[Finding]) -> bool:
    """True when any finding has severity ``error`` (``kb run`` then exits 1)."""
    return any(f.severity == "error" for f in findings)
