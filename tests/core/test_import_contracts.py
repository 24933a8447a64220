"""The layer contracts in pyproject.toml would catch a break: a copy of src/ with one bad import fails.

That they hold on the checkout is shown by ``scripts/test`` itself, which runs ``lint-imports`` first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_product_importing_the_lab_breaks_a_contract(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(root / "src" / "platform_kb" / "kube.py", "import platform_kb_lab.config  # noqa")
    result = _lint(root)
    assert result.returncode == 1
    assert "platform_kb.kube -> platform_kb_lab.config" in result.stdout


def test_a_core_module_importing_the_cli_breaks_the_layers(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(root / "src" / "platform_kb" / "profiles.py", "import platform_kb.cli  # noqa")
    result = _lint(root)
    assert result.returncode == 1
    assert "platform_kb.profiles is not allowed to import platform_kb.cli" in result.stdout
