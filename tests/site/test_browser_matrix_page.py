"""The runbook page shows its Chromium matrix (runbooks/<id>.browser-matrix.json) as the test left it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from platform_kb.site.runbooks import read_runbook_info, render_runbook_page

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_matrix_is_on_the_spark_ui_page() -> None:
    data = json.loads(
        (ROOT / "runbooks" / "spark-ui-ingress.browser-matrix.json").read_text(encoding="utf-8")
    )
    assert len(data["rows"]) >= 40
    assert all(r["runbook_healthy"] == r["chromium_works"] for r in data["rows"])
    page = render_runbook_page(read_runbook_info(ROOT / "runbooks" / "spark-ui-ingress.py"))
    n = len(data["rows"])
    assert f"**{n}/{n} 일치**" in page
    for row in data["rows"]:
        assert row["config"] in page


def test_a_disagreement_is_shown_not_hidden(tmp_path: Path) -> None:
    runbook = tmp_path / "runbooks" / "spark-ui-ingress.py"
    runbook.parent.mkdir()
    shutil.copy(ROOT / "runbooks" / "spark-ui-ingress.py", runbook)
    rows = [
        {
            "config": "a",
            "findings": [],
            "runbook_healthy": True,
            "chromium_works": True,
            "chromium_saw": "works",
        },
        {
            "config": "b",
            "findings": [],
            "runbook_healthy": True,
            "chromium_works": False,
            "chromium_saw": "x",
        },
    ]
    runbook.with_name("spark-ui-ingress.browser-matrix.json").write_text(json.dumps({"rows": rows}))
    page = render_runbook_page(read_runbook_info(runbook))
    assert "**1/2 일치**" in page


def test_no_matrix_file_no_section(tmp_path: Path) -> None:
    runbook = tmp_path / "runbooks" / "bastion-tunnel.py"
    runbook.parent.mkdir()
    shutil.copy(ROOT / "runbooks" / "bastion-tunnel.py", runbook)
    assert "Chromium 매트릭스" not in render_runbook_page(read_runbook_info(runbook))
