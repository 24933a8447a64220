"""``kb doctor``'s records: the :class:`DoctorReport` of :class:`platform_kb.results.Check` results
(one per report line), and the :class:`MachineEnv` every check looks at (tests build their own to
simulate a machine).

A required check that fails is an ``error`` (exit code 1), an optional one a ``warning``; a ``skip``
is never required. Only an optional check that passed needs saying so: its evidence holds
``{"required": False}`` (:func:`passed_evidence`), and the report marks it "(optional)" as it marks
a warning.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..results import ERROR, OK, WARNING, Check, has_errors

# Folders outside a normal user's PATH where Debian puts daemons (sshd, nginx).
DEFAULT_TOOL_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
TOOL_DIRS_ENV = "KB_DOCTOR_TOOL_DIRS"
DEFAULT_TIMEOUT = 5.0
REQUIRED = "required"  # the evidence key of an optional check that passed


def severity(required: bool) -> str:
    """How a failed check counts: an ``error`` when it is required, else a ``warning``."""
    return ERROR if required else WARNING


def passed_evidence(required: bool) -> dict[str, bool]:
    """The evidence of a passed check: empty when required, else ``{"required": False}``."""
    return {} if required else {REQUIRED: False}


def is_optional(check: Check) -> bool:
    """A warning (an optional check that failed) or an ``ok`` whose evidence says it was optional."""
    return check.status == WARNING or (check.status == OK and check.evidence.get(REQUIRED) is False)


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]
    bad_input: str | None = None

    @property
    def failed(self) -> list[Check]:
        """The required checks that failed."""
        return [c for c in self.checks if c.status == ERROR]

    @property
    def exit_code(self) -> int:
        if self.bad_input:
            return 2
        return 1 if has_errors(self.checks) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "bad_input": self.bad_input,
            "checks": [asdict(c) for c in self.checks],
        }


def _module_available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@dataclass(frozen=True)
class MachineEnv:
    """What the checks look at. :meth:`from_os` reads the real machine; tests build their own."""

    path: str
    tool_dirs: tuple[str, ...] = DEFAULT_TOOL_DIRS
    home: Path = field(default_factory=Path.home)
    kubeconfig_env: str | None = None
    python_version: tuple[int, ...] = field(default_factory=lambda: tuple(sys.version_info[:3]))
    module_available: Callable[[str], bool] = _module_available
    timeout: float = DEFAULT_TIMEOUT
    lab: bool = True

    @classmethod
    def from_os(cls, timeout: float = DEFAULT_TIMEOUT, lab: bool = True) -> MachineEnv:
        dirs = os.environ.get(TOOL_DIRS_ENV)
        return cls(
            path=os.environ.get("PATH", os.defpath),
            tool_dirs=tuple(d for d in dirs.split(os.pathsep) if d)
            if dirs is not None
            else DEFAULT_TOOL_DIRS,
            home=Path.home(),
            kubeconfig_env=os.environ.get("KUBECONFIG") or None,
            python_version=tuple(sys.version_info[:3]),
            timeout=timeout,
            lab=lab,
        )

    def find_tool(self, name: str) -> str | None:
        """``name`` on PATH, else in one of the extra tool folders (``/usr/sbin`` ...)."""
        found = shutil.which(name, path=self.path)
        if found:
            return found
        for folder in self.tool_dirs:
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        return None
