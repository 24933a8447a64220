"""Host-key verification against OpenSSH known_hosts files, with OpenSSH's policies.

Second step of the tunnel flow: after the SSH handshake (:mod:`.session`) and before any
authentication, the server's key is checked here for every hop. Both backends depend on it:
the OpenSSH-process backend starts ``ssh`` only after this check passed (and runs it with the
same policy and files), so a refusal always carries the same message.

Policies (ssh_config(5) ``StrictHostKeyChecking``):

* ``yes`` — the key must already be in a known_hosts file;
* ``accept-new`` — an unknown host's key is appended to the first user known_hosts file;
  a changed key is refused as under ``yes``.

Never a silent accept. Lookups follow OpenSSH: the name is ``host`` on port 22 and
``[host]:port`` otherwise; entries may be hashed (``|1|salt|hmac``), carry comma-separated
patterns with ``*``/``?`` wildcards and ``!`` negation, or the ``@revoked`` marker
(openssh/openssh-portable hostfile.c, match.c).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import paramiko

from .errors import HostKeyError
from .sshconfig import Hop

HASH_MAGIC = "|1|"
# known_hosts key type -> host key algorithms that use it (rsa keys sign with sha2 algorithms)
KEY_ALGORITHMS = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:...`` exactly as ``ssh-keygen -l`` and OpenSSH's messages print it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def blob_fingerprint(key_b64: str) -> str:
    try:
        digest = hashlib.sha256(base64.b64decode(key_b64)).digest()
    except (binascii.Error, ValueError):
        return "(unreadable key)"
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _match_pattern(name: str, pattern: str) -> bool:
    """OpenSSH wildcards: only ``*`` and ``?`` (``[`` is literal, as in ``[host]:port``); case-insensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(regex, name.lower(), re.DOTALL) is not None


def _match_hashed(name: str, field: str) -> bool:
    try:
        _empty, _magic, salt_b64, hash_b64 = field.split("|")
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
    except (ValueError, binascii.Error):
        return False
    actual = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(actual, expected)


def hostnames_match(field: str, name: str) -> bool:
    """True if the known_hosts host field matches ``name`` (match_hostname() in match.c)."""
    if field.startswith(HASH_MAGIC):
        return _match_hashed(name, field)
    matched = False
    for pattern in field.split(","):
        negated = pattern.startswith("!")
        if _match_pattern(name, pattern[1:] if negated else pattern):
            if negated:
                return False
            matched = True
    return matched


def hash_hostname(name: str, salt: bytes | None = None) -> str:
    """The ``|1|salt|hmac`` form ``ssh-keygen -H`` and ``HashKnownHosts yes`` write."""
    salt = salt or os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"{HASH_MAGIC}{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class KnownHostEntry:
    """One key line of a known_hosts file."""

    path: str
    line: int
    hosts: str
    key_type: str
    key_b64: str
    marker: str | None = None  # "@revoked" or "@cert-authority"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def fingerprint(self) -> str:
        return blob_fingerprint(self.key_b64)

    def same_key(self, key: paramiko.PKey) -> bool:
        return self.key_type == key.get_name() and self.key_b64 == key.get_base64()


def parse_known_hosts(path: str) -> list[KnownHostEntry]:
    """All usable lines of one file (a missing file has none); comments and junk are skipped like OpenSSH."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise HostKeyError(f"cannot read known_hosts file {path}: {exc.strerror}") from exc
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        marker = None
        if parts[0].startswith("@"):
            marker, parts = parts[0], parts[1:]
        if len(parts) < 3:
            continue
        entries.append(KnownHostEntry(path, number, parts[0], parts[1], parts[2], marker))
    return entries


@dataclass(frozen=True)
class KnownHosts:
    """The known_hosts files of one hop: user files (writable) then global ones (read only)."""

    user_files: tuple[str, ...]
    global_files: tuple[str, ...] = ()

    @classmethod
    def for_hop(cls, hop: Hop) -> KnownHosts:
        return cls(hop.known_hosts, hop.global_known_hosts)

    def entries(self, name: str) -> list[KnownHostEntry]:
        found = []
        for path in (*self.user_files, *self.global_files):
            found.extend(e for e in parse_known_hosts(path) if hostnames_match(e.hosts, name))
        return found

    def describe(self) -> str:
        return ", ".join((*self.user_files, *self.global_files)) or "(none)"

    def append(self, name: str, key: paramiko.PKey, hashed: bool = False) -> str:
        """Append ``name key`` to the first user file (created with its folder); return ``path:line``."""
        if not self.user_files:
            raise HostKeyError(f"cannot record the host key of {name}: no known_hosts file configured")
        path = Path(self.user_files[0])
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        existing = path.read_bytes() if path.exists() else b""
        prefix = b"" if not existing or existing.endswith(b"\n") else b"\n"
        host_field = hash_hostname(name) if hashed else name
        line = f"{host_field} {key.get_name()} {key.get_base64()}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, prefix + line)
        finally:
            os.close(fd)
        number = (existing + prefix).count(b"\n") + 1
        return f"{path}:{number}"


def preferred_key_types(entries: Iterable[KnownHostEntry], supported: Sequence[str]) -> list[str]:
    """Host-key algorithms reordered so that the types already known come first (as OpenSSH does)."""
    known: list[str] = []
    for entry in entries:
        if entry.marker is None:
            for algorithm in KEY_ALGORITHMS.get(entry.key_type, (entry.key_type,)):
                if algorithm in supported and algorithm not in known:
                    known.append(algorithm)
    return known + [t for t in supported if t not in known]


@dataclass(frozen=True)
class Verified:
    """The outcome of a passed check: where the key is recorded and whether we just wrote it."""

    host: str
    fingerprint: str
    location: str
    recorded: bool


def verify_host_key(hop: Hop, key: paramiko.PKey, known: KnownHosts | None = None) -> Verified:
    """Check ``key`` offered by ``hop`` against known_hosts under the hop's policy; HostKeyError if refused."""
    known = known or KnownHosts.for_hop(hop)
    name = hop.known_hosts_name
    offered = f"{key.get_name()} {fingerprint(key)}"
    entries = known.entries(name)
    revoked = [e for e in entries if e.marker == "@revoked" and e.same_key(key)]
    if revoked:
        raise HostKeyError(
            f"host key for {name} is REVOKED: the server offered {offered}, "
            f"marked @revoked at {revoked[0].location}. Not connecting."
        )
    plain = [e for e in entries if e.marker is None]
    for entry in plain:
        if entry.same_key(key):
            return Verified(name, fingerprint(key), entry.location, recorded=False)
    if plain:
        _refuse_changed(name, offered, key, plain)
    if hop.host_key_policy == "accept-new":
        location = known.append(name, key, hashed=hop.hash_known_hosts)
        return Verified(name, fingerprint(key), location, recorded=True)
    raise HostKeyError(
        f"host key verification failed for {name}: the host is not in known_hosts ({known.describe()}) "
        f'and host_key_policy is "yes". The server offered {offered}. Check this fingerprint out of band, '
        f"then add the key (ssh-keyscan{_port_flag(hop)} {hop.hostname} >> {known.user_files[0] if known.user_files else 'known_hosts'}) "
        f"or use host_key_policy accept-new."
    )


def _port_flag(hop: Hop) -> str:
    return f" -p {hop.port}" if hop.port != 22 else ""


def _refuse_changed(name: str, offered: str, key: paramiko.PKey, entries: list[KnownHostEntry]) -> None:
    same_type = [e for e in entries if e.key_type == key.get_name()]
    entry = (same_type or entries)[0]
    what = "a different key" if same_type else f"only a {entry.key_type} key"
    raise HostKeyError(
        f"HOST KEY MISMATCH for {name}: the server offered {offered}, but {entry.location} has {what} "
        f"({entry.key_type} {entry.fingerprint}). Someone may be intercepting the connection, or the host "
        f"key was changed. Not connecting. If the change is expected, remove that line "
        f"(ssh-keygen -R '{name}' -f {entry.path}) and connect again."
    )
