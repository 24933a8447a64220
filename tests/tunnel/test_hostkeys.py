"""Host-key verification against known_hosts files, without a network (keys made by ssh-keygen)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko
import pytest

from platform_kb.tunnel import HostKeyError
from platform_kb.tunnel.hostkeys import (
    KnownHosts,
    fingerprint,
    hash_hostname,
    hostnames_match,
    preferred_key_types,
    verify_host_key,
)
from platform_kb.tunnel.sshconfig import Hop
from platform_kb_lab.sshd import generate_key, public_key


@pytest.fixture(scope="module")
def host_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostkeys")
    return {
        "a": generate_key(folder / "a"),
        "b": generate_key(folder / "b"),
        "rsa": generate_key(folder / "rsa", key_type="rsa"),
    }


def pkey(path: Path) -> paramiko.PKey:
    return paramiko.PKey.from_path(str(path))


def hop(
    known: Path, port: int = 2222, policy: str = "yes", host: str = "127.0.0.1", hashed: bool = False
) -> Hop:
    return Hop(
        host, host, port, "ops", known_hosts=(str(known),), host_key_policy=policy, hash_known_hosts=hashed
    )


def line(name: str, key_path: Path) -> str:
    return f"{name} {' '.join(public_key(key_path).split()[:2])}\n"


def test_fingerprint_matches_ssh_keygen(host_keys: dict[str, Path]) -> None:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(host_keys["a"]) + ".pub"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert fingerprint(pkey(host_keys["a"])) == out.split()[1]


@pytest.mark.parametrize(
    ("field", "name", "expected"),
    [
        ("bastion.example.internal", "bastion.example.internal", True),
        ("BASTION.example.internal", "bastion.example.internal", True),
        ("other,bastion", "bastion", True),
        ("*.example.internal", "bastion.example.internal", True),
        ("*.example.internal,!bastion.example.internal", "bastion.example.internal", False),
        ("bast?on", "bastion", True),
        ("[127.0.0.1]:2222", "[127.0.0.1]:2222", True),
        ("[127.0.0.1]:2222", "127.0.0.1", False),
        ("127.0.0.1", "[127.0.0.1]:2222", False),
        ("[127.0.0.1]:*", "[127.0.0.1]:2222", True),
    ],
)
def test_hostname_patterns(field: str, name: str, expected: bool) -> None:
    assert hostnames_match(field, name) is expected


def test_hashed_names_match_only_their_host() -> None:
    field = hash_hostname("[10.0.0.5]:2222")
    assert field.startswith("|1|")
    assert hostnames_match(field, "[10.0.0.5]:2222")
    assert not hostnames_match(field, "[10.0.0.5]:22")
    assert not hostnames_match(field, "10.0.0.5")


def test_known_key_passes_and_names_its_line(tmp_path: Path, host_keys: dict[str, Path]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(
        "# comment\n\n" + line("other", host_keys["b"]) + line("[127.0.0.1]:2222", host_keys["a"])
    )
    verified = verify_host_key(hop(known), pkey(host_keys["a"]))
    assert verified.location == f"{known}:4"
    assert not verified.recorded


def test_ssh_keygen_hashed_file_is_understood(tmp_path: Path, host_keys: dict[str, Path]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(line("[127.0.0.1]:2222", host_keys["a"]))
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], check=True, capture_output=True)
    assert "|1|" in known.read_text() and "127.0.0.1" not in known.read_text()
    assert verify_host_key(hop(known), pkey(host_keys["a"])).location == f"{known}:1"
    with pytest.raises(HostKeyError, match="MISMATCH"):
        verify_host_key(hop(known), pkey(host_keys["b"]))


def test_changed_key_is_refused_with_host_fingerprint_and_line(
    tmp_path: Path, host_keys: dict[str, Path]
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(line("bastion", host_keys["b"]) + line("[127.0.0.1]:2222", host_keys["b"]))
    for policy in ("yes", "accept-new"):
        with pytest.raises(HostKeyError) as info:
            verify_host_key(hop(known, policy=policy), pkey(host_keys["a"]))
        message = str(info.value)
        assert "[127.0.0.1]:2222" in message
        assert fingerprint(pkey(host_keys["a"])) in message  # what the server offered
        assert f"{known}:2" in message  # the entry it contradicts
        assert fingerprint(pkey(host_keys["b"])) in message
    assert known.read_text().count("\n") == 2  # accept-new never overwrites


def test_unknown_host_refused_under_yes(tmp_path: Path, host_keys: dict[str, Path]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(line("[127.0.0.1]:2223", host_keys["a"]))  # another port is another host
    with pytest.raises(HostKeyError, match=r"not in known_hosts.*SHA256:"):
        verify_host_key(hop(known), pkey(host_keys["a"]))


def test_accept_new_records_then_yes_accepts(tmp_path: Path, host_keys: dict[str, Path]) -> None:
    known = tmp_path / "sub" / "known_hosts"  # folder created on first record
    recorded = verify_host_key(hop(known, policy="accept-new"), pkey(host_keys["a"]))
    assert recorded.recorded and recorded.location == f"{known}:1"
    assert known.read_text() == line("[127.0.0.1]:2222", host_keys["a"])
    again = verify_host_key(hop(known, policy="yes"), pkey(host_keys["a"]))
    assert not again.recorded and again.location == f"{known}:1"


def test_accept_new_appends_hashed_after_a_line_without_newline(
    tmp_path: Path, host_keys: dict[str, Path]
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(line("other", host_keys["b"]).rstrip("\n"))
    recorded = verify_host_key(hop(known, policy="accept-new", port=22, hashed=True), pkey(host_keys["a"]))
    assert recorded.location == f"{known}:2"
    lines = known.read_text().splitlines()
    assert lines[1].startswith("|1|") and len(lines) == 2
    assert verify_host_key(hop(known, port=22), pkey(host_keys["a"])).location == f"{known}:2"


def test_revoked_key_is_refused(tmp_path: Path, host_keys: dict[str, Path]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("@revoked " + line("*", host_keys["a"]) + line("[127.0.0.1]:2222", host_keys["a"]))
    with pytest.raises(HostKeyError, match="REVOKED"):
        verify_host_key(hop(known), pkey(host_keys["a"]))


def test_only_other_key_type_known_is_refused(tmp_path: Path, host_keys: dict[str, Path]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(line("[127.0.0.1]:2222", host_keys["rsa"]))
    with pytest.raises(HostKeyError, match="only a ssh-rsa key"):
        verify_host_key(hop(known, policy="accept-new"), pkey(host_keys["a"]))


def test_known_key_types_are_preferred(tmp_path: Path, host_keys: dict[str, Path]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(line("[127.0.0.1]:2222", host_keys["rsa"]))
    supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"]
    ordered = preferred_key_types(KnownHosts((str(known),)).entries("[127.0.0.1]:2222"), supported)
    assert ordered == ["rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519", "ecdsa-sha2-nistp256"]
