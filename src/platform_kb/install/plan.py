"""Plan, then apply: facts are read, operations yield commands only where state differs.

The middle of the install flow (after ``values.py`` and ``checks.py``, before ``verify.py``),
modelled on pyinfra: a *fact* is a read-only command plus a parser of its output (``helm repo
list``, ``helm status``, ``helm get values``, ``kubectl get``); an *operation* compares a fact with
the desired state and yields either a command or a no-op with its reason. :func:`plan_install`
collects the operations into a :class:`Plan` without changing anything; :func:`apply_plan`
executes the plan's commands in order — and, when the plan has no changes, says so instead.
Applying twice therefore changes nothing the second time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import KbError, UsageProblem
from ..results import Check
from . import commands as c
from .runners import CommandFailed, Result, Runner, require_tools
from .secrets import Resolver, resolve
from .spec import DesiredSecret, InstallSpec, Release, to_yaml

UNKNOWN = object()  # a fact that could not be read on this runner


class FactError(KbError):
    """A fact command failed in a way that is not "absent"."""


# --- facts: command + parser ----------------------------------------------------------------------
def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def parse_repo_list(result: Result) -> dict[str, str]:
    """``helm repo list -o json`` -> {name: url}; helm exits 1 with "no repositories" when there are none."""
    if not result.ok:
        if "no repositories" in result.stderr.lower():
            return {}
        raise FactError(f"helm repo list: {_first_line(result.stderr)}")
    data = json.loads(result.stdout or "[]") or []
    return {str(r.get("name")): str(r.get("url")) for r in data}


@dataclass(frozen=True)
class ReleaseFact:
    status: str
    chart_version: str | None
    revision: int | None


def parse_release_status(result: Result) -> ReleaseFact | None:
    """``helm status NAME -o json`` -> ReleaseFact; None when the release does not exist."""
    if not result.ok:
        if "not found" in result.stderr.lower():
            return None
        raise FactError(f"helm status: {_first_line(result.stderr)}")
    data = json.loads(result.stdout or "{}")
    chart = (data.get("chart") or {}).get("metadata") or {}
    return ReleaseFact(
        status=str((data.get("info") or {}).get("status", "unknown")),
        chart_version=chart.get("version"),
        revision=data.get("version"),
    )


def parse_values(result: Result) -> dict[str, Any]:
    """``helm get values NAME -o json`` -> the user-supplied values (``null`` when none were given)."""
    if not result.ok:
        raise FactError(f"helm get values: {_first_line(result.stderr)}")
    return json.loads(result.stdout or "null") or {}


def parse_object(result: Result) -> dict[str, Any] | None:
    """``kubectl get ... -o json --ignore-not-found`` -> the object, or None (empty output)."""
    if not result.ok:
        if "notfound" in result.stderr.lower().replace(" ", "") or "not found" in result.stderr.lower():
            return None
        raise FactError(f"kubectl get: {_first_line(result.stderr)}")
    text = result.stdout.strip()
    return json.loads(text) if text else None


def read_fact(runner: Runner, command: c.Command, parser: Callable[[Result], Any], tool: str) -> Any:
    """Run a read-only command and parse it; UNKNOWN (with the reason) when it cannot be read here."""
    if not runner.has_tool(tool):
        return UNKNOWN, f"{tool} is not available on the {runner.name} runner"
    try:
        return parser(runner.run(command, check=False)), ""
    except (FactError, json.JSONDecodeError) as exc:
        return UNKNOWN, f"could not read ({exc})"


# --- diffing -------------------------------------------------------------------------------------
def _decoded(data: Mapping[str, Any] | None) -> dict[str, str]:
    out = {}
    for key, value in (data or {}).items():
        try:
            out[key] = base64.b64decode(str(value)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            out[key] = ""
    return out


def contained(desired: Any, current: Any) -> bool:
    """True when everything ``desired`` states is already in ``current`` (server defaults ignored)."""
    if isinstance(desired, Mapping):
        return isinstance(current, Mapping) and all(
            k in current and contained(v, current[k]) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(desired) == len(current)
            and all(contained(d, cur) for d, cur in zip(desired, current, strict=True))
        )
    if isinstance(desired, (int, float)) and not isinstance(desired, bool) and isinstance(current, str):
        return str(desired) == current
    return desired == current


def object_differences(desired: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Names of the top-level parts of ``desired`` that ``current`` does not match yet."""
    diffs = []
    meta_d, meta_c = desired.get("metadata", {}), current.get("metadata", {})
    for part in ("labels", "annotations"):
        if not contained(meta_d.get(part) or {}, meta_c.get(part) or {}):
            diffs.append(f"metadata.{part}")
    for key, value in desired.items():
        if key in ("apiVersion", "kind", "metadata"):
            continue
        if key == "stringData":
            if _decoded(current.get("data")) != dict(value):
                diffs.append("data")
        elif not contained(value, current.get(key)):
            diffs.append(key)
    return diffs


