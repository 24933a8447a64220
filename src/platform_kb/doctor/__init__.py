"""``kb doctor``: is this machine (and, given one, a profile) ready for the knowledge base?

Where it sits: a read-only side entrance next to the main flow (profile -> tunnel -> runbook run).
Each check is a small function returning a :class:`platform_kb.results.Check` (:mod:`.machine`: the
machine and its kubeconfig; :mod:`.bastion`: a profile, its bastion and hosts); :func:`run_doctor`
runs them in order and returns a :class:`~.model.DoctorReport`; the CLI (:mod:`platform_kb.cli.doctor`)
only renders it (:mod:`.report`). Nothing here changes the machine. Everything a check looks at (PATH,
the extra tool folders, the home folder, ``$KUBECONFIG``, the Python version, module lookup) comes in
through :class:`~.model.MachineEnv`, so tests can simulate a machine without uninstalling anything.

Exit codes: 0 when every required check passes, 1 when one fails, 2 for bad input (a profile
that is missing or malformed; :mod:`platform_kb.profiles` decides what is malformed).
"""

from __future__ import annotations

from ..paths import ProjectPaths
from .bastion import check_profile, profile_checks
from .machine import check_kubeconfig, machine_checks
from .model import DoctorReport, MachineEnv


def run_doctor(profile_name: str | None, env: MachineEnv, paths: ProjectPaths | None = None) -> DoctorReport:
    paths = paths or ProjectPaths.discover()
    checks = machine_checks(env)
    profile_check, profile, bad_input = check_profile(profile_name, paths)
    checks.append(check_kubeconfig(env, profile))
    checks.append(profile_check)
    if profile is not None:
        more, bad_input = profile_checks(profile, env)
        checks.extend(more)
    return DoctorReport(tuple(checks), bad_input)
