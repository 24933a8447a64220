"""Bad input to ``kb run`` / ``kb runs`` is refused before anything starts: exit 2, a message
naming the parameter (and the path), no record, no kernel, no tunnel (issue 14, items 1, 2, 6, 8)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "faults_conftest_run", Path(__file__).with_name("conftest_run.py")
)
h = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(h)

PATHS = str(h.RUNBOOKS / "paths.py")
OK = str(h.RUNBOOKS / "ok.py")


@pytest.fixture
def env(tmp_path: Path):
    yield from h.kb_env(tmp_path)


def refused(env, marker: Path, *args: str) -> str:
    """Run the paths runbook with ``args``; assert exit 2, nothing ran, no record; the message."""
    done = env.run("run", PATHS, "-p", "marker_file", str(marker), *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert not marker.exists()
    assert env.records("paths") == []
    assert "Traceback" not in done.stderr
    assert env.leftovers() == []
    return done.stderr


@pytest.mark.parametrize("name", ["kubeconfig", "identity_file", "known_hosts", "inventory"])
def test_missing_path_parameter(env, tmp_path: Path, name: str) -> None:
    message = refused(env, tmp_path / "m", "-p", name, "/nonexistent/kc")
    assert f"parameter {name!r}" in message and "/nonexistent/kc does not exist" in message


def test_directory_and_unreadable_path(env, tmp_path: Path) -> None:
    assert "is not a file" in refused(env, tmp_path / "m", "-p", "kubeconfig", str(tmp_path))
    locked = tmp_path / "locked"
    locked.write_text("x")
    locked.chmod(0)
    try:
        import os

        if os.access(locked, os.R_OK):
            pytest.skip("running as root: every file is readable")
        assert "is not readable" in refused(env, tmp_path / "m", "-p", "known_hosts", str(locked))
    finally:
        locked.chmod(0o600)


def test_existing_paths_and_remote_path_run(env, tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    kc.write_text("apiVersion: v1\n")
    marker = tmp_path / "m"
    done = env.run(
        "run", PATHS, "-p", "marker_file", str(marker), "-p", "kubeconfig", str(kc),
        "-p", "remote_kubeconfig", "/only/on/the/bastion",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("pasted", ["p@ss/w+rd=xYz123", "/nonexistent/secret"])
def test_file_reference_to_missing_file_never_recorded(env, tmp_path: Path, pasted: str) -> None:
    message = refused(env, tmp_path / "m", "-p", "s3_secret_key_ref", f"file:{pasted}")
    assert "parameter 's3_secret_key_ref'" in message and "readable file" in message
    assert pasted not in message


def test_file_reference_to_unreadable_or_empty_file(env, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert "readable file" in refused(env, tmp_path / "m", "-p", "s3_secret_key_ref", f"file:{folder}")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "Infinity"])
def test_non_finite_numbers(env, tmp_path: Path, value: str) -> None:
    message = refused(env, tmp_path / "m", "-p", "pod_timeout", value)
    assert "pod_timeout" in message and "finite" in message


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_non_finite_timeout(env, tmp_path: Path, value: str) -> None:
    message = refused(env, tmp_path / "m", "--timeout", value)
    assert "--timeout" in message


def test_short_secret_names_the_parameter(env, tmp_path: Path) -> None:
    env.env["KB_SHORT"] = "abc"
    message = refused(env, tmp_path / "m", "-p", "s3_secret_key_ref", "env:KB_SHORT")
    assert "parameter 's3_secret_key_ref'" in message and "shorter than 4" in message
    assert "abc" not in message


def test_records_under_a_file(env, tmp_path: Path) -> None:
    message = refused(env, tmp_path / "m", "--records", "/dev/null/x")
    assert "--records /dev/null/x" in message and "/dev/null is not a directory" in message


@pytest.mark.parametrize("bad", ["/tmp/x/fakeid", "../records", "..", "a/b", ".hidden", "../.."])
def test_runs_publish_and_list_refuse_paths(env, tmp_path: Path, bad: str) -> None:
    before = sorted(p for p in tmp_path.rglob("*"))
    for args in (("runs", "publish", bad, "r1"), ("runs", "list", bad), ("runs", "publish", "ok", bad)):
        done = env.run(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "not a path" in done.stderr, done.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not Path("/tmp/x/fakeid").exists() or bad != "/tmp/x/fakeid"


def test_runs_list_prints_whole_ids_off_terminal(env) -> None:
    long_id = "a-runbook-with-a-rather-long-identifier-that-would-not-fit-in-eighty-columns"
    run_dir = env.project / "runs" / long_id / "20260101T000000Z"
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text('{"status": "passed", "started": "2026-01-01T00:00:00Z"}')
    env.env.pop("COLUMNS")
    done = env.run("runs", "list")
    assert done.returncode == 0
    assert long_id in done.stdout and "20260101T000000Z" in done.stdout, done.stdout
