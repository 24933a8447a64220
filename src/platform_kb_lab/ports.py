"""Ports the lab picks itself, kept in ``.lab/ports.json`` so a restarted lab answers where it did.

Where this sits: the node's services have fixed ports (:class:`.config.LabSettings`); only the
bastion sshd takes a free port on 127.0.0.1 (and the same port on the node address). ``kb lab up``
reuses the port recorded here when it is still free on every address, so a ``kb tunnel up`` left
running through a lab restart (a crash, ``kb lab down``/``up``) reconnects to the same bastion
address; the host key in ``.lab/sshd`` is kept as well, so ``known_hosts`` stays valid. ``kb lab
down`` keeps this file; removing the lab folder forgets it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from platform_kb.processes import port_bindable

BASTION = "bastion"


def load_ports(path: Path) -> dict[str, int]:
    """The recorded ports; empty when the file is missing or unreadable (a new port is then picked)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, int) and 1 <= v <= 65535}


def save_ports(path: Path, ports: dict[str, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(ports.items())), indent=2) + "\n")
    tmp.replace(path)


@dataclass(frozen=True)
class PortChoice:
    port: int  # 0: none recorded or the recorded one is taken; the caller picks a free one
    note: str


def recorded_port(path: Path, name: str, hosts: list[str]) -> PortChoice:
    """The port recorded for ``name`` if it can be bound on every one of ``hosts`` now."""
    port = load_ports(path).get(name, 0)
    if not port:
        return PortChoice(0, "")
    taken = [h for h in hosts if not port_bindable(h, port)]
    if taken:
        return PortChoice(
            0,
            f"the {name}'s recorded port {port} is taken on {', '.join(taken)}; picking a new one "
            f"(tunnels to the old port must be restarted)",
        )
    return PortChoice(port, f"the {name} keeps port {port} (from {path})")


def record_port(path: Path, name: str, port: int) -> None:
    ports = load_ports(path)
    if ports.get(name) != port:
        ports[name] = port
        save_ports(path, ports)
