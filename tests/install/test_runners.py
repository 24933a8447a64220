"""Runners execute the same command lines: locally (subprocess) and on the bastion (real OpenSSH sshd)."""

from __future__ import annotations

import getpass
import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from platform_kb.install import airflow, runners
from platform_kb.install import commands as c
from platform_kb.profiles import BastionSpec
from platform_kb_lab.sshd import Sshd, generate_key

# A stand-in `helm`/`kubectl`: appends its argv, its working directory's files and stdin to a log.
FAKE_TOOL = """#!/bin/sh
log="{log}"
printf '%s\\n' "$(basename "$0") $*" >> "$log"
if [ -f airflow-values.yaml ]; then printf 'values:%s\\n' "$(head -n1 airflow-values.yaml)" >> "$log"; fi
if [ "$1" = "apply" ]; then printf 'stdin:%s\\n' "$(cat | tr '\\n' ' ')" >> "$log"; fi
if [ "$1" = "fail" ]; then echo "boom: $2" >&2; exit 3; fi
echo ok
"""


def fake_tools(bin_dir: Path, log: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in ("helm", "kubectl"):
        path = bin_dir / tool
        path.write_text(FAKE_TOOL.format(log=log))
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_local_runner_stages_files_and_feeds_stdin(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    fake_tools(tmp_path / "bin", log)
    kubeconfig = tmp_path / "kubeconfig"
    runner = runners.LocalRunner(
        tmp_path / "work", kubeconfig, env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}
    )
    assert runner.has_tool("helm") and not runner.has_tool("definitely-not-a-tool")
    up = c.HelmUpgradeInstall(
        "airflow", airflow.chart.CHART, "airflow", "airflow-values.yaml", "executor: KubernetesExecutor\n"
    )
    assert runner.run(up).stdout == "ok\n"
    runner.run(c.KubectlApply({"kind": "Namespace", "metadata": {"name": "airflow"}}))
    lines = log.read_text().splitlines()
    assert lines[0] == ("helm upgrade --install airflow apache-airflow/airflow --version 1.18.0 --namespace airflow "
                        "--create-namespace -f airflow-values.yaml")  # fmt: skip
    assert lines[1] == "values:executor: KubernetesExecutor"
    assert lines[2] == "kubectl apply -f -"
    assert lines[4].startswith("stdin:kind: Namespace metadata:")
    assert oct((tmp_path / "work" / "airflow-values.yaml").stat().st_mode & 0o777) == "0o600"
    failed = runner.run(c.Shell(("helm", "fail", "x")), check=False)
    assert failed.rc == 3 and failed.stderr == "boom: x\n"
    with pytest.raises(runners.CommandFailed, match="`helm fail x` failed with exit code 3:\nboom: x"):
        runner.run(c.Shell(("helm", "fail", "x")))
    missing = runners.LocalRunner(tmp_path / "w2", env={"PATH": str(tmp_path / "empty")}).run(
        c.HelmRepoList(), check=False
    )
    assert missing.rc == 127


def test_tunnel_kubeconfig_points_at_the_tunnel(tmp_path: Path) -> None:
    source = tmp_path / "config"
    source.write_text(yaml.safe_dump({
        "apiVersion": "v1", "current-context": "home",
        "clusters": [{"name": "home", "cluster": {"server": "https://k8s-node.internal:6443", "certificate-authority-data": "Q0E="}}],
        "contexts": [{"name": "home", "context": {"cluster": "home", "user": "admin"}}],
        "users": [{"name": "admin", "user": {"token": "abc"}}],
    }))  # fmt: skip
    out = runners.write_tunnel_kubeconfig(source, "https://127.0.0.1:40123", tmp_path / "out" / "kubeconfig")
    data = yaml.safe_load(out.read_text())
    cluster = data["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:40123"
    assert cluster["tls-server-name"] == "k8s-node.internal"  # the certificate still verifies
    assert cluster["certificate-authority-data"] == "Q0E=" and data["users"] == [
        {"name": "admin", "user": {"token": "abc"}}
    ]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    lab = tmp_path / "lab"
    lab.write_text(yaml.safe_dump({
        "current-context": "lab", "clusters": [{"name": "lab", "cluster": {"server": "http://127.0.0.2:6443"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab"}}],
    }))  # fmt: skip
    cluster = yaml.safe_load(
        runners.write_tunnel_kubeconfig(lab, "http://127.0.0.1:5555", tmp_path / "k2").read_text()
    )
    assert cluster["clusters"][0]["cluster"] == {"server": "http://127.0.0.1:5555"}


@pytest.fixture(scope="module")
def bastion(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("bastion")
    key = generate_key(base / "client_key")
    with Sshd(base / "sshd", client_keys=[key]) as sshd:
        known = base / "known_hosts"
        known.write_text(sshd.known_hosts_line() + "\n")
        yield sshd, key, known, base


def test_bastion_runner_runs_the_same_lines_over_ssh(bastion, tmp_path: Path) -> None:
    sshd, key, known, _base = bastion
    log = tmp_path / "remote-calls.log"
    fake_tools(tmp_path / "bin", log)
    spec = BastionSpec(
        host="127.0.0.1",
        port=sshd.port,
        user=getpass.getuser(),
        identity_file=str(key),
        known_hosts=str(known),
    )
    remote_dir = str(tmp_path / "remote-work")
    runner = runners.BastionRunner(spec, remote_dir=remote_dir,
                                   remote_env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "KUBECONFIG": "/etc/k"})  # fmt: skip
    try:
        assert runner.has_tool("helm") and not runner.has_tool("definitely-not-a-tool")
        up = c.HelmUpgradeInstall(
            "airflow", airflow.chart.CHART, "airflow", "airflow-values.yaml", "executor: KubernetesExecutor\n"
        )
        runner.run(up)
        runner.run(c.KubectlApply({"kind": "Namespace", "metadata": {"name": "airflow"}}))
        result = runner.run(c.Shell(("helm", "fail", "y")), check=False)
        assert (result.rc, result.stderr) == (3, "boom: y\n")
        env_seen = runner.run(c.Shell(("sh", "-c", "echo $KUBECONFIG"))).stdout
    finally:
        runner.close()
    lines = log.read_text().splitlines()
    assert lines[:3] == [
        "helm upgrade --install airflow apache-airflow/airflow --version 1.18.0 --namespace airflow "
        "--create-namespace -f airflow-values.yaml",
        "values:executor: KubernetesExecutor",
        "kubectl apply -f -",
    ]
    assert lines[4].startswith("stdin:kind: Namespace")
    assert env_seen == "/etc/k\n"
    staged = Path(remote_dir) / "airflow-values.yaml"
    assert (
        staged.read_text() == "executor: KubernetesExecutor\n"
        and oct(staged.stat().st_mode & 0o777) == "0o600"
    )
    assert runner.script(up).endswith(
        "env KUBECONFIG=/etc/k PATH=" + f"{tmp_path / 'bin'}:/usr/bin:/bin helm upgrade --install airflow "
        "apache-airflow/airflow --version 1.18.0 --namespace airflow --create-namespace -f airflow-values.yaml"
    )


def test_bastion_runner_refuses_an_unknown_or_changed_host_key(bastion, tmp_path: Path) -> None:
    from platform_kb.tunnel import HostKeyError

    sshd, key, _known, base = bastion
    empty = tmp_path / "known_hosts_empty"
    empty.write_text("")
    spec = BastionSpec(
        host="127.0.0.1",
        port=sshd.port,
        user=getpass.getuser(),
        identity_file=str(key),
        known_hosts=str(empty),
    )
    with pytest.raises(HostKeyError):
        runners.BastionRunner(spec).run(c.Shell(("true",)))
    other = generate_key(tmp_path / "other_host_key")
    wrong = tmp_path / "known_hosts_wrong"
    kind, blob = Path(str(other) + ".pub").read_text().split()[:2]
    wrong.write_text(f"[127.0.0.1]:{sshd.port} {kind} {blob}\n")
    spec = BastionSpec(
        host="127.0.0.1",
        port=sshd.port,
        user=getpass.getuser(),
        identity_file=str(key),
        known_hosts=str(wrong),
    )
    with pytest.raises(HostKeyError):
        runners.BastionRunner(spec).run(c.Shell(("true",)))


def test_recording_runner_records_and_answers() -> None:
    answers = {"helm repo list -o json": runners.Result(0, json.dumps([{"name": "a", "url": "u"}]))}
    runner = runners.RecordingRunner(responder=lambda cmd: answers.get(cmd.line()), tools=("kubectl",))
    assert runner.run(c.HelmRepoList()).stdout.startswith("[")
    runner.run(c.HelmRepoAdd("b", "https://b"))
    assert runner.lines() == ["helm repo list -o json", "helm repo add b https://b --force-update"]
    assert runner.lines(mutating_only=True) == ["helm repo add b https://b --force-update"]
    assert not runner.has_tool("helm")
    with pytest.raises(runners.MissingPrerequisite, match="helm not found on the recording runner"):
        runners.require_tools(runner, ("helm", "kubectl"))
    assert os.environ.get("KUBECONFIG") != "/etc/k"
