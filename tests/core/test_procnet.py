"""platform_kb.procnet reads who listens where from /proc, for the tunnel and the lab alike."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from platform_kb.procnet import listeners, listening_fds, listening_ports, socket_fds


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield sock
    sock.close()


def test_a_listening_socket_of_this_process_is_found_three_ways(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    assert port in listening_ports(os.getpid())
    assert listening_fds(os.getpid(), "127.0.0.1", port) == [listener.fileno()]
    assert listeners([("127.0.0.1", port)]) == {os.getpid(): ("127.0.0.1", port)}


def test_a_closed_socket_is_no_longer_listed(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    listener.close()
    assert port not in listening_ports(os.getpid())
    assert listeners([("127.0.0.1", port)]) == {}


def test_a_connected_socket_is_not_a_listener() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    try:
        assert client.fileno() in socket_fds(os.getpid())
        assert client.getsockname()[1] not in listening_ports(os.getpid())
    finally:
        client.close()
        server.close()


def test_an_unreadable_process_gives_empty_results() -> None:
    assert listening_ports(2**22 + 1) == set()
    assert socket_fds(2**22 + 1) == {}
