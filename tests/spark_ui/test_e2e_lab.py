"""End to end (issue 6 item 7): `kb run spark-ui-ingress --profile lab -p app_name long-test` per lab scenario.

One lab for the whole module (its own directory, a free node address in 127.0.5.0/24 — as
``tests/lab/conftest.py`` ``pick_node`` — and a free local ingress port, so it never meets another lab), switched from scenario to scenario with `kb lab up --scenario X`, stopped with
`kb lab down` at the end. The profile is passed as a path because the lab lives outside `.lab/`.

Why each scenario yields exactly these findings (all checked against the live lab's HTTP answers):

- healthy: path-style urlFormat, proxyBase = Ingress prefix, rewrite-target present, driver running:
  the prefix answers 302 inside the prefix, the jobs page and its 14 CSS/JS answer 200 — nothing.
- suffix-mismatch: only `long-test-xxxxxxxx` exists; the URL built from `long-test` answers 404 —
  app-name-suffix (the suffixed app itself is healthy, so nothing else). With `-p url` naming the
  unsuffixed path, that URL misses the Ingress rule too — plus ingress-path-mismatch.
- proxybase-root: urlFormat "/": the driver's proxyBase is "/", `GET /` answers `Location: //jobs/`
  and every CSS/JS is `//static/...` (host "static") — proxybase-root and static-assets-broken.
- driver-finished: the app is COMPLETED, the Service has no ready endpoint, nginx answers 503; the
  History Server lists the app — no-ready-endpoints only (the live UI cannot be probed further).
- missing-rewrite: the prefix reaches Spark unchanged and every page redirects to itself — missing-
  rewrite; the jobs page never loads, so nothing can be said about CSS/JS, and proxyBase matches.
- proxybase-mismatch: proxyBase `/long-test` ≠ prefix `/spark-ui/spark/long-test`: the redirect and
  all CSS/JS leave the Ingress (404) — proxybase-mismatch and static-assets-broken.
- handset-proxybase (when the lab has it): urlFormat with a path, proxyBase=/ in the DAG's sparkConf —
  proxybase-root (fixed in the sparkConf) and static-assets-broken.
- literal-fix (when the lab has it): rewrite-target `/` + x-forwarded-prefix — every path loops —
  rewrite-to-single-target and x-forwarded-prefix-ignored (a warning: the UI does not work).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_kb.processes import free_port, port_bindable
from platform_kb_lab.config import LabSettings
from platform_kb_lab.scenarios import SCENARIOS as LAB_SCENARIOS

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
KB = (
    [sys.executable, "-m", "platform_kb.cli"]
    if not (ROOT / ".venv/bin/kb").exists()
    else [str(ROOT / ".venv/bin/kb")]
)
NODE_PORTS = tuple(LabSettings(root=Path(".")).node_ports().values())


def pick_node(start: int = 160) -> str:
    """A node address in 127.0.5.0/24 whose node ports and driver UI ports 4040-4042 are free."""
    for last in range(start, 250):
        node = f"127.0.5.{last}"
        if all(port_bindable(node, p) for p in (*NODE_PORTS, 4040, 4041, 4042)):
            return node
    raise RuntimeError("no free node address in 127.0.5.0/24")


# scenario -> (finding ids in summary.json, exit status of `kb run`)
EXPECTED: dict[str, tuple[list[str], int]] = {
    "healthy": ([], 0),
    "suffix-mismatch": (["app-name-suffix"], 1),
    "proxybase-root": (["proxybase-root", "static-assets-broken"], 1),
    "driver-finished": (["no-ready-endpoints"], 1),
    "missing-rewrite": (["missing-rewrite"], 1),
    "proxybase-mismatch": (["proxybase-mismatch", "static-assets-broken"], 1),
    "handset-proxybase": (["proxybase-root", "static-assets-broken"], 1),
    "literal-fix": (["rewrite-to-single-target", "x-forwarded-prefix-ignored"], 1),
}
IN_LAB = [name for name in EXPECTED if name in LAB_SCENARIOS]  # the last two come with `kb lab` issue 13


@dataclass
class Lab:
    env: dict[str, str]
    root: Path
    records: Path
    local_port: int

    @property
    def profile(self) -> Path:
        return self.root / "profiles" / "lab.yaml"

    def kb(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*KB, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def up(self, scenario: str) -> None:
        result = self.kb("lab", "up", "--scenario", scenario)
        assert result.returncode == 0, f"kb lab up --scenario {scenario}:\n{result.stdout}\n{result.stderr}"

    def run(self, *params: str) -> tuple[subprocess.CompletedProcess[str], dict]:
        before = set(self.records.glob("spark-ui-ingress/2*"))
        result = self.kb(
            "run", "spark-ui-ingress", "--profile", str(self.profile), "-p", "app_name", "long-test",
            *params, "--records", str(self.records),
        )  # fmt: skip
        new = sorted(set(self.records.glob("spark-ui-ingress/2*")) - before)
        assert new, f"no record written:\n{result.stdout}\n{result.stderr}"
        summary = json.loads((new[-1] / "summary.json").read_text(encoding="utf-8"))
        return result, summary


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("spark-ui-lab")
    port = free_port()
    env = {
        **os.environ,
        "KB_LAB_DIR": str(root / "lab"),
        "KB_LAB_NODE": pick_node(),
        "KB_LAB_LOCAL_INGRESS": f"127.0.0.1:{port}",
        "NO_MKDOCS_2_WARNING": "1",
    }
    lab = Lab(env=env, root=root / "lab", records=root / "runs", local_port=port)
    try:
        yield lab
    finally:
        down = lab.kb("lab", "down", timeout=120)
        assert down.returncode == 0, f"kb lab down:\n{down.stdout}\n{down.stderr}"


def _check(summary: dict, result: subprocess.CompletedProcess[str], ids: list[str], code: int) -> None:
    found = [f["id"] for f in summary["findings"]]
    context = f"\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-2000:]}"
    assert found == ids, context
    assert result.returncode == code, context
    assert summary["status"] == ("passed" if code == 0 else "failed"), context
    for f in summary["findings"]:
        assert f["evidence"] and f["fix"] and f["detail"], f
    # every step before the diagnosis ran without an error of its own
    assert all(s["status"] in ("passed", "skipped") for s in summary["steps"] if s["name"] != "진단"), (
        summary["steps"]
    )


@pytest.mark.parametrize("scenario", IN_LAB)
def test_scenario(lab: Lab, scenario: str) -> None:
    ids, code = EXPECTED[scenario]
    lab.up(scenario)
    result, summary = lab.run()
    _check(summary, result, ids, code)
    SCENARIO_EVIDENCE[scenario](lab, result, summary)


def _fixes(summary: dict) -> str:
    return " ".join(f["fix"] for f in summary["findings"])


def _base(lab: Lab) -> str:
    return f"http://127.0.0.1:{lab.local_port}"


def _healthy(lab: Lab, result, summary: dict) -> None:
    shown = result.stdout + _notebook_text(lab)
    assert f"지금 동작하는 주소:** {_base(lab)}/spark-ui/spark/long-test/" in shown


def _suffix_mismatch(lab: Lab, result, summary: dict) -> None:
    assert "random_name_suffix=False" in _fixes(summary)
    assert f"{_base(lab)}/spark-ui/spark/long-test-" in _fixes(summary)
    # the address a user builds from the DAG name does not match the suffixed Ingress either
    result, summary = lab.run("-p", "url", f"{_base(lab)}/spark-ui/spark/long-test/")
    _check(summary, result, ["app-name-suffix", "ingress-path-mismatch"], 1)


def _proxybase_root(lab: Lab, result, summary: dict) -> None:
    assert summary["findings"][0]["evidence"]["GET /"] == "HTTP/1.1 302 Found; Location: //jobs/"


def _handset_proxybase(lab: Lab, result, summary: dict) -> None:
    root = summary["findings"][0]
    assert [r["kind"] for r in root["remedies"]] == ["spark-conf"] and "urlFormat" not in root["fix"]


def _literal_fix(lab: Lab, result, summary: dict) -> None:
    assert "정상입니다" not in result.stdout + _notebook_text(lab)


def _driver_finished(lab: Lab, result, summary: dict) -> None:
    assert f"{_base(lab)}/spark-history/history/" in _fixes(summary)


def _ids_and_exit_code_only(lab: Lab, result, summary: dict) -> None:
    """The finding ids and the exit code (checked above) are this scenario's whole evidence."""


