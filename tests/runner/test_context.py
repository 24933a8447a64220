"""A run record says where it ran: the profile, and the labels of the profile's ``run_context`` file.

The lab's profile points ``run_context`` at ``.lab/run-context.json``, which the lab rewrites with the
scenario on every change; the product reads labels, never the lab's state.
"""

from __future__ import annotations

import json
from pathlib import Path

from platform_kb.paths import ProjectPaths
from platform_kb.runner.execute import run_context

PROFILE = """bastion: {host: 127.0.0.1, port: 2222, host_key_policy: "yes"}
node: {host: 127.0.0.2}
"""


def test_a_profile_with_run_context_adds_its_labels(tmp_path: Path, monkeypatch) -> None:
    lab = tmp_path / "lab"
    (lab / "profiles").mkdir(parents=True)
    (lab / "profiles" / "lab.yaml").write_text(PROFILE + "run_context: ../run-context.json\n")
    (lab / "run-context.json").write_text(json.dumps({"lab_scenario": "proxybase-root", "n": 3, "e": ""}))
    monkeypatch.setenv("KB_LAB_DIR", str(lab))
    assert run_context("lab", ProjectPaths(tmp_path)) == {"profile": "lab", "lab_scenario": "proxybase-root"}


def test_a_missing_or_broken_run_context_file_adds_nothing(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "gone.yaml").write_text(PROFILE + "run_context: nowhere.json\n")
    (tmp_path / "profiles" / "broken.yaml").write_text(PROFILE + "run_context: broken.json\n")
    (tmp_path / "profiles" / "broken.json").write_text("{not json")
    monkeypatch.delenv("KB_LAB_DIR", raising=False)
    assert run_context("gone", ProjectPaths(tmp_path)) == {"profile": "gone"}
    assert run_context("broken", ProjectPaths(tmp_path)) == {"profile": "broken"}


def test_other_profiles_name_only_the_profile(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "homelab.yaml").write_text(PROFILE)
    (tmp_path / "state.json").write_text(json.dumps({"scenario": "healthy"}))  # a lab's state file: not read
    monkeypatch.delenv("KB_LAB_DIR", raising=False)
    assert run_context("homelab", ProjectPaths(tmp_path)) == {"profile": "homelab"}
    assert run_context(None, ProjectPaths(tmp_path)) == {}
