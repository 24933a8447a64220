"""`kb doctor`: missing tools, malformed profiles, a real bastion's reachability and host key."""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from platform_kb.doctor import run_doctor
from platform_kb.doctor.machine import TOOLS, check_kubeconfig, check_tool, parse_java_major
from platform_kb.doctor.model import MachineEnv
from platform_kb.doctor.report import render
from platform_kb.paths import ProjectPaths
from platform_kb.processes import free_port
from platform_kb.profiles import load_profile
from platform_kb.results import ERROR, OK, SKIP, WARNING
from platform_kb_lab.sshd import Sshd, generate_key


def fingerprint(pub: Path) -> str:
    """What `ssh-keygen -lf` prints as the SHA256 fingerprint."""
    return subprocess.run(
        ["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True, check=True
    ).stdout.split()[1]


def checks_of(stdout: str) -> dict[str, dict]:
    """The ``--json`` report's checks by id."""
    return {c["id"]: c for c in json.loads(stdout)["checks"]}


def toolbox(tmp_path: Path, tools: list[str]) -> Path:
    """A bin folder holding only ``tools`` (symlinks to the real ones): a PATH without the others."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in tools:
        for where in ("/usr/bin", "/usr/sbin", "/bin"):
            if Path(where, name).exists():
                (folder / name).symlink_to(Path(where, name))
                break
    return folder


def write_profile(path: Path, bastion: dict, **extra: object) -> Path:
    path.write_text(yaml.safe_dump({"bastion": bastion, "node": {"host": "127.0.0.2"}, **extra}))
    return path


@pytest.fixture()
def good_profile(tmp_path: Path, bastion: Sshd, client_key: Path) -> Path:
    known = tmp_path / "known_hosts"
    known.write_text(bastion.known_hosts_line() + "\n")
    spec = {
        "host": "127.0.0.1",
        "port": bastion.port,
        "identity_file": str(client_key),
        "known_hosts": str(known),
    }
    return write_profile(tmp_path / "bastion.yaml", spec)


# --- the machine ---------------------------------------------------------------------------------


def test_missing_ssh_is_reported_with_exit_1(kb: Callable[..., Any], tmp_path: Path) -> None:
    path = toolbox(
        tmp_path, ["java", "ssh-keygen", "sshd", "nginx", "prometheus", "prometheus-node-exporter"]
    )
    result = kb("doctor", "--json", env={"PATH": str(path), "KB_DOCTOR_TOOL_DIRS": ""})
    assert result.returncode == 1, result.stderr
    checks = checks_of(result.stdout)
    assert checks["tool-ssh"]["status"] == ERROR
    assert "openssh-client" in checks["tool-ssh"]["fix"]
    assert checks["tool-sshd"]["status"] == OK and checks["tool-nginx"]["status"] == OK


def test_missing_ssh_table_says_how_to_fix(kb: Callable[..., Any], tmp_path: Path) -> None:
    path = toolbox(
        tmp_path, ["java", "ssh-keygen", "sshd", "nginx", "prometheus", "prometheus-node-exporter"]
    )
    result = kb("doctor", env={"PATH": str(path), "KB_DOCTOR_TOOL_DIRS": ""})
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "apt-get install openssh-client" in result.stdout
    assert "1 required check(s) failed: ssh" in result.stdout


def test_daemons_are_found_in_sbin_outside_path(tmp_path: Path) -> None:
    """sshd and nginx live in /usr/sbin, which a normal user's PATH lacks; the extra folders find them."""
    bare = toolbox(tmp_path, [])
    env = MachineEnv(path=str(bare), tool_dirs=("/usr/sbin",), python_version=(3, 11, 0))
    assert env.find_tool("sshd") == "/usr/sbin/sshd"
    env = MachineEnv(path=str(bare), tool_dirs=(), python_version=(3, 11, 0))
    sshd = next(t for t in TOOLS if t.name == "sshd")
    assert check_tool(sshd, env).status == ERROR
    assert check_tool(sshd, MachineEnv(path=str(bare), tool_dirs=(), lab=False)).status == WARNING


def test_no_lab_makes_lab_tools_optional(tmp_path: Path) -> None:
    env = MachineEnv(
        path=str(toolbox(tmp_path, ["ssh", "ssh-keygen"])),
        tool_dirs=(),
        home=tmp_path,
        python_version=(3, 11, 4),
        module_available=lambda name: False,
        lab=False,
    )
    report = run_doctor(None, env, ProjectPaths(tmp_path))
    statuses = {c.id: c.status for c in report.checks}
    assert statuses["tool-java"] == WARNING and statuses["pyspark"] == WARNING
    assert statuses["tool-nginx"] == WARNING
    assert report.exit_code == 0
    report = run_doctor(None, MachineEnv(**{**env.__dict__, "lab": True}), ProjectPaths(tmp_path))
    assert report.exit_code == 1
    assert {c.id for c in report.failed} == {
        "tool-java",
        "tool-sshd",
        "tool-nginx",
        "tool-prometheus",
        "tool-prometheus-node-exporter",
        "pyspark",
    }


def test_table_marks_optional_checks(tmp_path: Path) -> None:
    """With --no-lab a lab tool that is there reads `ok (optional)`, one that is not `warn (optional)`;
    a required failure reads FAIL, a skip just `skip`."""
    env = MachineEnv(
        path=str(toolbox(tmp_path, ["ssh", "java"])),
        tool_dirs=(),
        home=tmp_path,
        python_version=(3, 11, 4),
        module_available=lambda name: False,
        lab=False,
    )
    report = run_doctor(None, env, ProjectPaths(tmp_path))
    console = Console(file=io.StringIO(), width=250, record=True, highlight=False)
    render(report, console)
    text = console.export_text()
    cells = [line.split("│") for line in text.splitlines() if line.startswith("│")]
    status = {cell[1].strip(): cell[2].strip() for cell in cells if cell[1].strip()}
    assert status["java"] == "ok (optional)" and status["pyspark"] == "warn (optional)"
    assert status["ssh"] == "ok" and status["ssh-keygen"] == "FAIL" and status["profile"] == "skip"
    assert "1 required check(s) failed: ssh-keygen" in text


def test_old_python_fails(tmp_path: Path) -> None:
    env = MachineEnv(
        path=str(toolbox(tmp_path, ["ssh", "ssh-keygen"])),
        tool_dirs=(),
        home=tmp_path,
        python_version=(3, 9, 2),
        lab=False,
    )
    report = run_doctor(None, env, ProjectPaths(tmp_path))
    assert [c.id for c in report.failed] == ["python"]


def test_java_version_parsing() -> None:
    assert parse_java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert parse_java_major('openjdk version "21" 2023-09-19') == 21
    assert parse_java_major('java version "1.8.0_392"') == 8
    assert parse_java_major("bash: java: command not found") is None


# --- kubeconfig ----------------------------------------------------------------------------------


def kubeconfig(path: Path, current: str | None = "lab", context_cluster: str = "lab") -> Path:
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "lab", "cluster": {"server": "http://127.0.0.2:6443"}}],
        "contexts": [{"name": "lab", "context": {"cluster": context_cluster, "user": "lab"}}],
        "users": [{"name": "lab", "user": {}}],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data))
    return path


