"""``kb doctor``'s machine checks: Python, Java, the tools on PATH (and ``/usr/sbin``...), pyspark,
and the kubeconfig the runbooks would use."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..kube import (
    NO_CURRENT_CONTEXT,
    UNKNOWN_CLUSTER,
    UNKNOWN_CONTEXT,
    UNREADABLE,
    KubeconfigError,
    context_server,
)
from ..profiles import Profile
from ..results import Check
from .model import MachineEnv, passed_evidence, severity

MIN_PYTHON = (3, 11)
MIN_JAVA = 17


def _run(argv: Sequence[str], timeout: float) -> str:
    """stdout+stderr of a short version command ('' when it cannot run)."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stdout + done.stderr).strip()


def check_python(env: MachineEnv) -> Check:
    version = ".".join(map(str, env.python_version))
    if tuple(env.python_version[:2]) >= MIN_PYTHON:
        return Check.passed("python", "python", f"Python {version}")
    return Check.failed(
        "python",
        "python",
        f"Python {version}; platform-kb needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+",
        fix="install python3.11 (Debian 12: apt-get install python3 python3-venv) and rerun scripts/setup",
    )


def parse_java_major(text: str) -> int | None:
    """``openjdk version "17.0.15"`` -> 17; ``java version "1.8.0_392"`` -> 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java(env: MachineEnv) -> Check:
    java = env.find_tool("java")
    if java is None:
        return _java_failed(env, "java not found (the lab's Spark needs Java 17+)")
    output = _run([java, "-version"], max(env.timeout, 20.0))
    major = parse_java_major(output)
    if major is None:
        return _java_failed(env, f"{java}: could not read its version")
    if major < MIN_JAVA:
        return _java_failed(env, f"{java}: Java {major}, the lab's Spark needs {MIN_JAVA}+")
    return Check.passed("tool-java", "java", f"Java {major} ({java})", passed_evidence(env.lab))


def _java_failed(env: MachineEnv, detail: str) -> Check:
    fix = "apt-get install openjdk-17-jre-headless (scripts/setup does this as root)"
    return Check.failed("tool-java", "java", detail, severity=severity(env.lab), fix=fix)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    package: str
    purpose: str
    version_args: tuple[str, ...] = ()
    lab_only: bool = False


TOOLS = (
    ToolSpec(
        "ssh", "openssh-client", "reaching the bastion by hand and the tunnel's openssh backend", ("-V",)
    ),
    ToolSpec("ssh-keygen", "openssh-client", "creating keys and checking fingerprints"),
    ToolSpec("sshd", "openssh-server", "the lab's bastion", lab_only=True),
    ToolSpec("nginx", "nginx-light", "the lab's ingress-nginx stand-in", ("-v",), lab_only=True),
    ToolSpec("prometheus", "prometheus", "the lab's Prometheus (install-monitoring)", lab_only=True),
    ToolSpec(
        "prometheus-node-exporter",
        "prometheus-node-exporter",
        "the lab's node-exporters (install-monitoring)",
        lab_only=True,
    ),
)


def check_tool(spec: ToolSpec, env: MachineEnv) -> Check:
    required = env.lab or not spec.lab_only
    check_id = f"tool-{spec.name}"
    found = env.find_tool(spec.name)
    if found is None:
        where = ", ".join(env.tool_dirs)
        return Check.failed(
            check_id,
            spec.name,
            f"{spec.name} not found on PATH{' or in ' + where if where else ''} (needed for {spec.purpose})",
            severity=severity(required),
            fix=f"apt-get install {spec.package} (scripts/setup does this as root)",
        )
    version = _run([found, *spec.version_args], env.timeout).splitlines()[0] if spec.version_args else ""
    detail = f"{found}{' — ' + version if version else ''}"
    return Check.passed(check_id, spec.name, detail, passed_evidence(required))


def check_pyspark(env: MachineEnv) -> Check:
    if env.module_available("pyspark"):
        return Check.passed(
            "pyspark", "pyspark", "importable (lab extra installed)", passed_evidence(env.lab)
        )
    return Check.failed(
        "pyspark",
        "pyspark",
        "pyspark is not importable (the lab's Spark driver UI and History Server need it)",
        severity=severity(env.lab),
        fix="scripts/setup (installs the lab extra), or .venv/bin/pip install -e '.[lab]'",
    )


def machine_checks(env: MachineEnv) -> list[Check]:
    return [check_python(env), check_java(env), *(check_tool(t, env) for t in TOOLS), check_pyspark(env)]


# --- kubeconfig ----------------------------------------------------------------------------------


KUBECONFIG_FIXES = {
    UNREADABLE: "fix or replace the file",
    NO_CURRENT_CONTEXT: "kubectl config use-context NAME (see kubectl config get-contexts)",
    UNKNOWN_CONTEXT: "kubectl config use-context NAME with an existing context",
    UNKNOWN_CLUSTER: "add the cluster entry or fix the context",
}


def kubeconfig_files(env: MachineEnv, profile: Profile | None) -> tuple[list[Path], bool, str]:
    """The kubeconfig files to read, whether they are required, and where the choice came from."""
    if profile is not None and profile.kubeconfig:
        return [Path(profile.kubeconfig)], True, f"profile {profile.name}"
    if env.kubeconfig_env:
        return [Path(p).expanduser() for p in env.kubeconfig_env.split(os.pathsep) if p], False, "$KUBECONFIG"
    return [env.home / ".kube" / "config"], False, "~/.kube/config"


def check_kubeconfig(env: MachineEnv, profile: Profile | None) -> Check:
    """The kubeconfig's current context resolves to a cluster, read as the runbooks' client reads it
    (:func:`platform_kb.kube.context_server`: the official loader; several ``$KUBECONFIG`` files
    merge as kubectl merges them)."""
    files, required, origin = kubeconfig_files(env, profile)
    existing = [f for f in files if f.is_file()]
    names = ", ".join(map(str, files))
    if not existing:
        if not required:
            return Check.skipped(
                "kubeconfig",
                "kubeconfig",
                f"none at {names} (optional: only runbooks that call the Kubernetes API need one)",
                "copy the cluster's kubeconfig to ~/.kube/config, or name one in the profile (kubeconfig:)",
            )
        return Check.failed(
            "kubeconfig",
            "kubeconfig",
            f"{origin} names {names}, which does not exist",
            fix="kb lab up writes the lab's; for the homelab copy it from the cluster admin",
        )
    try:
        found = context_server(existing)
    except KubeconfigError as exc:
        return Check.failed(
            "kubeconfig",
            "kubeconfig",
            f"{exc.where}: {exc.detail}",
            severity=severity(required),
            fix=KUBECONFIG_FIXES[exc.reason],
        )
    where = ", ".join(map(str, existing))
    return Check.passed(
        "kubeconfig",
        "kubeconfig",
        f"{where}: context {found.context} -> cluster {found.cluster} ({found.server or '?'})",
        passed_evidence(required),
    )
