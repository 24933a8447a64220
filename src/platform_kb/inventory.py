"""Host inventory: the machines behind the bastion that host-level runbooks reach over SSH.

Where this sits: a profile names an inventory file (``inventory: hosts.yaml``, exposed to runbooks
as the ``inventory`` parameter); :func:`load_inventory` validates it with JSON Schema and returns
:class:`Inventory`. ``install-monitoring`` uses it twice: to install node-exporter on every host
over SSH (``ProxyJump`` through the bastion, :meth:`Host.ssh_spec`) and to render Prometheus's
scrape configuration for those hosts (:mod:`platform_kb.scrape`). ``kb lab up`` writes
the lab's inventory (``.lab/inventory.yaml``).

The file::

    defaults:            # optional; every key of a host except name/address
      user: ops
      ssh_port: 22
      exporter_port: 9100
    hosts:
      - name: pve-01                        # the name shown in findings and the `host` label
        address: pve-01.example.internal    # as the bastion reaches it (SSH and scraping)
        role: proxmox                       # free text, becomes the `role` label
      - name: desktop
        address: desktop.example.internal
        role: desktop

``lab: true`` marks a lab stand-in host (the lab machine itself, reached through the lab's sshd):
its facts are read, but no change is ever applied there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import UsageProblem
from .profiles import BastionSpec

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
_HOST_FIELDS: dict[str, Any] = {
    "user": {"type": "string", "minLength": 1},
    "ssh_port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "exporter_port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "exporter_address": {"type": "string", "minLength": 1},
    "role": {"type": "string"},
    "lab": {"type": "boolean"},
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["hosts"],
    "properties": {
        "description": {"type": "string"},
        "defaults": {"type": "object", "additionalProperties": False, "properties": _HOST_FIELDS},
        "hosts": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "address"],
                "properties": {
                    "name": {"type": "string", "pattern": NAME_PATTERN},
                    "address": {"type": "string", "minLength": 1},
                    **_HOST_FIELDS,
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Host:
    """One machine: where SSH reaches it and where its node-exporter answers (both seen from the bastion)."""

    name: str
    address: str
    user: str | None = None  # None: ssh_config's User, else the local user name
    ssh_port: int = 22
    exporter_port: int = 9100
    exporter_address: str | None = None  # None: the same as ``address``
    role: str = ""
    lab: bool = False  # a lab stand-in: facts are read, changes are never applied

    @property
    def target(self) -> str:
        """``address:port`` Prometheus scrapes."""
        return f"{self.exporter_address or self.address}:{self.exporter_port}"

    def ssh_spec(self, bastion: BastionSpec) -> BastionSpec:
        """This host as an SSH destination, reached with ``ProxyJump`` through ``bastion`` (keys verified alike)."""
        jump = _destination(bastion.host, bastion.user, bastion.port)
        chain = f"{bastion.proxy_jump},{jump}" if bastion.proxy_jump else jump
        return BastionSpec(
            host=self.address,
            port=self.ssh_port,
            user=self.user or bastion.user,
            identity_file=bastion.identity_file,
            known_hosts=bastion.known_hosts,
            host_key_policy=bastion.host_key_policy,
            proxy_jump=chain,
        )


def _destination(host: str, user: str | None, port: int | None) -> str:
    """``[user@]host[:port]`` as ``ssh -J`` takes it."""
    return f"{user + '@' if user else ''}{host}{':' + str(port) if port and port != 22 else ''}"


@dataclass(frozen=True)
class Inventory:
    hosts: tuple[Host, ...]
    path: str | None = None
    description: str = ""

    def names(self) -> list[str]:
        return [h.name for h in self.hosts]

    def host(self, name: str) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise UsageProblem(f"host {name!r} is not in the inventory (known: {', '.join(self.names())})")

    def select(self, names: list[str] | tuple[str, ...]) -> Inventory:
        """Only the named hosts (in inventory order); an unknown name is a UsageProblem."""
        for name in names:
            self.host(name)
        return replace(self, hosts=tuple(h for h in self.hosts if h.name in names))


def inventory_from_dict(data: Any, where: str = "inventory") -> Inventory:
    """Validate and build; every problem is a UsageProblem naming the field."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        problems = [
            f"{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors[:5]
        ]
        raise UsageProblem(f"{where}: " + "; ".join(problems))
    defaults: Mapping[str, Any] = data.get("defaults") or {}
    hosts: list[Host] = []
    for item in data["hosts"]:
        merged = {**defaults, **item}
        hosts.append(Host(**merged))
    names = [h.name for h in hosts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageProblem(f"{where}: duplicate host name(s) {', '.join(duplicates)}")
    targets = [h.target for h in hosts]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise UsageProblem(f"{where}: several hosts scrape the same exporter {', '.join(twice)}")
    return Inventory(tuple(hosts), description=str(data.get("description") or ""))


def load_inventory(path: str | Path) -> Inventory:
    """The inventory at ``path``; a UsageProblem when it is missing, not YAML or not valid."""
    file = Path(path).expanduser()
    if not str(path):
        raise UsageProblem("no host inventory given: set `inventory:` in the profile or -p inventory PATH")
    if not file.is_file():
        raise UsageProblem(f"host inventory not found: {file}")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageProblem(f"host inventory {file}: not valid YAML: {exc}") from exc
    return replace(inventory_from_dict(data, f"host inventory {file}"), path=str(file))


def write_inventory(path: Path, data: dict[str, Any]) -> None:
    """Write an inventory (``kb lab up``); validated first, so a written inventory always loads."""
    inventory_from_dict(data, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
