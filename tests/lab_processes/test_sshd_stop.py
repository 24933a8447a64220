"""Stopping the lab's sshd by pid also ends its per-connection children (they leave its process group)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from platform_kb.processes import ProcessRecord, descendants, spawn, wait_until
from platform_kb_lab.sshd import Sshd, generate_key


def test_stop_ends_connected_sessions(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "client")
    sshd = Sshd(tmp_path / "sshd", client_keys=[key])
    sshd.start()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(sshd.known_hosts_line() + "\n")
    argv = [
        "ssh", "-N", "-i", str(key), "-p", str(sshd.port),
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
        "127.0.0.1",
    ]  # fmt: skip
    proc, client = spawn("ssh-client", argv, tmp_path / "ssh.log")
    try:
        assert sshd.record is not None
        listener = sshd.record.pid
        # an established session (a connection still authenticating may fork after the snapshot)
        assert wait_until(lambda: "Accepted publickey" in sshd.log_path.read_text(), 15), "no session"
        assert wait_until(lambda: len(descendants(listener)) >= 1, 15), "no per-connection sshd appeared"
        children = descendants(listener)
        sshd.stop()
        assert wait_until(lambda: not any(c.alive() for c in children), 10), "a session process survived"
        assert wait_until(lambda: proc.poll() is not None, 10), "the client stayed connected"
    finally:
        client.stop()
        sshd.stop()


def test_stop_spares_a_reused_pid(tmp_path: Path) -> None:
    """A record whose start time no longer matches is never signalled."""
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        stale = ProcessRecord("stale", proc.pid, start_time=1)  # the real start time differs
        assert not stale.alive()
        assert stale.stop() is True
        assert proc.poll() is None, "a process that merely reuses the pid was killed"
    finally:
        proc.kill()
        proc.wait()
