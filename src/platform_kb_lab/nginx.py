"""A real nginx (Debian ``nginx-light``) as the lab's ingress-nginx, run without root.

Where this sits: ``kb lab up`` (:mod:`platform_kb_lab.manager`) starts nginx with
``-p PREFIX -c CONF`` (every path inside ``.lab/run/nginx``, the pid in a pid file there) and an
initial configuration that answers 404 to everything; the lab daemon's ingress controller
(:mod:`platform_kb_lab.ingress`) then writes configurations rendered from the Ingress objects,
tests each with ``nginx -t`` and reloads by sending SIGHUP to the master pid read from the pid
file, as ingress-nginx's controller does after a successful test. ``kb lab down`` stops it by
its process record.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from platform_kb.processes import ProcessRecord, descendants, find_program, spawn, wait_for_port, wait_until

from .config import LabSettings

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
VERSION_PATH = "/lab-config-version"


def find_nginx() -> str:
    return find_program(NGINX_CANDIDATES, "nginx", "nginx-light")


@dataclass
class Nginx:
    """One nginx instance of one lab: its prefix, configuration, pid file and logs."""

    settings: LabSettings
    record: ProcessRecord | None = None
    _retiring: list[ProcessRecord] = field(default_factory=list)

    @property
    def prefix(self) -> Path:
        return self.settings.nginx_prefix

    @property
    def conf(self) -> Path:
        return self.settings.nginx_conf

    @property
    def pid_file(self) -> Path:
        return self.settings.nginx_pid

    @property
    def log(self) -> Path:
        return self.settings.logs_dir / "nginx.log"

    def temp_path(self, name: str) -> Path:
        return self.prefix / "temp" / name

    def prepare(self) -> None:
        for name in TEMP_DIRS:
            self.temp_path(name).mkdir(parents=True, exist_ok=True)
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)

    def argv(self, *extra: str, conf: Path | None = None) -> list[str]:
        # -e: the error log before the configuration is read (else nginx tries /var/log/nginx as non-root)
        error_log = str(self.settings.logs_dir / "nginx-error.log")
        return [
            find_nginx(),
            "-p",
            str(self.prefix) + "/",
            "-e",
            error_log,
            "-c",
            str(conf or self.conf),
            *extra,
        ]

    def start(self, config_text: str, timeout: float = 15.0) -> ProcessRecord:
        """Write ``config_text``, start nginx in the foreground of its own session, wait for the port."""
        self.prepare()
        self.conf.write_text(config_text)
        ok, output = self.test()
        if not ok:
            raise RuntimeError(f"nginx rejected the initial configuration:\n{output}")
        proc, self.record = spawn("nginx", self.argv(), self.log)
        wait_for_port(self.settings.node, self.settings.ingress_port, timeout, proc, self.log)
        return self.record

    def test(self, conf: Path | None = None) -> tuple[bool, str]:
        """``nginx -t`` on a configuration file: (ok, nginx's output)."""
        result = subprocess.run(
            self.argv("-t", "-q", conf=conf),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
        return result.returncode == 0, (result.stdout + result.stderr).strip()

    def master_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def reload(self) -> bool:
        """SIGHUP to the master pid from the pid file; False when there is no running master.

        The workers running before the signal are remembered: until they have exited, a new
        connection may still be served with the previous configuration (see :meth:`settled`).
        """
        pid = self.master_pid()
        if pid is None:
            return False
        retiring = descendants(pid)
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            return False
        self._retiring = retiring
        return True

    def settled(self) -> bool:
        """True when no worker from before the last reload is still running."""
        return not any(worker.alive() for worker in self._retiring)

    def config_version(self) -> str | None:
        """The version the running nginx answers on its status port (None when it does not answer)."""
        url = f"http://{self.settings.node}:{self.settings.status_port}{VERSION_PATH}"
        try:
            response = httpx.get(url, timeout=1.0, trust_env=False)
        except httpx.HTTPError:
            return None
        return response.text.strip() if response.status_code == 200 else None

    def wait_version(self, version: str, timeout: float = 10.0) -> bool:
        """Wait until nginx answers with ``version`` and every worker of the old configuration is gone."""
        return wait_until(lambda: self.config_version() == version and self.settled(), timeout, interval=0.05)

    def stop(self) -> None:
        if self.record is not None:
            self.record.stop()
            self.record = None
