"""``kb tunnel up`` as a user runs it: a subprocess, its ``forward ...`` lines, then a signal."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from platform_kb.cli import main
from platform_kb_lab.sshd import Sshd

KB = [sys.executable, "-c", "from platform_kb.cli import main; main()"]


class KbProcess:
    """A running ``kb`` with its stdout read line by line in a thread (reads never block the test)."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [*KB, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def read_lines(self, count: int, timeout: float = 20) -> list[str]:
        lines = []
        for _ in range(count):
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                break
            if line is None:
                break
            lines.append(line)
        if len(lines) < count:
            self.proc.kill()
            _out, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"kb printed {lines!r}, then nothing; stderr: {err}")
        return lines

    def stop(self, sig: int) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            _out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, err


FORWARD_LINE = re.compile(r"^forward 127\.0\.0\.1:(\d+) -> (\S+):(\d+)$")


def test_up_with_flags_prints_forwards_and_exits_0_on_sigterm(
    bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tmp_path: Path, tk: SimpleNamespace
) -> None:
    kb = KbProcess(
        [
            "tunnel", "up", "--bastion", f"127.0.0.1:{bastion.port}", "-i", str(keys["client"]),
            "--known-hosts", str(known_hosts), "-F", "none",
            "-L", f"0:{node[0]}:{node[1]}", "-L", f"127.0.0.1:0:{node[0]}:{node[1]}",
        ],
        tmp_path,
    )  # fmt: skip
    lines = kb.read_lines(4)
    forwards = [FORWARD_LINE.match(line) for line in lines[:2]]
    assert all(forwards), lines
    assert [(m.group(2), int(m.group(3))) for m in forwards] == [(node[0], node[1])] * 2
    ports = [int(m.group(1)) for m in forwards]
    assert lines[2:] == [f"forward0  http://127.0.0.1:{ports[0]}/", f"forward1  http://127.0.0.1:{ports[1]}/"]
    for port in ports:
        assert tk.http_get(f"http://127.0.0.1:{port}/cli") == (200, b"node ok /cli")
    ssh_pids = tk.children_of(kb.proc.pid)
    assert ssh_pids, "the openssh backend runs an ssh process"
    code, err = kb.stop(signal.SIGTERM)
    assert code == 0, err
    assert "tunnel closed" in err
    assert not any(tk.pid_alive(p) for p in ssh_pids)
    assert not any(tk.port_listening("127.0.0.1", p) for p in ports)


def test_up_with_profile_paramiko_and_ctrl_c(
    bastion: Sshd, known_hosts: Path, keys: dict, node: tuple, tmp_path: Path, tk: SimpleNamespace
) -> None:
    profile = tmp_path / "homelab.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "bastion": {
                    "host": "127.0.0.1",
                    "port": bastion.port,
                    "identity_file": str(keys["client"]),
                    "known_hosts": str(known_hosts),
                },
                "node": {"host": node[0], "ingress_nodeport": node[1], "api_port": node[1]},
                "forwards": [
                    {"name": "ingress", "local": "127.0.0.1:0", "remote": f"node:{node[1]}"},
                    {"name": "api", "local": "127.0.0.1:0", "remote": f"node:{node[1]}"},
                ],
            }
        )
    )
    kb = KbProcess(
        ["tunnel", "up", "--profile", str(profile), "-F", "none", "--backend", "paramiko"], tmp_path
    )
    lines = kb.read_lines(4)
    assert all(FORWARD_LINE.match(line) for line in lines[:2]), lines
    assert lines[2].startswith("ingress  http://127.0.0.1:") and lines[3].startswith(
        "api      http://127.0.0.1:"
    )
    assert tk.http_get(lines[2].split()[1] + "version")[0] == 200
    code, err = kb.stop(signal.SIGINT)
    assert code == 0, err


def test_host_key_mismatch_exits_1_with_the_reason(
    bastion: Sshd, keys: dict, node: tuple, tmp_path: Path
) -> None:
    known = tmp_path / "kh"
    other = Path(str(keys["other"]) + ".pub").read_text().split()
    known.write_text(f"[127.0.0.1]:{bastion.port} {other[0]} {other[1]}\n")
    result = subprocess.run(
        [
            *KB, "tunnel", "up", "--bastion", f"127.0.0.1:{bastion.port}", "-i", str(keys["client"]),
            "--known-hosts", str(known), "-F", "none", "-L", f"0:{node[0]}:{node[1]}",
        ],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "HOST KEY MISMATCH" in result.stderr and f"{known}:1" in result.stderr
    assert "forward " not in result.stdout


BAD_PROFILES = {
    "not-yaml.yaml": "bastion: [unclosed\n",
    "unknown-key.yaml": "bastion: {host: b}\nnode: {host: n}\nextra: 1\n",
    "bad-policy.yaml": "bastion: {host: b, host_key_policy: maybe}\nnode: {host: n}\n",
    "bad-forward.yaml": "bastion: {host: b}\nnode: {host: n}\nforwards: [{name: x, local: '8080', remote: 'node:1'}]\n",
}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-L", "8080:node"], "expected [BIND:]LPORT:HOST:PORT"),
        (["--bastion", "b", "-L", "x:h:1"], "local port"),
        (["--bastion", "b:99999", "-L", "0:h:1"], "--bastion"),
        (["--bastion", "b", "-J", "bad:host:x", "-L", "0:h:1"], "-J"),
        (["--bastion", "b"], "and -L"),
        ([], "give --profile NAME|FILE"),
        (["-L", "0:h:1"], "give --profile NAME|FILE or --bastion"),
        (["--bastion", "b", "-L", "0:h:1", "--host-key-policy", "no"], "'no' is not one of"),
        (["--profile", "does-not-exist"], "not found"),
        (["--bastion", "b", "-L", "0:h:1", "-F", "/nonexistent/config"], "ssh config file not found"),
        *[(["--profile", name], "profile") for name in BAD_PROFILES],
    ],
)
def test_bad_flags_and_profiles_exit_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, text in BAD_PROFILES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KB_ROOT", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        main(["tunnel", "up", *args])  # in-process: nothing here connects anywhere
    captured = capsys.readouterr()
    assert exit_info.value.code == 2, captured.err
    assert message in captured.err
    assert captured.out == ""
