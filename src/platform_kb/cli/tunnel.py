"""``kb tunnel up``: the bastion tunnel in the foreground, like ``ssh -N -L``.

Parses flags, merges them over the profile (flags win), and delegates to
:class:`platform_kb.tunnel.Tunnel`. When every forward is ready it prints one line per forward,
exactly ``forward 127.0.0.1:8080 -> HOST:PORT``, then the URLs to open; it runs until Ctrl-C
or SIGTERM and then closes the tunnel and exits 0. Bad flags or a bad profile exit 2 before
anything connects; a tunnel that cannot open (or is lost for good) exits 1.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import threading
from types import FrameType

import click

from ..errors import UsageProblem
from ..profiles import HOST_KEY_POLICIES, BastionSpec, ForwardSpec, Profile, default_forwards, load_profile
from ..tunnel import BACKENDS, Tunnel, parse_local_forward
from ..tunnel.sshconfig import parse_destination


@click.group(name="tunnel", help="Open the bastion tunnel (like ssh -N -L).")
def command() -> None:
    """Bastion tunnel commands."""


@command.command("up")
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME|FILE",
    help="Profile: profiles/NAME.yaml, .lab/profiles/NAME.yaml or a path.",
)
@click.option("--bastion", metavar="[USER@]HOST[:PORT]", help="Bastion (a host name or ~/.ssh/config alias).")
@click.option("-i", "identity", metavar="IDENTITY", help="Private key file.")
@click.option(
    "--known-hosts",
    metavar="FILE",
    help="known_hosts file to verify (and, with accept-new, record) host keys.",
)
@click.option(
    "--host-key-policy",
    type=click.Choice(HOST_KEY_POLICIES),
    help="Like StrictHostKeyChecking (default yes).",
)
@click.option("-J", "--proxy-jump", metavar="[USER@]HOST[:PORT][,...]", help="Jump host(s), like ssh -J.")
@click.option(
    "-L",
    "local_forwards",
    multiple=True,
    metavar="[BIND:]LPORT:HOST:PORT",
    help="Local forward (repeatable); replaces the profile's forwards. HOST 'node' means the profile's node.",
)
@click.option(
    "-F", "--ssh-config", metavar="FILE", help="ssh_config to read (default ~/.ssh/config; 'none' for none)."
)
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default="auto",
    show_default=True,
    help="openssh: an ssh process carries the data; paramiko: in-process.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="Seconds per hop.",
)
@click.option(
    "--keepalive",
    type=click.FloatRange(min=0),
    default=15.0,
    show_default=True,
    help="Keepalive interval in seconds (0: off).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log connection details to stderr.")
def up(
    profile_name: str | None,
    bastion: str | None,
    identity: str | None,
    known_hosts: str | None,
    host_key_policy: str | None,
    proxy_jump: str | None,
    local_forwards: tuple[str, ...],
    ssh_config: str | None,
    backend: str,
    connect_timeout: float,
    keepalive: float,
    verbose: bool,
) -> None:
    """Open the tunnel and keep it open until Ctrl-C or SIGTERM."""
    profile = load_profile(profile_name) if profile_name else None
    forwards = _forwards(profile, local_forwards)
    spec = _bastion(profile, bastion, identity, known_hosts, host_key_policy, proxy_jump)
    _configure_logging(verbose)
    tunnel = Tunnel(
        spec,
        forwards,
        backend=backend,
        connect_timeout=connect_timeout,
        keepalive_interval=keepalive,
        ssh_config=ssh_config,
    )
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        tunnel.open()
        _announce(tunnel)
        while not stop.wait(0.2):
            if tunnel.wait(0):
                break
    finally:
        tunnel.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if tunnel.error is not None:
        raise tunnel.error
    click.echo("tunnel closed", err=True)


def _setter(stop: threading.Event):
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return handler


def _bastion(
    profile: Profile | None,
    bastion: str | None,
    identity: str | None,
    known_hosts: str | None,
    policy: str | None,
    proxy_jump: str | None,
) -> BastionSpec:
    if profile is None and not bastion:
        raise UsageProblem("give --profile NAME|FILE or --bastion [USER@]HOST[:PORT]")
    spec = profile.bastion if profile else BastionSpec(host="")
    changes: dict[str, object] = {}
    if bastion:
        dest = parse_destination(bastion, "--bastion")
        changes["host"] = dest.host
        if dest.user:
            changes["user"] = dest.user
        if dest.port:
            changes["port"] = dest.port
    if proxy_jump:
        for hop in proxy_jump.split(","):
            parse_destination(hop, "-J")
    for key, value in (
        ("identity_file", identity),
        ("known_hosts", known_hosts),
        ("host_key_policy", policy),
        ("proxy_jump", proxy_jump),
    ):
        if value:
            changes[key] = value
    return dataclasses.replace(spec, **changes)


def _forwards(profile: Profile | None, local_forwards: tuple[str, ...]) -> tuple[ForwardSpec, ...]:
    node_host = profile.node.host if profile else None
    if local_forwards:
        return tuple(
            parse_local_forward(text, f"forward{i}", node_host) for i, text in enumerate(local_forwards)
        )
    if profile is None:
        raise UsageProblem(
            "give --profile NAME|FILE, or --bastion [USER@]HOST[:PORT] and -L [BIND:]LPORT:HOST:PORT"
        )
    return profile.forwards or default_forwards(profile.node)


def _announce(tunnel: Tunnel) -> None:
    for spec in tunnel.forwards:
        click.echo(f"forward {tunnel.describe(spec.name)}")
    width = max(len(spec.name) for spec in tunnel.forwards)
    for spec in tunnel.forwards:
        click.echo(f"{spec.name.ljust(width)}  {tunnel.url(spec.name, '/')}")
    sys.stdout.flush()
    route = tunnel.route.describe() if tunnel.route else tunnel.bastion.host
    click.echo(f"tunnel open via {route} ({tunnel.backend} backend); Ctrl-C to close", err=True)


def _configure_logging(verbose: bool) -> None:
    logger = logging.getLogger("platform_kb.tunnel")
    if not any(getattr(h, "kb_tunnel_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("kb tunnel: %(message)s"))
        handler.kb_tunnel_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    # paramiko logs failed channel opens at ERROR; our own messages say it better
    logging.getLogger("paramiko").setLevel(logging.INFO if verbose else logging.CRITICAL)
