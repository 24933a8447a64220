"""``kb lab up|status|down|submit``: the local lab from the command line.

Parses flags and delegates to :class:`platform_kb_lab.manager.LabManager` and
:func:`platform_kb_lab.submit.submit`; prints what runs, the scenario and the URLs. Bad input
(an unknown scenario, a bad ``--conf``) and missing prerequisites exit 2 before anything starts.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from .config import LabSettings
from .scenarios import DEFAULT_SCENARIO, SCENARIOS


def _print_status(status, as_json: bool = False) -> None:  # status: LabStatus
    if as_json:
        click.echo(json.dumps(asdict(status), indent=2, ensure_ascii=False))
        return
    if not status.processes:
        click.echo(f"lab: not running ({status.root})")
        return
    state = (
        "running"
        if status.running
        else "DEGRADED (some processes are gone; run `kb lab up` or `kb lab down`)"
    )
    click.echo(f"lab: {state}, scenario {status.scenario or '-'} ({status.root})")
    for proc in status.processes:
        click.echo(f"  {proc.name:<28} pid {proc.pid:<8} {'running' if proc.alive else 'gone'}")
    if status.app:
        app = status.app
        click.echo(
            f"  app {app.get('namespace', 'spark')}/{app.get('name', '?')}: {app.get('state', '?')}"
            + (f", {app['applicationId']}" if app.get("applicationId") else "")
        )
    for name, url in status.urls.items():
        if url:
            click.echo(f"  {name:<28} {url}")
    if status.profile:
        click.echo(f"  profile                      {status.profile}  (kb tunnel up --profile lab)")
    if status.kubeconfig:
        click.echo(f"  kubeconfig                   {status.kubeconfig}")
    if status.timings.get("up_seconds"):
        click.echo(f"  last up took {status.timings['up_seconds']:.1f}s")


@click.group(name="lab", help="Start, inspect and stop the local lab.")
def command() -> None:
    """Local lab commands."""


def _scenario_help() -> str:
    lines = ["Which recorded state to reproduce:"]
    lines += [f"{name} (#{s.writeup}): {s.summary}" for name, s in SCENARIOS.items()]
    return "\n\n".join(lines)


@command.command("up")
@click.option(
    "--scenario",
    type=click.Choice(list(SCENARIOS)),
    default=DEFAULT_SCENARIO,
    show_default=True,
    help=_scenario_help(),
)
@click.option(
    "--duration", type=float, default=None, help="Seconds long-test runs (default: the scenario's)."
)
def up(scenario: str, duration: float | None) -> None:
    """Start the lab (idempotent; switching scenario needs no clean-up)."""
    from .manager import LabManager

    manager = LabManager(LabSettings.from_env(), echo=lambda m: click.echo(f"lab: {m}", err=True))
    _print_status(manager.up(scenario, duration))


@command.command("apply-fix")
@click.argument("record_dir", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the changes without applying them.")
def apply_fix(record_dir: Path, dry_run: bool) -> None:
    """Apply the remedies of a lab run's record (RECORD_DIR holds summary.json) to the lab.

    Resubmits the application with the fixed sparkConf or DAG arguments, changes the operator's
    values, or patches the UI Ingress, the way the homelab would, and returns once the lab has
    converged. Run the runbook again afterwards to see the verdict.
    """
    from .fixes import plan_fixes, read_record
    from .manager import LabManager

    record = read_record(record_dir)
    plan = plan_fixes(record.remedies)
    for source in plan.sources:
        click.echo(f"remedy {source}")
    if not plan.changes_anything:
        for line in plan.describe():
            click.echo(f"  {line}")
        click.echo("apply-fix: nothing to change in the lab")
        return
    for line in plan.describe():
        click.echo(f"  {line}")
    if dry_run:
        click.echo("apply-fix: --dry-run, nothing changed")
        return
    manager = LabManager(LabSettings.from_env(), echo=lambda m: click.echo(f"lab: {m}", err=True))
    status = manager.apply_fix(plan)
    click.echo(
        f"apply-fix: lab converged in {status.timings.get('apply_fix_seconds', 0):.1f}s "
        f"(scenario {status.scenario}); run `kb run {record.runbook or 'RUNBOOK'} --profile lab` again"
    )


@command.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """What runs (with pids), the scenario and the URLs."""
    from .manager import LabManager

    _print_status(LabManager(LabSettings.from_env()).status(), as_json)


@command.command("down")
def down() -> None:
    """Stop exactly the processes the lab started, free its ports, remove its runtime state."""
    from .manager import LabManager

    report = LabManager(LabSettings.from_env(), echo=lambda m: click.echo(f"lab: {m}", err=True)).down()
    if report.stopped:
        click.echo(f"lab: stopped {len(report.stopped)} process(es): {', '.join(report.stopped)}")
    else:
        click.echo("lab: nothing was running")


@command.command("submit")
@click.argument("name")
@click.option("--namespace", default="spark", show_default=True)
@click.option("--no-suffix", is_flag=True, help="Keep NAME as is (Airflow adds '-' and 8 random [a-z0-9]).")
@click.option("--duration", type=float, default=60.0, show_default=True, help="Seconds long-test runs.")
@click.option("--conf", "conf", multiple=True, metavar="KEY=VALUE", help="sparkConf entry (repeatable).")
def submit(name: str, namespace: str, no_suffix: bool, duration: float, conf: tuple[str, ...]) -> None:
    """Create a SparkApplication NAME as Airflow's SparkKubernetesOperator does."""
    from .submit import parse_conf
    from .submit import submit as submit_app

    spark_conf = parse_conf(conf)
    created = submit_app(
        LabSettings.from_env(), name, namespace, suffix=not no_suffix, duration=duration, conf=spark_conf
    )
    meta = created["metadata"]
    click.echo(
        f"sparkapplication.sparkoperator.k8s.io/{meta['name']} created in namespace {meta['namespace']}"
    )
