"""Errors of the bastion tunnel, one small tree under :class:`platform_kb.errors.KbError`.

Raised by :mod:`.sshconfig` (resolving where to connect), :mod:`.hostkeys` (verifying the
server), :mod:`.session` (connecting and authenticating) and :mod:`.tunnel` (binding local
ports, supervising the connection). Each message says what happened and what to do next.
"""

from __future__ import annotations

from ..errors import KbError, UsageProblem


class TunnelError(KbError):
    """The tunnel could not be opened or was lost for good."""


class HostKeyError(TunnelError):
    """The server's host key is unknown (policy ``yes``), changed, or revoked: never connected."""


class AuthenticationError(TunnelError):
    """The bastion (or a jump host) refused every key we offered."""


class BastionUnreachable(TunnelError):
    """No SSH connection within the connect timeout (refused, no route, no banner, DNS)."""


class ForwardUnreachable(TunnelError):
    """A forward's remote end refused the connection as seen from the bastion."""


class LocalPortInUse(UsageProblem, TunnelError):
    """A local address asked for is taken by another process (use port 0 for a free one)."""