def test_kubeconfig_optional_without_profile(tmp_path: Path) -> None:
    env = MachineEnv(path="", home=tmp_path)
    assert check_kubeconfig(env, None).status == SKIP
    (tmp_path / ".kube").mkdir()
    kubeconfig(tmp_path / ".kube" / "config")
    check = check_kubeconfig(env, None)
    assert check.status == OK and "context lab -> cluster lab (http://127.0.0.2:6443)" in check.detail
    kubeconfig(tmp_path / ".kube" / "config", current="gone")
    assert check_kubeconfig(env, None).status == WARNING


def test_kubeconfig_env_is_used(tmp_path: Path) -> None:
    cfg = kubeconfig(tmp_path / "cfg", context_cluster="missing")
    check = check_kubeconfig(MachineEnv(path="", home=tmp_path, kubeconfig_env=str(cfg)), None)
    assert check.status == WARNING and "cluster 'missing'" in check.detail


def test_kubeconfig_named_by_profile_is_required(tmp_path: Path, good_profile: Path) -> None:
    data = yaml.safe_load(good_profile.read_text())
    write_profile(good_profile, data["bastion"], kubeconfig="missing-kubeconfig")
    profile = load_profile(str(good_profile))
    check = check_kubeconfig(MachineEnv(path="", home=tmp_path), profile)
    assert check.status == ERROR and "missing-kubeconfig" in check.detail
    kubeconfig(tmp_path / "missing-kubeconfig", current=None)
    assert check_kubeconfig(MachineEnv(path="", home=tmp_path), profile).status == ERROR
    kubeconfig(tmp_path / "missing-kubeconfig")
    assert check_kubeconfig(MachineEnv(path="", home=tmp_path), profile).status == OK


