"""Connection profiles: how to reach the cluster through the bastion.

A profile is a YAML file (``profiles/NAME.yaml`` in the checkout, or ``.lab/profiles/NAME.yaml``
written by ``kb lab up``, or any path) with three parts::

    bastion:                      # the SSH jump host
      host: bastion.example.internal   # a hostname or a ~/.ssh/config Host alias
      port: 22                    # optional (ssh_config / 22)
      user: ops                   # optional (ssh_config / $USER)
      identity_file: ~/.ssh/id_ed25519   # optional (ssh_config / agent)
      known_hosts: ~/.ssh/known_hosts    # optional
      host_key_policy: "yes"      # "yes" (default) or "accept-new"
      proxy_jump: null            # optional, like ssh -J
    node:                         # a Kubernetes node as seen from the bastion
      host: k8s-node.example.internal
      ingress_nodeport: 30998
      api_port: 6443
    forwards:                     # optional; default: ingress -> 127.0.0.1:8080, api -> free port
      - {name: ingress, local: "127.0.0.1:8080", remote: "node:30998"}
    kubeconfig: ~/.kube/config    # optional: kubeconfig for the API server behind the tunnel
    run_context: context.json     # optional: a JSON object whose string values each run record keeps

Relative paths inside a profile are taken relative to the profile file. ``node`` in a forward's
remote part stands for ``node.host``. Runbooks receive a profile as flat parameters
(:meth:`Profile.as_parameters`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageProblem
from .paths import ProjectPaths

HOST_KEY_POLICIES = ("yes", "accept-new")
DEFAULT_INGRESS_NODEPORT = 30998
DEFAULT_API_PORT = 6443
DEFAULT_INGRESS_LOCAL = "127.0.0.1:8080"


def _expand(value: str | None, base: Path) -> str | None:
    if value in (None, ""):
        return None
    path = Path(str(value)).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def parse_hostport(text: str, what: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``[v6]:PORT``) -> (host, port); a clear UsageProblem otherwise."""
    text = str(text).strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageProblem(f"{what}: expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class BastionSpec:
    host: str
    port: int | None = None
    user: str | None = None
    identity_file: str | None = None
    known_hosts: str | None = None
    host_key_policy: str = "yes"
    proxy_jump: str | None = None


@dataclass(frozen=True)
class NodeSpec:
    host: str
    ingress_nodeport: int = DEFAULT_INGRESS_NODEPORT
    api_port: int = DEFAULT_API_PORT


@dataclass(frozen=True)
class ForwardSpec:
    """One local forward: ``local_host:local_port`` on this machine -> ``remote_host:remote_port`` seen from the bastion."""

    name: str
    local_host: str
    local_port: int
    remote_host: str
    remote_port: int

    def describe(self) -> str:
        return f"{self.local_host}:{self.local_port} -> {self.remote_host}:{self.remote_port}"


@dataclass(frozen=True)
class Profile:
    name: str
    bastion: BastionSpec
    node: NodeSpec
    forwards: tuple[ForwardSpec, ...] = field(default_factory=tuple)
    kubeconfig: str | None = None
    source: str | None = None
    inventory: str | None = None  # host inventory YAML (platform_kb.inventory) for host-level runbooks
    run_context: str | None = None  # JSON object whose string values every run record adds to its context

    def run_labels(self) -> dict[str, str]:
        """The string values of the ``run_context`` file, or nothing when it is unset, gone or not JSON.

        The lab points its profile at a file it rewrites on every change (``lab_scenario``), so a
        record says which reproduced state it ran against without the product knowing the lab.
        """
        if not self.run_context:
            return {}
        try:
            data = json.loads(Path(self.run_context).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, str) and v}

    def as_parameters(self) -> dict[str, Any]:
        """Flat runbook parameters (profile < params file < -p); runbooks declare the ones they use."""
        ingress = self.forward("ingress")
        return {
            "profile": self.name,
            "bastion_host": self.bastion.host,
            "bastion_port": self.bastion.port or 22,
            "bastion_user": self.bastion.user or "",
            "identity_file": self.bastion.identity_file or "",
            "known_hosts": self.bastion.known_hosts or "",
            "host_key_policy": self.bastion.host_key_policy,
            "proxy_jump": self.bastion.proxy_jump or "",
            "node_host": self.node.host,
            "ingress_nodeport": self.node.ingress_nodeport,
            "api_port": self.node.api_port,
            "local_port": ingress.local_port if ingress else 8080,
            "kubeconfig": self.kubeconfig or "",
            "inventory": self.inventory or "",
        }

    def forward(self, name: str) -> ForwardSpec | None:
        return next((f for f in self.forwards if f.name == name), None)


def default_forwards(node: NodeSpec, ingress_local: str = DEFAULT_INGRESS_LOCAL) -> tuple[ForwardSpec, ...]:
    lhost, lport = parse_hostport(ingress_local, "ingress local address")
    return (
        ForwardSpec("ingress", lhost, lport, node.host, node.ingress_nodeport),
        ForwardSpec("api", "127.0.0.1", 0, node.host, node.api_port),
    )


def _require_mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UsageProblem(f"{where}: expected a mapping, got {type(data).__name__}")
    return data


