"""No module in src/ grows past 600 lines (issue 16: past that, cut it into model / facts / diagnose / present)."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
LIMIT = 600


def test_no_module_is_longer_than_the_limit() -> None:
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 100
    too_long = {str(p.relative_to(SRC)): n for p in modules if (n := len(p.read_text().splitlines())) > LIMIT}
    assert too_long == {}
