"""Credentials by reference: ``env:NAME`` or ``file:PATH``, never a literal value.

Used at the start of the install flow: runbook parameters carry references only (a secret given
as a parameter would be written in plain text into the executed notebook, papermill #416), the
references are validated by ``checks.py`` before anything changes, and resolved only when a
Kubernetes Secret is built. Inside a runbook the runbook's own ``rb.secret`` resolves them (and
registers the value for masking); :func:`resolve` is the same for library use and tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import KbError, UsageProblem

Resolver = Callable[[str], str]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SecretRef:
    """A parsed reference; ``str()`` gives it back as written (safe to show and record)."""

    kind: str  # "env" | "file"
    target: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


def parse_ref(text: str, parameter: str) -> SecretRef:
    """``env:NAME`` / ``file:PATH`` -> SecretRef; anything else is refused as a probable literal."""
    value = str(text or "").strip()
    kind, sep, target = value.partition(":")
    if sep and kind == "env" and _ENV_NAME.match(target):
        return SecretRef("env", target)
    if sep and kind == "file" and target:
        return SecretRef("file", target)
    if not value:
        raise UsageProblem(f"{parameter}: a credential reference is required (env:VARIABLE or file:/path)")
    raise UsageProblem(
        f"{parameter}: expected a reference like env:VARIABLE or file:/path, not a literal value "
        "(secrets given as parameters end up in plain text in the executed notebook and its record)"
    )


def resolve(text: str, parameter: str = "secret") -> str:
    """The value a reference points at (trailing newline of a file stripped)."""
    ref = parse_ref(text, parameter)
    if ref.kind == "env":
        value = os.environ.get(ref.target)
        if value is None:
            raise UsageProblem(f"{parameter}: environment variable {ref.target} is not set")
        return value
    path = Path(ref.target).expanduser()
    try:
        return path.read_text(encoding="utf-8").rstrip("\n")
    except OSError as exc:
        raise UsageProblem(f"{parameter}: cannot read {path}: {exc.strerror}") from exc


def try_resolve(text: str, resolver: Resolver, parameter: str) -> str | None:
    """The resolved value, or None when the reference cannot be resolved here (plan mode tolerates that)."""
    try:
        return resolver(text)
    except (KbError, KeyError, OSError, ValueError):
        return None


def mask(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """``text`` with every secret value (longest first) replaced by ``***``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
