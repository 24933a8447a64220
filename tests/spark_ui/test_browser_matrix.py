"""The runbook's verdict against a real browser (issue 13, item 6): headless Chromium as the oracle.

For every configuration of the generated matrix (:mod:`platform_kb_lab.matrix`: urlFormat ×
proxyBase × proxyRedirectUri × rewrite-target × x-forwarded-prefix × driver running or finished ×
name suffix, 41 in all) the lab is brought to that state — one lab switch per Spark side, the
Ingress side annotated in place — and, through one kb tunnel to the lab's bastion:

- the diagnosis runs as the ``spark-ui-ingress`` runbook runs it (``collect_and_diagnose`` and
  ``verdict`` from :mod:`platform_kb.checks.spark_ui`, the same calls its cells make);
- Debian's Chromium (``tests/browser/chromium.py``) opens the address a user would open for the
  DAG's name, records every request, and decides from what it saw: the document 200 inside the
  prefix, every stylesheet and script 200 and not HTML, the styles applied, no loop, no request to
  another host.

Asserted in every configuration: the runbook says healthy exactly when Chromium saw the page work
(zero "healthy" on a page Chromium shows broken, and no false alarm on one it shows working), and
the runbook's "address that works now", when it gives one, works in Chromium too. The outcome
table is written to ``runbooks/spark-ui-ingress.browser-matrix.json`` (the runbook page shows it) when
``KB_UPDATE_MATRIX=1``; otherwise the live outcome must equal the committed one, so the page on
the site is what Chromium saw.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from platform_kb.checks.spark_ui import (
    KubeReader,
    Observations,
    api_client_through,
    collect_and_diagnose,
    verdict,
)
from platform_kb.probes import Prober
from platform_kb.profiles import load_profile
from platform_kb.tunnel import Tunnel
from platform_kb_lab.manager import LabManager
from platform_kb_lab.matrix import MatrixConfig, configurations, grouped
from platform_kb_lab.operator import REWRITE_TARGET
from platform_kb_lab.scenarios import APP_NAME, NAMESPACE

from ..browser.chromium import Chromium, PageLoad, find_chromium
from ..lab.conftest import lab_processes, make_settings, require_lab_prerequisites
from ..prereq import missing

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "runbooks" / "spark-ui-ingress.browser-matrix.json"  # shown on the runbook page
HOSTS = [f"{APP_NAME}.spark.example.internal"]


@dataclass
class Outcome:
    config: str
    findings: list[str]
    runbook_healthy: bool
    chromium_works: bool
    chromium_saw: str  # "works" or the first problem Chromium's record shows
    working_url: str  # the runbook's "address that works now" (path only), "" when none
    working_url_in_chromium: str  # "works", a problem, or "" when the runbook gave none
    diagnosis_seconds: float
    chromium_seconds: float

    @property
    def agrees(self) -> bool:
        return self.runbook_healthy == self.chromium_works and self.working_url_in_chromium in ("", "works")


def _saw(page: PageLoad) -> str:
    problems = page.problems()
    return "works" if not problems else problems[0]


def _path_of(url: str, base: str) -> str:
    """``url`` without the tunnel's base, and with what changes run to run replaced by a name:
    Airflow's random suffix, the Spark application id, the tunnel's local port."""
    url = url.replace(base, "") if url.startswith(base) else url
    url = re.sub(rf"{APP_NAME}-[a-z0-9]{{8}}(?=/|$)", f"{APP_NAME}-<suffix>", url)
    url = re.sub(r"/(local-\d+|app-\d+-\d+|spark-[0-9a-f]{32})/", "/<app-id>/", url)
    return re.sub(r":\d+/", ":<port>/", url)


@pytest.fixture(scope="module")
def matrix_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabManager]:
    require_lab_prerequisites()
    if find_chromium() is None:
        missing("chromium (Debian package chromium; scripts/setup installs it)")
    settings = make_settings(tmp_path_factory.mktemp("matrix-lab"), start=120)
    manager = LabManager(settings, ready_timeout=180, echo=lambda _line: None)
    try:
        yield manager
    finally:
        manager.down()
        assert not lab_processes(settings.root), "processes left after kb lab down"


def _diagnose(tunnel: Tunnel, kubeconfig: str) -> tuple[list[str], bool, str | None, float]:
    started = time.perf_counter()
    reader = KubeReader(api_client_through(kubeconfig, tunnel.address("api")))
    obs = Observations(namespace=NAMESPACE, app_name=APP_NAME, base_url=tunnel.url("ingress"))
    with Prober() as prober:
        findings = collect_and_diagnose(reader, prober, obs)
    result = verdict(obs, findings)
    return [f.id for f in findings], result.healthy, result.working_url, time.perf_counter() - started


def run_matrix(manager: LabManager, configs: list[MatrixConfig]) -> list[Outcome]:
    groups = grouped(configs)
    manager.up(groups[0][0].scenario())  # writes the lab profile the tunnel is opened from
    profile = load_profile(str(manager.settings.root / "profiles" / "lab.yaml"))
    outcomes: list[Outcome] = []
    with Chromium(allowed_hosts=HOSTS) as browser:
        tunnel = Tunnel.from_profile(profile).open()
        try:
            base = tunnel.url("ingress").rstrip("/")
            for spark, group in groups:
                manager.up(spark.scenario())
                original = manager.ui_ingress_annotations().get(REWRITE_TARGET)  # what the operator wrote
                for config in group:
                    if spark.url_format != "none":
                        manager.annotate_ui_ingress(*config.ingress.edit(original))
                    ids, healthy, working, seconds = _diagnose(tunnel, profile.kubeconfig or "")
                    page = browser.load(config.user_url(base))
                    there = browser.load(working) if working else None
                    outcome = Outcome(
                        config=config.name,
                        findings=ids,
                        runbook_healthy=healthy,
                        chromium_works=page.works,
                        chromium_saw=_saw(page),
                        working_url=_path_of(working or "", base),
                        working_url_in_chromium=_saw(there) if there else "",
                        diagnosis_seconds=round(seconds, 3),
                        chromium_seconds=page.seconds,
                    )
                    outcomes.append(outcome)
                    mark = "ok " if outcome.agrees else "BAD"
                    print(f"{mark} {config.name}: {ids} / {outcome.chromium_saw}", flush=True)
        finally:
            tunnel.close()
    return outcomes


def _comparable(rows: list[dict]) -> list[dict]:
    """The outcome without timings (they vary run to run)."""
    return [{k: v for k, v in row.items() if not k.endswith("_seconds")} for row in rows]


@pytest.mark.timeout(1500)  # about 6 min here; 17 lab switches and 41 configurations
def test_runbook_verdict_agrees_with_chromium_on_every_configuration(matrix_lab: LabManager) -> None:
    configs = configurations()
    assert len(configs) >= 40
    started = time.monotonic()
    outcomes = run_matrix(matrix_lab, configs)
    elapsed = time.monotonic() - started
    rows = [asdict(o) for o in outcomes]
    report = "\n".join(
        f"{'ok ' if o.agrees else 'BAD'} runbook={'healthy' if o.runbook_healthy else 'broken '} "
        f"chromium={o.chromium_saw[:60]:<60} {o.config} {o.findings}"
        for o in outcomes
    )
    print(f"\n{len(outcomes)} configurations in {elapsed:.0f}s\n{report}")
    disagreements = [o for o in outcomes if not o.agrees]
    assert not disagreements, f"runbook and Chromium disagree:\n{report}"
    assert any(o.runbook_healthy for o in outcomes) and any(not o.runbook_healthy for o in outcomes)
    document = {"configurations": len(rows), "agreement": f"{len(rows)}/{len(rows)}", "rows": rows}
    if os.environ.get("KB_UPDATE_MATRIX") == "1":
        RESULTS.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return
    committed = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert _comparable(committed["rows"]) == _comparable(rows), (
        "the committed matrix differs from what Chromium saw now; regenerate with "
        "KB_UPDATE_MATRIX=1 .venv/bin/python -m pytest tests/spark_ui/test_browser_matrix.py"
    )
