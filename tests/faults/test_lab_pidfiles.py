"""Finding the lab's processes without its state file (issue 14, item 7), and stable ports (item 5).

Fast: no lab, just small processes started here with their output under a lab folder (as every lab
process is spawned) or elsewhere, each stopped by pid.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_kb.processes import ProcessRecord, free_port, spawn, wait_for_port
from platform_kb_lab.pidfiles import lab_listeners, load_pidfiles, remove_pidfile, write_pidfile
from platform_kb_lab.ports import BASTION, load_ports, record_port, recorded_port

from ..lab.conftest import pick_node


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, int, ProcessRecord, Path]]:
    """``python -m http.server`` on a free node address, output in ``tmp/lab/logs`` (a lab folder)."""
    root = tmp_path / "lab"
    node = pick_node(230)
    port = free_port(node)
    log = root / "logs" / "web.log"
    argv = [sys.executable, "-m", "http.server", "--bind", node, str(port)]
    proc, record = spawn("web", argv, log, cwd=tmp_path)
    try:
        wait_for_port(node, port, 20, proc, log)
        yield node, port, record, root
    finally:
        record.stop()
        proc.wait(timeout=5)


def test_a_lab_process_is_found_by_its_port(listener: tuple[str, int, ProcessRecord, Path]) -> None:
    node, port, record, root = listener
    found = lab_listeners(root, [(node, port)])
    assert [(r.pid, r.start_time) for r in found] == [(record.pid, record.start_time)]


def test_another_programs_listener_is_never_taken(
    listener: tuple[str, int, ProcessRecord, Path], tmp_path: Path
) -> None:
    node, port, _record, _root = listener
    assert lab_listeners(tmp_path / "other-lab", [(node, port)]) == []


def test_pid_files_round_trip(tmp_path: Path) -> None:
    record = ProcessRecord("node-exporter-pve-01", 4242, 99, ("x",), "/l")
    write_pidfile(tmp_path, record)
    (tmp_path / "broken.json").write_text("{not json")
    assert load_pidfiles(tmp_path) == [record]
    remove_pidfile(tmp_path, record.name)
    assert load_pidfiles(tmp_path) == []


def test_the_bastion_port_is_kept_while_free(tmp_path: Path) -> None:
    path = tmp_path / "ports.json"
    assert recorded_port(path, BASTION, ["127.0.0.1"]).port == 0
    port = free_port()
    record_port(path, BASTION, port)
    assert load_ports(path) == {BASTION: port}
    assert recorded_port(path, BASTION, ["127.0.0.1"]).port == port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        choice = recorded_port(path, BASTION, ["127.0.0.1"])
    assert choice.port == 0 and "taken" in choice.note
