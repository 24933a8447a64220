"""Typed commands: what the plan yields and a runner executes, rendered as exact, masked lines.

Sits between ``plan.py`` (which decides *which* commands are needed) and ``runners.py`` (which
executes them locally or on the bastion). A command knows its argv, the stdin it feeds (a
manifest for ``kubectl apply -f -``), the files it needs next to it (``-f <values file>``) and
the secret values that must never be shown: :meth:`Command.line` and :meth:`Command.shown_stdin`
mask them in every form they take in text (raw, base64, URL-quoted, JSON-escaped: the project's
:class:`~platform_kb.secrets.Masker`), and ``repr()`` never contains stdin. A command refuses, when
it is made, a secret too short to be masked. Read-only commands (facts) have ``mutates=False``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from ..errors import UsageProblem
from ..secrets import MIN_SECRET_LENGTH, Masker
from .chart import ChartRef


@dataclass(frozen=True)
class StagedFile:
    """A file the runner writes into its working directory before running the command."""

    name: str
    content: str = field(repr=False)


class Command:
    """Base of every typed command."""

    mutates: ClassVar[bool] = True

    def argv(self) -> tuple[str, ...]:
        raise NotImplementedError

    def stdin(self) -> str | None:
        return None

    def files(self) -> tuple[StagedFile, ...]:
        return ()

    def secrets(self) -> tuple[str, ...]:
        return ()

    def summary(self) -> str:
        return self.line()

    @property
    def tool(self) -> str:
        return self.argv()[0]

    def masker(self) -> Masker:
        """Masks this command's secrets (every encoded form too) in anything shown."""
        return Masker.of(s for s in self.secrets() if s)

    def masked_argv(self) -> list[str]:
        masker = self.masker()
        return [masker.text(a) for a in self.argv()]

    def line(self) -> str:
        """The exact command line, secrets masked (what plans, records and consoles show)."""
        return shlex.join(self.masked_argv())

    def shown_stdin(self) -> str | None:
        text = self.stdin()
        return None if text is None else self.masker().text(text)

    def __str__(self) -> str:
        return self.line()


def _ns(namespace: str | None) -> tuple[str, ...]:
    return ("--namespace", namespace) if namespace else ()


@dataclass(frozen=True, repr=True)
class Shell(Command):
    """Any argv (used for tool probes and in tests)."""

    args: tuple[str, ...]
    read_only: bool = True

    def argv(self) -> tuple[str, ...]:
        return self.args

    @property
    def mutates(self) -> bool:  # type: ignore[override]
        return not self.read_only


# --- helm: facts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HelmRepoList(Command):
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("helm", "repo", "list", "-o", "json")


@dataclass(frozen=True)
class HelmStatus(Command):
    release: str
    namespace: str
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("helm", "status", self.release, *_ns(self.namespace), "-o", "json")


@dataclass(frozen=True)
class HelmGetValues(Command):
    release: str
    namespace: str
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return ("helm", "get", "values", self.release, *_ns(self.namespace), "-o", "json")


@dataclass(frozen=True)
class HelmTemplate(Command):
    """``helm template`` against the chart from its repository URL: applies the chart's values.schema.json."""

    release: str
    chart: ChartRef
    namespace: str
    values_file: str
    values_yaml: str = field(repr=False)
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return (
            "helm", "template", self.release, self.chart.chart,
            "--repo", self.chart.repo_url, "--version", self.chart.version,
            *_ns(self.namespace), "-f", self.values_file,
        )  # fmt: skip

    def files(self) -> tuple[StagedFile, ...]:
        return (StagedFile(self.values_file, self.values_yaml),)


# --- helm: changes ----------------------------------------------------------------------------
@dataclass(frozen=True)
class HelmRepoAdd(Command):
    name: str
    url: str

    def argv(self) -> tuple[str, ...]:
        return ("helm", "repo", "add", self.name, self.url, "--force-update")

    def summary(self) -> str:
        return f"add chart repository {self.name} ({self.url})"


