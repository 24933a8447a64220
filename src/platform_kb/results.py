"""One result type for everything that checks something: diagnosis, install checks, verification, doctor.

A :class:`Check` says what was checked (a stable ``id`` and a Korean ``title``), how it came out
(``status``), what was seen (``detail``, ``evidence``) and, when it did not hold, what to do (``fix``,
and ``remedies``: the fix as data for ``kb lab apply-fix``). ``ok`` is set only from positive
evidence: the constructors below make a caller say which it is.

Statuses: ``ok`` (it held), ``error`` (it did not, and the run fails), ``warning`` (it did not, the
run goes on), ``info`` (worth knowing, not a failure), ``skip`` (not checked, with the reason in
``detail``). Only ``error``/``warning``/``info`` reach a run record as findings (:meth:`as_finding`,
the keyword arguments of ``rb.finding``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .remedies import Remedy

OK = "ok"
ERROR = "error"
WARNING = "warning"
INFO = "info"
SKIP = "skip"
STATUSES = (OK, ERROR, WARNING, INFO, SKIP)
PROBLEMS = (ERROR, WARNING, INFO)  # the statuses a finding in a record can have


@dataclass(frozen=True)
class Check:
    """One check and how it came out (see the module docstring)."""

    id: str
    status: str
    title: str
    detail: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    fix: str = ""
    remedies: tuple[Remedy, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.id!r}: status must be one of {STATUSES}, got {self.status!r}")

    # -- constructors: each says which way the check came out ------------------------------------
    @classmethod
    def passed(
        cls, id: str, title: str, detail: str = "", evidence: Mapping[str, Any] | None = None
    ) -> Check:  # noqa: A002
        return cls(id, OK, title, detail, dict(evidence or {}))

    @classmethod
    def failed(
        cls,
        id: str,  # noqa: A002
        title: str,
        detail: str = "",
        evidence: Mapping[str, Any] | None = None,
        severity: str = ERROR,
        fix: str = "",
        remedies: tuple[Remedy, ...] = (),
    ) -> Check:
        if severity not in PROBLEMS:
            raise ValueError(
                f"check {id!r}: a failure's severity must be one of {PROBLEMS}, got {severity!r}"
            )
        return cls(id, severity, title, detail, dict(evidence or {}), fix, tuple(remedies))

    @classmethod
    def skipped(
        cls,
        id: str,  # noqa: A002
        title: str,
        why: str,
        fix: str = "",  # what would make the check apply
        evidence: Mapping[str, Any] | None = None,
    ) -> Check:
        return cls(id, SKIP, title, why, dict(evidence or {}), fix)

    @classmethod
    def judged(
        cls,
        held: bool,
        id: str,  # noqa: A002
        title: str,
        detail: str = "",
        evidence: Mapping[str, Any] | None = None,
        severity: str = ERROR,
        fix: str = "",
    ) -> Check:
        """``passed`` when ``held`` (a verdict computed from what was seen), else ``failed``."""
        if held:
            return cls.passed(id, title, detail, evidence)
        return cls.failed(id, title, detail, evidence, severity, fix)

    # -- reading -----------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def severity(self) -> str:
        """How the result counts: ``ok`` or one of :data:`PROBLEMS` (``skip`` counts as ``info``)."""
        return INFO if self.status == SKIP else self.status

    def text(self) -> str:
        """One line: the title and, for a problem, the fix."""
        return self.title + (f" — {self.fix}" if self.fix and not self.ok else "")

    def row(self) -> dict[str, str]:
        """A table row (English column names; presentation modules give Korean headings)."""
        return {"check": self.title, "result": self.status, "detail": self.detail}

    def as_finding(self) -> dict[str, Any]:
        """Keyword arguments for ``rb.finding`` (only for a status in :data:`PROBLEMS`)."""
        if self.status not in PROBLEMS:
            raise ValueError(f"check {self.id!r} is {self.status}: only a problem is recorded as a finding")
        return {
            "id": self.id,
            "severity": self.status,
            "title": self.title,
            "detail": self.detail,
            "evidence": dict(self.evidence),
            "fix": self.fix,
            "remedies": [r.to_json() for r in self.remedies],
        }


def has_errors(results: Iterable[Check]) -> bool:
    """True when any result is an ``error`` (``kb run`` then exits 1)."""
    return any(r.status == ERROR for r in results)