# --- the profile ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "bastion: {host: b, port: not-a-port}\nnode: {host: n}\n",
        "bastion: {host: b}\nnode: {host: n}\nsurprise: 1\n",
        "bastion: [unclosed\n",
        "node: {host: n}\n",
    ],
)
def test_malformed_profile_exits_2(kb: Callable[..., Any], tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = kb("doctor", "--no-lab", "--profile", str(bad))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("kb: error: ")
    assert "profile" in result.stdout and "FAIL" in result.stdout


def test_unknown_profile_name_exits_2(kb: Callable[..., Any], tmp_path: Path) -> None:
    result = kb("doctor", "--profile", "no-such-profile", env={"KB_ROOT": str(tmp_path)})
    assert result.returncode == 2
    assert "no-such-profile" in result.stderr


# --- a real bastion ------------------------------------------------------------------------------


def test_real_sshd_passes_reachability_and_host_key(
    kb: Callable[..., Any], good_profile: Path, bastion: Sshd
) -> None:
    result = kb("doctor", "--no-lab", "--json", "--profile", str(good_profile))
    checks = checks_of(result.stdout)
    assert checks["profile"]["status"] == OK
    assert checks["identity-file"]["status"] == OK
    assert checks["bastion-reachable"]["status"] == OK
    assert checks["bastion-host-key"]["status"] == OK
    assert fingerprint(Path(str(bastion.host_key) + ".pub")) in checks["bastion-host-key"]["detail"]
    assert result.returncode == 0, result.stdout


def test_wrong_known_hosts_fails_naming_fingerprint(
    kb: Callable[..., Any], tmp_path: Path, good_profile: Path, bastion: Sshd
) -> None:
    impostor = generate_key(tmp_path / "impostor")
    name = f"[127.0.0.1]:{bastion.port}"
    (tmp_path / "known_hosts").write_text(
        f"{name} {' '.join(Path(str(impostor) + '.pub').read_text().split()[:2])}\n"
    )
    result = kb("doctor", "--no-lab", "--profile", str(good_profile))
    assert result.returncode == 1
    text = " ".join(result.stdout.split())  # the table may wrap long cells
    offered = fingerprint(Path(str(bastion.host_key) + ".pub"))
    assert "HOST KEY MISMATCH" in text and name in text
    assert offered in text.replace(" ", "") and fingerprint(Path(str(impostor) + ".pub")) in text.replace(
        " ", ""
    )


def test_unknown_host_key_fails_unless_accept_new(
    kb: Callable[..., Any], tmp_path: Path, good_profile: Path, bastion: Sshd
) -> None:
    (tmp_path / "known_hosts").write_text("")
    result = kb("doctor", "--no-lab", "--json", "--profile", str(good_profile))
    check = checks_of(result.stdout)["bastion-host-key"]
    assert result.returncode == 1
    assert check["status"] == ERROR and "UNKNOWN HOST KEY" in check["detail"]
    assert fingerprint(Path(str(bastion.host_key) + ".pub")) in check["detail"]
    assert "ssh-keyscan" in check["fix"]
    data = yaml.safe_load(good_profile.read_text())
    write_profile(good_profile, {**data["bastion"], "host_key_policy": "accept-new"})
    result = kb("doctor", "--no-lab", "--json", "--profile", str(good_profile))
    assert checks_of(result.stdout)["bastion-host-key"]["status"] == WARNING
    assert result.returncode == 0


def test_hashed_known_hosts_entry_matches(
    kb: Callable[..., Any], tmp_path: Path, good_profile: Path, bastion: Sshd
) -> None:
    known = tmp_path / "known_hosts"
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], capture_output=True, check=True)
    assert "|1|" in known.read_text()
    result = kb("doctor", "--no-lab", "--json", "--profile", str(good_profile))
    assert checks_of(result.stdout)["bastion-host-key"]["status"] == OK, result.stdout


