"""Credentials by reference for the install runbooks (``env:NAME`` / ``file:PATH``, never literals).

A thin layer over the project's :mod:`platform_kb.secrets` (shared with the runner, which masks
resolved values in every record; the typed commands mask with its ``Masker`` too):
parameter-named messages for ``checks.py`` and a tolerant resolve for plan mode. Inside a runbook
the runbook's own ``rb.secret`` resolves references; :func:`resolve` is the same for library use.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import secrets as _project
from ..errors import KbError, UsageProblem

Resolver = Callable[[str], str]
SecretRef = _project.SecretRef


def parse_ref(text: str, parameter: str) -> SecretRef:
    """``env:NAME`` / ``file:PATH`` -> SecretRef; a UsageProblem naming ``parameter`` otherwise."""
    value = str(text or "").strip()
    if not value:
        raise UsageProblem(f"{parameter}: a credential reference is required (env:VARIABLE or file:/path)")
    try:
        return _project.parse_reference(value)
    except _project.SecretError:
        raise UsageProblem(
            f"{parameter}: expected a reference like env:VARIABLE or file:/path, not a literal value "
            "(secrets given as parameters end up in plain text in the executed notebook and its record)"
        ) from None


def resolve(text: str) -> str:
    """The value a reference points at (``SecretError``, a UsageProblem, when it cannot be read)."""
    return _project.resolve(text)


def try_resolve(text: str, resolver: Resolver, parameter: str) -> str | None:
    """The resolved value, or None when the reference cannot be resolved here (plan mode tolerates that)."""
    if not text:
        return None
    try:
        return resolver(text)
    except (KbError, KeyError, OSError, ValueError):
        return None
