"""free_port chooses below the kernel's ephemeral range, where outgoing connections never take a port."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from platform_kb.processes import LOWEST_PORT, ephemeral_range, free_port, port_bindable


def test_a_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    low, _high = ephemeral_range()
    ports = {free_port("127.0.0.1", random.Random(seed)) for seed in range(20)}
    assert all(LOWEST_PORT <= p < low and port_bindable("127.0.0.1", p) for p in ports)
    assert len(ports) > 10


def test_a_port_in_use_is_not_chosen() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert all(free_port("127.0.0.1", random.Random(s)) != taken for s in range(20))


def test_the_range_file_is_read_and_a_broken_one_gives_linuxs_default(tmp_path: Path) -> None:
    good = tmp_path / "range"
    good.write_text("40000\t50000\n")
    assert ephemeral_range(good) == (40000, 50000)
    assert ephemeral_range(tmp_path / "missing") == (32768, 60999)
