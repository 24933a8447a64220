"""A real OpenSSH ``sshd`` on a loopback port: the lab's bastion and the tests' SSH server.

Runs without root (own host key, own ``AuthorizedKeysFile``, ``StrictModes no``); as root it also
works (it then needs ``/run/sshd``, created here). Stopped by pid.

``extra_hosts`` adds ``ListenAddress`` lines: the lab's bastion also listens on the node address at
the same port, where the lab's hosts (``platform_kb_lab.monitoring``) are reached with ``ProxyJump``
through the bastion; :meth:`Sshd.known_hosts_lines` then names every address.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from platform_kb.processes import ProcessRecord, find_program, free_port, port_bindable, spawn, wait_for_port

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")


def find_sshd() -> str:
    return find_program(SSHD_CANDIDATES, "sshd", "openssh-server")


def generate_key(path: Path, comment: str = "platform-kb-lab", key_type: str = "ed25519") -> Path:
    """Create an unencrypted key pair at ``path`` (and ``path.pub``) unless it exists."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", str(path)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
    path.chmod(0o600)
    return path


def public_key(path: Path) -> str:
    return Path(str(path) + ".pub").read_text().strip()


def known_hosts_line(host: str, port: int, host_key: Path) -> str:
    """The known_hosts line OpenSSH writes for ``host:port``."""
    name = host if port == 22 else f"[{host}]:{port}"
    key_type, key_b64 = public_key(host_key).split()[:2]
    return f"{name} {key_type} {key_b64}"


SSHD_CONFIG = """\
# written by platform_kb_lab.sshd
Port {port}
{listen}
HostKey {host_key}
PidFile {pidfile}
AuthorizedKeysFile {authorized_keys}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowTcpForwarding yes
GatewayPorts no
X11Forwarding no
PrintMotd no
MaxStartups 200:30:400
MaxSessions 64
LogLevel {log_level}
ClientAliveInterval 0
"""


@dataclass
class Sshd:
    """One sshd: ``workdir`` holds its host key, config, authorized_keys and log."""

    workdir: Path
    host: str = "127.0.0.1"
    port: int = 0
    client_keys: list[Path] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)  # more ListenAddress entries, same port
    log_level: str = "INFO"
    record: ProcessRecord | None = None
    _proc: subprocess.Popen | None = None

    @property
    def host_key(self) -> Path:
        return self.workdir / "ssh_host_ed25519_key"

    @property
    def config_path(self) -> Path:
        return self.workdir / "sshd_config"

    @property
    def log_path(self) -> Path:
        return self.workdir / "sshd.log"

    def prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        generate_key(self.host_key, comment="platform-kb-lab-host")
        if not self.port:
            self.port = self._free_port()
        authorized = self.workdir / "authorized_keys"
        authorized.write_text("".join(public_key(k) + "\n" for k in self.client_keys))
        authorized.chmod(0o600)
        self.config_path.write_text(
            SSHD_CONFIG.format(
                port=self.port,
                listen="\n".join(f"ListenAddress {h}" for h in self.hosts),
                host_key=self.host_key,
                pidfile=self.workdir / "sshd.pid",
                authorized_keys=authorized,
                log_level=self.log_level,
            )
        )
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)

    @property
    def hosts(self) -> list[str]:
        """Every address sshd listens on (``host`` first), without duplicates."""
        return list(dict.fromkeys([self.host, *self.extra_hosts]))

    def _free_port(self, attempts: int = 50) -> int:
        """A port free on ``host`` and on every extra host."""
        for _ in range(attempts):
            port = free_port(self.host)
            if all(port_bindable(h, port) for h in self.hosts[1:]):
                return port
        raise RuntimeError(f"no port free on all of {', '.join(self.hosts)} after {attempts} tries")

    def start(self, timeout: float = 15.0) -> ProcessRecord:
        self.prepare()
        argv = [find_sshd(), "-D", "-e", "-f", str(self.config_path)]
        self._proc, self.record = spawn("sshd", argv, self.log_path)
        for host in self.hosts:
            wait_for_port(host, self.port, timeout, self._proc, self.log_path)
        return self.record

    def stop(self) -> None:
        if self.record is not None:
            self.record.stop()
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.record = None
        self._proc = None

    def known_hosts_line(self) -> str:
        return known_hosts_line(self.host, self.port, self.host_key)

    def known_hosts_lines(self) -> list[str]:
        """One known_hosts line per listen address (the same host key answers on each)."""
        return [known_hosts_line(h, self.port, self.host_key) for h in self.hosts]

    def __enter__(self) -> Sshd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
