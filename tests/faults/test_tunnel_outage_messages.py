"""What a reconnecting tunnel says (issue 14, item 5): what it waits for and for how long."""

from __future__ import annotations

from platform_kb.tunnel.errors import BastionUnreachable
from platform_kb.tunnel.tunnel import TunnelOptions, _Outage


def test_outage_messages_name_the_bastion_the_time_and_the_attempts() -> None:
    outage = _Outage()
    outage.begin()
    outage.since -= 42  # the connection was lost 42 s ago
    text = outage.failed("me@127.0.0.1:2222", BastionUnreachable("Connection refused"), 8.0)
    assert "waiting for the bastion me@127.0.0.1:2222 to accept SSH connections again" in text
    assert "down for 42s" in text and "attempt 1 failed (Connection refused)" in text
    assert "next try in 8.0s" in text
    assert "attempt 2" in outage.failed("me@127.0.0.1:2222", BastionUnreachable("x"), 10.0)
    done = outage.ended("me@127.0.0.1:2222")
    assert done.startswith("reconnected to me@127.0.0.1:2222 after 42s (3 attempts)")


def test_retries_stay_frequent_enough_for_a_lab_restart() -> None:
    assert TunnelOptions().backoff_max <= 10.0
