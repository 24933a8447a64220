"""A run record says where it ran: the profile, and for the lab's own profile the lab scenario."""

from __future__ import annotations

import json
from pathlib import Path

from platform_kb.paths import ProjectPaths
from platform_kb.runner.execute import run_context

PROFILE = """bastion: {host: 127.0.0.1, port: 2222, host_key_policy: "yes"}
node: {host: 127.0.0.2}
"""


def test_lab_profile_carries_the_running_scenario(tmp_path: Path, monkeypatch) -> None:
    lab = tmp_path / "lab"
    (lab / "profiles").mkdir(parents=True)
    (lab / "profiles" / "lab.yaml").write_text(PROFILE)
    (lab / "state.json").write_text(json.dumps({"scenario": "proxybase-root"}))
    monkeypatch.setenv("KB_LAB_DIR", str(lab))
    assert run_context("lab", ProjectPaths(tmp_path)) == {"profile": "lab", "lab_scenario": "proxybase-root"}


def test_other_profiles_name_only_the_profile(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "homelab.yaml").write_text(PROFILE)
    (tmp_path / "state.json").write_text(json.dumps({"scenario": "healthy"}))  # not a lab's profile
    monkeypatch.delenv("KB_LAB_DIR", raising=False)
    assert run_context("homelab", ProjectPaths(tmp_path)) == {"profile": "homelab"}
    assert run_context(None, ProjectPaths(tmp_path)) == {}
