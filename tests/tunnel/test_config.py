"""Resolving where to connect: ssh_config aliases, ProxyJump, flags, parameters, ssh command lines."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from platform_kb.errors import UsageProblem
from platform_kb.profiles import BastionSpec, ForwardSpec
from platform_kb.tunnel import Tunnel, parse_local_forward
from platform_kb.tunnel.openssh import build_argv, equivalent_command, proxy_command
from platform_kb.tunnel.session import ConnectOptions
from platform_kb.tunnel.sshconfig import SshConfigFile, parse_destination, resolve_route

SSH_CONFIG = """\
Host bastion
    HostName bastion.example.internal
    User ops
    Port 2202
    IdentityFile ~/.ssh/homelab_ed25519
    ProxyJump gate
    UserKnownHostsFile ~/.ssh/homelab_known_hosts

Host gate
    HostName gate.example.internal
    User jumper
    Port 2200

Host *
    ServerAliveInterval 30
"""


@pytest.fixture
def ssh_config(tmp_path: Path) -> SshConfigFile:
    path = tmp_path / "config"
    path.write_text(SSH_CONFIG)
    return SshConfigFile.load(str(path))


def test_alias_resolves_hostname_user_port_identity_and_proxyjump(ssh_config: SshConfigFile) -> None:
    route = resolve_route(BastionSpec(host="bastion"), ssh_config)
    gate, bastion = route.hops
    assert (bastion.hostname, bastion.user, bastion.port) == ("bastion.example.internal", "ops", 2202)
    assert bastion.identity_files == (str(Path("~/.ssh/homelab_ed25519").expanduser()),)
    assert bastion.known_hosts == (str(Path("~/.ssh/homelab_known_hosts").expanduser()),)
    assert bastion.known_hosts_name == "[bastion.example.internal]:2202"
    assert (gate.hostname, gate.user, gate.port) == ("gate.example.internal", "jumper", 2200)
    assert route.describe() == "jumper@gate.example.internal:2200 -> ops@bastion.example.internal:2202"


def test_explicit_values_win_over_ssh_config(ssh_config: SshConfigFile, tmp_path: Path) -> None:
    spec = BastionSpec(
        host="bastion",
        port=22,
        user="admin",
        identity_file=str(tmp_path / "id"),
        known_hosts=str(tmp_path / "kh"),
        proxy_jump="none",
    )
    route = resolve_route(spec, ssh_config)
    assert len(route.hops) == 1
    hop = route.bastion
    assert (hop.hostname, hop.port, hop.user) == ("bastion.example.internal", 22, "admin")
    assert hop.identity_files == (str(tmp_path / "id"),)
    assert hop.known_hosts == (str(tmp_path / "kh"),) and hop.global_known_hosts == ()
    assert hop.known_hosts_name == "bastion.example.internal"


def test_proxyjump_chain_from_the_spec(ssh_config: SshConfigFile) -> None:
    route = resolve_route(BastionSpec(host="10.0.0.9", proxy_jump="gate,root@[::1]:2022"), ssh_config)
    assert [h.describe() for h in route.hops] == [
        "jumper@gate.example.internal:2200",
        "root@[::1]:2022",
        f"{route.bastion.user}@10.0.0.9:22",
    ]


def test_no_config_file_and_missing_file(tmp_path: Path) -> None:
    route = resolve_route(BastionSpec(host="bastion", port=2222, user="u"), SshConfigFile.load("none"))
    assert route.bastion.hostname == "bastion" and route.bastion.port == 2222
    with pytest.raises(UsageProblem, match="ssh config file not found"):
        SshConfigFile.load(str(tmp_path / "missing"))


def test_bad_policy_is_a_usage_problem() -> None:
    with pytest.raises(UsageProblem, match="host_key_policy"):
        resolve_route(BastionSpec(host="b", host_key_policy="no"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bastion", ("bastion", None, None)),
        ("ops@bastion:2222", ("bastion", "ops", 2222)),
        ("ssh://ops@bastion:2222", ("bastion", "ops", 2222)),
        ("[::1]:2022", ("::1", None, 2022)),
        ("root@10.0.0.1", ("10.0.0.1", "root", None)),
    ],
)
def test_parse_destination(text: str, expected: tuple[object, ...]) -> None:
    dest = parse_destination(text)
    assert (dest.host, dest.user, dest.port) == expected


@pytest.mark.parametrize("text", ["", "a@", "host:port", "host:70000", "a b"])
def test_parse_destination_rejects(text: str) -> None:
    with pytest.raises(UsageProblem):
        parse_destination(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080:node:30998", ("127.0.0.1", 8080, "k8s-node", 30998)),
        ("0:10.0.0.5:6443", ("127.0.0.1", 0, "10.0.0.5", 6443)),
        ("127.0.0.2:9000:node:80", ("127.0.0.2", 9000, "k8s-node", 80)),
        ("[::1]:9000:[fd00::5]:80", ("::1", 9000, "fd00::5", 80)),
        ("localhost:9000:h:1", ("127.0.0.1", 9000, "h", 1)),
    ],
)
def test_parse_local_forward(text: str, expected: tuple[object, ...]) -> None:
    spec = parse_local_forward(text, "f", node_host="k8s-node")
    assert (spec.local_host, spec.local_port, spec.remote_host, spec.remote_port) == expected


@pytest.mark.parametrize(
    "text", ["8080", "8080:h", "x:h:1", "8080:h:0", "8080::80", "70000:h:1", "a:b:c:d:e"]
)
def test_parse_local_forward_rejects(text: str) -> None:
    with pytest.raises(UsageProblem, match="BIND"):
        parse_local_forward(text, "f")


def test_from_parameters_builds_default_forwards() -> None:
    params = {
        "profile": "lab",
        "bastion_host": "127.0.0.1",
        "bastion_port": 2222,
        "bastion_user": "",
        "identity_file": "",
        "known_hosts": "",
        "host_key_policy": "accept-new",
        "proxy_jump": "",
        "node_host": "127.0.0.2",
        "ingress_nodeport": 30998,
        "api_port": 6443,
        "local_port": 0,
        "kubeconfig": "",
    }
    tunnel = Tunnel.from_parameters(params)
    assert tunnel.bastion == BastionSpec(host="127.0.0.1", port=2222, host_key_policy="accept-new")
    assert [f.describe() for f in tunnel.forwards] == [
        "127.0.0.1:0 -> 127.0.0.2:30998",
        "127.0.0.1:0 -> 127.0.0.2:6443",
    ]
    with pytest.raises(UsageProblem, match="bastion_host and node_host"):
        Tunnel.from_parameters({**params, "node_host": ""})
    with pytest.raises(UsageProblem, match="ingress_nodeport"):
        Tunnel.from_parameters({**params, "ingress_nodeport": "x"})


def test_tunnel_rejects_bad_forward_sets() -> None:
    spec = BastionSpec(host="b")
    with pytest.raises(UsageProblem, match="at least one forward"):
        Tunnel(spec, [])
    same = ForwardSpec("a", "127.0.0.1", 8080, "n", 1)
    with pytest.raises(UsageProblem, match="unique"):
        Tunnel(spec, [same, same])
    with pytest.raises(UsageProblem, match="same local address"):
        Tunnel(spec, [same, ForwardSpec("b", "127.0.0.1", 8080, "n", 2)])
    with pytest.raises(UsageProblem, match="backend"):
        Tunnel(spec, [same], backend="putty")


def test_openssh_command_line_enforces_the_same_policy(ssh_config: SshConfigFile) -> None:
    route = resolve_route(BastionSpec(host="bastion", host_key_policy="accept-new"), ssh_config)
    options = ConnectOptions(
        connect_timeout=4.5, keepalive_interval=15, keepalive_count_max=3, use_agent=False
    )
    argv = build_argv(
        route, [(ForwardSpec("ingress", "127.0.0.1", 0, "node", 30998), 8080)], options, "/usr/bin/ssh"
    )
    joined = shlex.join(argv)
    for expected in (
        "-F none",
        "BatchMode=yes",
        "StrictHostKeyChecking=accept-new",
        "ExitOnForwardFailure=yes",
        "ServerAliveInterval=15",
        "ServerAliveCountMax=3",
        "ConnectTimeout=5",
        "IdentityAgent=none",
        "-L 127.0.0.1:8080:node:30998",
        "-p 2202 -l ops",
    ):
        assert expected in joined
    assert argv[-1] == "bastion.example.internal"
    proxy = next(a for a in argv if a.startswith("ProxyCommand="))
    assert "-W bastion.example.internal:2202" in proxy and "gate.example.internal" in proxy
    assert "StrictHostKeyChecking=accept-new" in proxy  # every hop under the same policy


def test_nested_proxy_commands_escape_percent(tmp_path: Path) -> None:
    spec = BastionSpec(host="target", proxy_jump="a,b", identity_file=str(tmp_path / "id%x"))
    route = resolve_route(spec, SshConfigFile.load("none"))
    command = proxy_command(route, 2, ConnectOptions(), "ssh")
    assert command is not None
    assert "%%x" in command  # ssh expands %-tokens once per level
    inner = shlex.split(command.replace("%%", "%"))
    assert inner[inner.index("-W") + 1] == "target:22"
    assert any(arg.startswith("ProxyCommand=") and "-W b:22" in arg for arg in inner)


def test_equivalent_command_is_what_a_person_types() -> None:
    route = resolve_route(
        BastionSpec(
            host="bastion.example.internal", port=2222, user="ops", identity_file="/k/id", proxy_jump="j@gate"
        ),
        SshConfigFile.load("none"),
    )
    line = equivalent_command(route, [(ForwardSpec("ingress", "127.0.0.1", 8080, "node1", 30998), 8080)])
    assert line == "ssh -N -L 8080:node1:30998 -J j@gate:22 -i /k/id -p 2222 ops@bastion.example.internal"


def test_example_profile_loads_and_uses_placeholder_names() -> None:
    from platform_kb.paths import ProjectPaths
    from platform_kb.profiles import load_profile

    path = ProjectPaths.discover(Path(__file__).parent).profiles / "homelab.example.yaml"
    profile = load_profile(str(path))
    assert profile.bastion.host == "bastion.example.internal"
    assert profile.node.host == "k8s-node.example.internal"
    assert profile.bastion.host_key_policy == "yes"
    assert [f.describe() for f in profile.forwards] == [
        "127.0.0.1:8080 -> k8s-node.example.internal:30998",
        "127.0.0.1:0 -> k8s-node.example.internal:6443",
    ]
    tunnel = Tunnel.from_profile(profile)
    assert "ssh -N -L 8080:k8s-node.example.internal:30998" in tunnel.equivalent_command()