@dataclass(frozen=True)
class HelmRepoUpdate(Command):
    name: str

    def argv(self) -> tuple[str, ...]:
        return ("helm", "repo", "update", self.name)

    def summary(self) -> str:
        return f"refresh chart repository index {self.name}"


@dataclass(frozen=True)
class HelmUpgradeInstall(Command):
    release: str
    chart: ChartRef
    namespace: str
    values_file: str
    values_yaml: str = field(repr=False)
    create_namespace: bool = True

    def argv(self) -> tuple[str, ...]:
        create = ("--create-namespace",) if self.create_namespace else ()
        return (
            "helm", "upgrade", "--install", self.release, self.chart.ref,
            "--version", self.chart.version, *_ns(self.namespace), *create, "-f", self.values_file,
        )  # fmt: skip

    def files(self) -> tuple[StagedFile, ...]:
        return (StagedFile(self.values_file, self.values_yaml),)

    def summary(self) -> str:
        return f"install/upgrade release {self.release} ({self.chart.ref} {self.chart.version}) in {self.namespace}"


@dataclass(frozen=True)
class HelmRollback(Command):
    release: str
    namespace: str
    revision: int | None = None

    def argv(self) -> tuple[str, ...]:
        rev = (str(self.revision),) if self.revision else ()
        return ("helm", "rollback", self.release, *rev, *_ns(self.namespace))


@dataclass(frozen=True)
class HelmUninstall(Command):
    release: str
    namespace: str

    def argv(self) -> tuple[str, ...]:
        return ("helm", "uninstall", self.release, *_ns(self.namespace))


# --- kubectl ----------------------------------------------------------------------------------
# kind -> the resource name kubectl resolves without discovery ambiguity
RESOURCE_NAMES = {
    "Namespace": "namespace",
    "Secret": "secret",
    "ConfigMap": "configmap",
    "Service": "service",
    "Deployment": "deployment.apps",
    "Ingress": "ingress.networking.k8s.io",
    "SparkApplication": "sparkapplication.sparkoperator.k8s.io",
}


def resource_name(kind: str) -> str:
    return RESOURCE_NAMES.get(kind, kind.lower())


@dataclass(frozen=True)
class KubectlGet(Command):
    resource: str
    name: str
    namespace: str | None = None
    mutates: ClassVar[bool] = False

    def argv(self) -> tuple[str, ...]:
        return (
            "kubectl",
            "get",
            self.resource,
            self.name,
            *_ns(self.namespace),
            "-o",
            "json",
            "--ignore-not-found",
        )


@dataclass(frozen=True)
class KubectlApply(Command):
    """``kubectl apply -f -`` with one manifest on stdin; ``secret_values`` are masked wherever shown."""

    manifest: dict[str, Any] = field(repr=False)
    secret_values: tuple[str, ...] = field(default=(), repr=False)

    def argv(self) -> tuple[str, ...]:
        return ("kubectl", "apply", "-f", "-")

    def stdin(self) -> str:
        return yaml.safe_dump(self.manifest, sort_keys=False, allow_unicode=True)

    def __post_init__(self) -> None:
        if any(0 < len(s) < MIN_SECRET_LENGTH for s in self.secret_values):
            raise UsageProblem(
                f"{self.summary()}: a secret value shorter than {MIN_SECRET_LENGTH} characters cannot be "
                "masked in what the run shows; refused before anything runs (use a longer credential)"
            )

    def secrets(self) -> tuple[str, ...]:
        return self.secret_values

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind", ""))

    @property
    def object_name(self) -> str:
        meta = self.manifest.get("metadata", {})
        ns = meta.get("namespace")
        return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))

    def shown_manifest(self) -> dict[str, Any]:
        return masked_manifest(self.manifest)

    def summary(self) -> str:
        return f"apply {self.kind} {self.object_name}"

    def __repr__(self) -> str:
        return f"KubectlApply({self.kind} {self.object_name})"


def masked_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """A copy safe to show: every value under ``data``/``stringData`` of a Secret becomes ``***``."""
    shown = {k: v for k, v in manifest.items()}
    if manifest.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if isinstance(manifest.get(key), dict):
                shown[key] = {k: "***" for k in manifest[key]}
    return shown