def values_differences(desired: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Top-level value keys whose content differs (JSON-normalised, as helm returns them)."""
    want = json.loads(json.dumps(desired))
    have = json.loads(json.dumps(current))
    return sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))


# --- operations ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    """One planned step: a command to run, or a no-op with the reason nothing needs to change."""

    name: str
    reason: str
    command: c.Command | None = None
    shown: dict[str, Any] | None = None  # masked manifest for object operations

    @property
    def changes(self) -> bool:
        return self.command is not None


def op_helm_repo(runner: Runner, release: Release) -> Operation:
    chart = release.chart
    repos, why = read_fact(runner, c.HelmRepoList(), parse_repo_list, "helm")
    name = f"helm repo {chart.repo_name}"
    add = c.HelmRepoAdd(chart.repo_name, chart.repo_url)
    if repos is UNKNOWN:
        return Operation(name, f"{why}; would add it", add)
    if repos.get(chart.repo_name) == chart.repo_url:
        return Operation(name, f"already added ({chart.repo_url})")
    if chart.repo_name in repos:
        return Operation(name, f"points at {repos[chart.repo_name]}, want {chart.repo_url}", add)
    return Operation(name, "not added yet", add)


Built = tuple[dict[str, Any], tuple[str, ...]] | None  # DesiredSecret.materialize: (manifest, secrets)


def op_object(runner: Runner, obj: dict[str, Any] | DesiredSecret, built: Built) -> tuple[Operation, bool]:
    """(operation, resolved) for one object (``built``: a Secret's materialized manifest, None when its
    references cannot be resolved here: then it is planned as a change)."""
    resolved = True
    if isinstance(obj, DesiredSecret):
        shown = obj.placeholder_manifest()
        if built is None:
            resolved = False
            manifest, secrets = shown, ()
        else:
            manifest, secrets = built
    else:
        manifest, secrets, shown = obj, (), obj
    kind = manifest["kind"]
    meta = manifest["metadata"]
    ns = meta.get("namespace")
    name = f"{kind} {ns + '/' if ns else ''}{meta['name']}"
    apply = c.KubectlApply(manifest, secrets)
    if not resolved:
        refs = ", ".join(str(r) for r in obj.refs.values())  # type: ignore[union-attr]
        return Operation(name, f"credentials not resolvable here ({refs}); would apply", apply, shown), False
    current, why = read_fact(
        runner, c.KubectlGet(c.resource_name(kind), meta["name"], ns), parse_object, "kubectl"
    )
    if current is UNKNOWN:
        return Operation(name, f"{why}; would apply", apply, shown), resolved
    if current is None:
        return Operation(name, "does not exist", apply, shown), resolved
    diffs = object_differences(manifest, current)
    if diffs:
        return Operation(name, f"differs in {', '.join(diffs)}", apply, shown), resolved
    return Operation(name, "exists and matches", None, shown), resolved


def op_release(runner: Runner, release: Release, repo_changed: bool) -> Iterator[Operation]:
    chart = release.chart
    name = f"release {release.namespace}/{release.name}"
    upgrade = c.HelmUpgradeInstall(
        release.name, chart, release.namespace, release.values_file, release.values_yaml
    )
    fact, why = read_fact(runner, c.HelmStatus(release.name, release.namespace), parse_release_status, "helm")
    if fact is UNKNOWN:
        reason = f"{why}; would install or upgrade to {chart.chart}-{chart.version}"
    elif fact is None:
        reason = f"not installed; install {chart.chart}-{chart.version}"
    else:
        reasons = []
        if fact.status != "deployed":
            reasons.append(f"status is {fact.status}")
        if fact.chart_version != chart.version:
            reasons.append(f"chart {fact.chart_version} -> {chart.version}")
        if not reasons:
            current, why_values = read_fact(
                runner, c.HelmGetValues(release.name, release.namespace), parse_values, "helm"
            )
            if current is UNKNOWN:
                reasons.append(f"values {why_values}")
            else:
                diffs = values_differences(release.values, current)
                if diffs:
                    reasons.append(f"values differ in {', '.join(diffs)}")
        if not reasons:
            yield Operation(
                name, f"{chart.chart}-{chart.version} deployed (revision {fact.revision}), values unchanged"
            )
            return
        reason = "; ".join(reasons)
    if not repo_changed:
        yield Operation(
            f"helm repo {chart.repo_name} index",
            "refresh before installing",
            c.HelmRepoUpdate(chart.repo_name),
        )
    yield Operation(name, reason, upgrade)


# --- plan / apply ----------------------------------------------------------------------------------
@dataclass
class Plan:
    component: str
    runner: str
    operations: list[Operation]
    values_yaml: str | None = None
    manifests: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Check] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    template_checked: bool = False

    @property
    def changes(self) -> list[Operation]:
        return [op for op in self.operations if op.changes]

    @property
    def commands(self) -> list[c.Command]:
        return [op.command for op in self.operations if op.command is not None]

    def lines(self) -> list[str]:
        return [cmd.line() for cmd in self.commands]

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "step": str(i),
                "what": op.name,
                "change": "yes" if op.changes else "no",
                "command": op.command.line() if op.command else "",
                "reason": op.reason,
            }
            for i, op in enumerate(self.operations, 1)
        ]

    def summary(self) -> str:
        if not self.changes:
            return f"{self.component}: nothing to change — {len(self.operations)} item(s) already match"
        return f"{self.component}: {len(self.changes)} change(s) of {len(self.operations)} item(s)"


def template_check(runner: Runner, release: Release) -> bool:
    """``helm template`` against the chart (applies its values.schema.json); False when helm is not here."""
    if not runner.has_tool("helm"):
        return False
    cmd = c.HelmTemplate(
        release.name, release.chart, release.namespace, release.values_file, release.values_yaml
    )
    try:
        runner.run(cmd)
    except CommandFailed as exc:
        raise UsageProblem(
            f"{release.chart.ref} {release.chart.version} rejects the rendered values:\n{exc}"
        ) from exc
    return True


def plan_install(
    spec: InstallSpec,
    runner: Runner,
    resolver: Resolver = resolve,
    warnings: list[Check] | None = None,
) -> Plan:
    """Read facts and build the plan (nothing is changed; ``helm template`` runs when helm is available)."""
    ops: list[Operation] = []
    unresolved: list[str] = []
    checked = False
    repo_changed = False
    # the Secrets first: a credential that cannot be masked stops the plan before any command runs
    built = [obj.materialize(resolver) if isinstance(obj, DesiredSecret) else None for obj in spec.objects]
    if spec.release is not None:
        checked = template_check(runner, spec.release)
        repo_op = op_helm_repo(runner, spec.release)
        repo_changed = repo_op.changes
        ops.append(repo_op)
    for obj, secret in zip(spec.objects, built, strict=True):
        op, resolved = op_object(runner, obj, secret)
        if not resolved:
            unresolved.append(op.name)
        ops.append(op)
    if spec.release is not None:
        ops.extend(op_release(runner, spec.release, repo_changed))
    return Plan(
        component=spec.component,
        runner=runner.name,
        operations=ops,
        values_yaml=to_yaml(spec.release.values) if spec.release else None,
        manifests=spec.manifests_shown(),
        warnings=list(warnings or []),
        unresolved=unresolved,
        template_checked=checked,
    )


@dataclass
class ApplyReport:
    component: str
    executed: list[str]
    nothing_to_do: bool
    message: str


Act = Callable[[Operation], Any]


def apply_plan(plan: Plan, runner: Runner, act: Act | None = None, dry: bool = False) -> ApplyReport:
    """Execute the plan's commands in order (through ``act``, e.g. the runbook's ``rb.action``).

    ``dry`` (plan mode): hand every change to ``act`` — which records it without running it — and
    skip the pre-flight checks that only matter when commands really run.
    """
    if not plan.changes:
        return ApplyReport(plan.component, [], True, plan.summary() + "; nothing was applied")
    if dry:
        for op in plan.changes:
            if act is not None:
                act(op)
        lines = [op.command.line() for op in plan.changes if op.command]
        return ApplyReport(
            plan.component, [], False, f"{plan.component}: {len(lines)} change(s) planned, none applied"
        )
    if plan.unresolved:
        raise UsageProblem(
            f"{plan.component}: cannot apply, credentials not resolvable for {', '.join(plan.unresolved)} "
            "(set the referenced environment variables or files)"
        )
    require_tools(runner, tuple(sorted({op.command.tool for op in plan.changes if op.command})))
    executed = []
    for op in plan.changes:
        assert op.command is not None
        if act is None:
            runner.run(op.command)
        else:
            act(op)
        executed.append(op.command.line())
    return ApplyReport(
        plan.component, executed, False, f"{plan.component}: applied {len(executed)} change(s)"
    )