def test_ssh_config_alias_is_resolved(
    kb: Callable[..., Any], tmp_path: Path, bastion: Sshd, client_key: Path
) -> None:
    """A profile naming a ~/.ssh/config Host alias: OpenSSH's own resolution (ssh -G) gives host and port."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host kb-bastion\n  HostName 127.0.0.1\n  Port {bastion.port}\n  IdentityFile {client_key}\n"
    )
    (home / ".ssh" / "known_hosts").write_text(bastion.known_hosts_line() + "\n")
    profile = write_profile(
        tmp_path / "alias.yaml", {"host": "kb-bastion", "known_hosts": str(home / ".ssh" / "known_hosts")}
    )
    result = kb("doctor", "--no-lab", "--json", "--profile", str(profile), env={"HOME": str(home)})
    checks = checks_of(result.stdout)
    assert checks["bastion-reachable"]["status"] == OK, checks
    assert checks["bastion-host-key"]["status"] == OK
    assert f"127.0.0.1:{bastion.port}" in checks["bastion-reachable"]["detail"]


def test_unreachable_bastion_fails_within_timeout(kb: Callable[..., Any], tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "down.yaml", {"host": "127.0.0.1", "port": free_port()})
    started = time.monotonic()
    result = kb("doctor", "--no-lab", "--json", "--timeout", "1", "--profile", str(profile))
    assert time.monotonic() - started < 30
    checks = checks_of(result.stdout)
    assert result.returncode == 1
    assert checks["bastion-reachable"]["status"] == ERROR
    assert checks["bastion-host-key"]["status"] == SKIP


def test_not_an_ssh_server_fails(kb: Callable[..., Any], tmp_path: Path) -> None:
    """A port that accepts TCP but never speaks SSH: the key exchange fails within the timeout."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        profile = write_profile(
            tmp_path / "http.yaml", {"host": "127.0.0.1", "port": server.getsockname()[1]}
        )
        result = kb("doctor", "--no-lab", "--json", "--timeout", "1", "--profile", str(profile))
    checks = checks_of(result.stdout)
    assert checks["bastion-reachable"]["status"] == OK
    assert checks["bastion-host-key"]["status"] == ERROR
    assert result.returncode == 1


def test_missing_identity_file_fails(kb: Callable[..., Any], tmp_path: Path, good_profile: Path) -> None:
    data = yaml.safe_load(good_profile.read_text())
    write_profile(good_profile, {**data["bastion"], "identity_file": str(tmp_path / "nope")})
    result = kb("doctor", "--no-lab", "--json", "--profile", str(good_profile))
    assert checks_of(result.stdout)["identity-file"]["status"] == ERROR
    assert result.returncode == 1


def test_proxy_jump_checks_the_jump_host(
    kb: Callable[..., Any], tmp_path: Path, bastion: Sshd, client_key: Path
) -> None:
    """Behind a ProxyJump the first hop is the jump host: its reachability and key are checked, the
    bastion's key (only reachable after logging in to the jump host) is skipped. Nothing contacts the bastion."""
    known = tmp_path / "known_hosts"
    known.write_text(bastion.known_hosts_line() + "\n")
    spec = {
        "host": "bastion.example.internal",
        "proxy_jump": f"root@127.0.0.1:{bastion.port}",
        "identity_file": str(client_key),
        "known_hosts": str(known),
    }
    profile = write_profile(tmp_path / "jump.yaml", spec)
    result = kb("doctor", "--no-lab", "--json", "--profile", str(profile), env={"HOME": str(tmp_path)})
    checks = checks_of(result.stdout)
    assert (
        checks["bastion-route"]["status"] == OK
        and "bastion.example.internal" in checks["bastion-route"]["detail"]
    )
    assert (
        checks["bastion-reachable"]["status"] == OK and "jump host" in checks["bastion-reachable"]["detail"]
    )
    assert checks["jump-host-key"]["status"] == OK
    assert checks["bastion-host-key"]["status"] == SKIP
    assert result.returncode == 0, result.stdout


def test_revoked_host_key_fails(
    kb: Callable[..., Any], tmp_path: Path, good_profile: Path, bastion: Sshd
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("@revoked " + bastion.known_hosts_line() + "\n")
    result = kb("doctor", "--no-lab", "--json", "--profile", str(good_profile))
    check = checks_of(result.stdout)["bastion-host-key"]
    assert check["status"] == ERROR and "REVOKED" in check["detail"]
    assert result.returncode == 1


def test_the_profile_inventory_is_checked(tmp_path: Path, good_profile: Path) -> None:
    from platform_kb.doctor.bastion import check_inventory

    data = yaml.safe_load(good_profile.read_text())
    assert check_inventory(load_profile(str(good_profile))).status == SKIP  # optional without one
    write_profile(good_profile, data["bastion"], inventory="hosts.yaml")
    missing = check_inventory(load_profile(str(good_profile)))
    assert missing.status == ERROR and "host inventory not found" in missing.detail
    (good_profile.parent / "hosts.yaml").write_text(
        yaml.safe_dump({"hosts": [{"name": "pve-01", "address": "pve-01.example.internal"}]})
    )
    found = check_inventory(load_profile(str(good_profile)))
    assert found.status == OK and found.detail.startswith("1 host(s): pve-01")