# What each scenario shows beyond its finding ids and exit code (every scenario in IN_LAB has an entry).
SCENARIO_EVIDENCE = {
    "healthy": _healthy,
    "suffix-mismatch": _suffix_mismatch,
    "proxybase-root": _proxybase_root,
    "handset-proxybase": _handset_proxybase,
    "literal-fix": _literal_fix,
    "driver-finished": _driver_finished,
    "missing-rewrite": _ids_and_exit_code_only,
    "proxybase-mismatch": _ids_and_exit_code_only,
}


def test_every_expected_scenario_names_its_evidence() -> None:
    assert set(SCENARIO_EVIDENCE) == set(EXPECTED)


def _notebook_text(lab: Lab) -> str:
    """Every text output of the newest record's executed notebook."""
    latest = sorted(lab.records.glob("spark-ui-ingress/2*"))[-1]
    nb = json.loads((latest / "output.ipynb").read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for text in (data.get("text/markdown"), data.get("text/plain"), out.get("text")):
                if text:
                    texts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(texts)


# diagnose → `kb lab apply-fix <record>` → healthy (issue 13 item 4): the DAG's sparkConf (resubmit),
# the Ingress hand edit (patched in place), the operator's Helm values (lab "helm upgrade" + resubmit)
FIXABLE = [s for s in ("handset-proxybase", "literal-fix", "proxybase-root") if s in LAB_SCENARIOS]


@pytest.mark.parametrize("scenario", FIXABLE)
def test_apply_fix_makes_the_next_run_healthy(lab: Lab, scenario: str) -> None:
    lab.up(scenario)
    result, summary = lab.run()
    assert result.returncode == 1, result.stdout[-2000:]
    record = sorted(lab.records.glob("spark-ui-ingress/2*"))[-1]
    kinds = {r["kind"] for f in summary["findings"] for r in f.get("remedies", [])}
    fix = lab.kb("lab", "apply-fix", str(record), timeout=420)
    assert fix.returncode == 0, f"kb lab apply-fix:\n{fix.stdout}\n{fix.stderr}"
    assert "converged" in fix.stdout
    after, fixed = lab.run()
    context = f"remedies {sorted(kinds)}\n{fix.stdout}\n{after.stdout[-3000:]}\n{after.stderr[-2000:]}"
    assert after.returncode == 0, context
    assert fixed["status"] == "passed", context
    assert not [f for f in fixed["findings"] if f["severity"] == "error"], context
    assert fixed["context"]["lab_scenario"] == f"{scenario}+apply-fix"
    assert "정상입니다" in after.stdout + _notebook_text(lab), context
