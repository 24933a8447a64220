"""The bastion tunnel: ``ssh -N -L`` as a Python object, with OpenSSH's safety and speed.

Flow: :mod:`.sshconfig` (profile + ~/.ssh/config -> route of hops) -> :mod:`.session`
(paramiko connection per hop; :mod:`.hostkeys` verifies each host key) -> data path:
:mod:`.openssh` (an ``ssh -N -L`` process, default when ``ssh`` is installed) or
:mod:`.forwarder` (in-process) -> :mod:`.tunnel` (the public :class:`Tunnel`: ports,
probes, keepalive, reconnect with backoff, atexit close).

    from platform_kb.tunnel import Tunnel
    with Tunnel.from_profile(load_profile("lab")) as t:
        httpx.get(t.url("ingress", "/spark-history/"))
"""

from __future__ import annotations

from .errors import (
    AuthenticationError,
    BastionUnreachable,
    ForwardUnreachable,
    HostKeyError,
    LocalPortInUse,
    TunnelError,
)
from .tunnel import BACKENDS, ProbeResult, Tunnel, TunnelOptions, parse_local_forward

__all__ = [
    "BACKENDS",
    "AuthenticationError",
    "BastionUnreachable",
    "ForwardUnreachable",
    "HostKeyError",
    "LocalPortInUse",
    "ProbeResult",
    "Tunnel",
    "TunnelError",
    "TunnelOptions",
    "parse_local_forward",
]