def _int(value: Any, where: str, low: int = 0, high: int = 65535) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        and not (isinstance(value, str) and value.isdigit())
    ):
        raise UsageProblem(f"{where}: expected an integer, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise UsageProblem(f"{where}: {number} is outside {low}..{high}")
    return number


def _check_keys(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise UsageProblem(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def profile_from_dict(data: Any, name: str, base: Path, source: str | None = None) -> Profile:
    """Validate and build a profile; every problem is a UsageProblem naming the field."""
    where = f"profile {name!r}"
    data = _require_mapping(data, where)
    _check_keys(
        data, {"bastion", "node", "forwards", "kubeconfig", "inventory", "run_context", "description"}, where
    )
    b = _require_mapping(data.get("bastion"), f"{where}: bastion")
    _check_keys(
        b,
        {"host", "port", "user", "identity_file", "known_hosts", "host_key_policy", "proxy_jump"},
        f"{where}: bastion",
    )
    if not b.get("host"):
        raise UsageProblem(f"{where}: bastion.host is required")
    policy = str(b.get("host_key_policy", "yes"))
    if policy == "True":  # YAML 1.1 reads a bare yes as true
        policy = "yes"
    if policy not in HOST_KEY_POLICIES:
        raise UsageProblem(
            f"{where}: bastion.host_key_policy must be one of {', '.join(HOST_KEY_POLICIES)}, got {policy!r}"
        )
    bastion = BastionSpec(
        host=str(b["host"]),
        port=_int(b["port"], f"{where}: bastion.port", 1) if b.get("port") is not None else None,
        user=str(b["user"]) if b.get("user") else None,
        identity_file=_expand(b.get("identity_file"), base),
        known_hosts=_expand(b.get("known_hosts"), base),
        host_key_policy=policy,
        proxy_jump=str(b["proxy_jump"]) if b.get("proxy_jump") else None,
    )
    n = _require_mapping(data.get("node"), f"{where}: node")
    _check_keys(n, {"host", "ingress_nodeport", "api_port"}, f"{where}: node")
    if not n.get("host"):
        raise UsageProblem(f"{where}: node.host is required")
    node = NodeSpec(
        host=str(n["host"]),
        ingress_nodeport=_int(
            n.get("ingress_nodeport", DEFAULT_INGRESS_NODEPORT), f"{where}: node.ingress_nodeport", 1
        ),
        api_port=_int(n.get("api_port", DEFAULT_API_PORT), f"{where}: node.api_port", 1),
    )
    raw_forwards = data.get("forwards")
    if raw_forwards is None:
        forwards = default_forwards(node)
    else:
        if not isinstance(raw_forwards, list):
            raise UsageProblem(f"{where}: forwards must be a list")
        items = []
        for i, item in enumerate(raw_forwards):
            fw = _require_mapping(item, f"{where}: forwards[{i}]")
            _check_keys(fw, {"name", "local", "remote"}, f"{where}: forwards[{i}]")
            lhost, lport = parse_hostport(str(fw.get("local", "")), f"{where}: forwards[{i}].local")
            rhost, rport = parse_hostport(str(fw.get("remote", "")), f"{where}: forwards[{i}].remote")
            if rhost == "node":
                rhost = node.host
            items.append(ForwardSpec(str(fw.get("name") or f"forward{i}"), lhost, lport, rhost, rport))
        forwards = tuple(items)
    return Profile(
        name=name,
        bastion=bastion,
        node=node,
        forwards=forwards,
        kubeconfig=_expand(data.get("kubeconfig"), base),
        source=source,
        inventory=_expand(data.get("inventory"), base),
        run_context=_expand(data.get("run_context"), base),
    )


def find_profile(name_or_path: str, paths: ProjectPaths | None = None) -> Path:
    """A path that exists, else ``profiles/NAME.yaml``, else ``<lab dir>/profiles/NAME.yaml``.

    The lab dir is ``$KB_LAB_DIR`` when set (as ``kb lab`` uses it), else ``.lab/``.
    """
    paths = paths or ProjectPaths.discover()
    direct = Path(name_or_path).expanduser()
    if direct.suffix in (".yaml", ".yml") or "/" in name_or_path:
        if direct.is_file():
            return direct.resolve()
        raise UsageProblem(f"profile file not found: {name_or_path}")
    lab_dir = Path(os.environ["KB_LAB_DIR"]).expanduser() if os.environ.get("KB_LAB_DIR") else paths.lab
    for folder in (paths.profiles, lab_dir / "profiles"):
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    hint = " (run `kb lab up` first)" if name_or_path == "lab" else ""
    raise UsageProblem(f"profile {name_or_path!r} not found in profiles/ or .lab/profiles/{hint}")


def load_profile(name_or_path: str, paths: ProjectPaths | None = None) -> Profile:
    path = find_profile(name_or_path, paths)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageProblem(f"profile {path}: not valid YAML: {exc}") from exc
    return profile_from_dict(data, path.stem, path.parent, source=str(path))


def write_profile(path: Path, data: dict[str, Any]) -> None:
    """Write a profile file (used by ``kb lab up``); validates first so a written profile always loads."""
    profile_from_dict(data, path.stem, path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
