"""The vendored front-end files are checked against their pinned sha256 before the site uses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_kb.errors import MissingPrerequisite
from platform_kb.site.vendor import MERMAID, copy_into, vendor_dir, vendored_copy


def test_a_missing_copy_names_scripts_setup(tmp_path: Path) -> None:
    with pytest.raises(MissingPrerequisite, match="scripts/setup"):
        vendored_copy(MERMAID, prefix=tmp_path)


def test_an_altered_copy_is_refused(tmp_path: Path) -> None:
    path = vendor_dir(tmp_path) / f"mermaid-{MERMAID.version}-mermaid.min.js"
    path.parent.mkdir(parents=True)
    path.write_text("window.mermaid = {}")
    with pytest.raises(MissingPrerequisite, match="sha256"):
        copy_into(tmp_path / "docs", prefix=tmp_path)
    assert not (tmp_path / "docs" / MERMAID.site_path).exists()


def test_the_installed_copy_is_copied_once(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    assert copy_into(docs) == [docs / MERMAID.site_path]
    assert copy_into(docs) == []
