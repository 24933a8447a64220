"""The real Spark History Server (shipped with pyspark) reading the lab's event-log directory.

Where this sits: ``kb lab up`` starts it (``$SPARK_HOME/bin/spark-class
org.apache.spark.deploy.history.HistoryServer`` with ``SPARK_HISTORY_OPTS``) on the node address
and, once the lab API is up, creates what the homelab's Helm release would: a Service, its
Endpoints (the server is not a pod, so a Service without selector and hand-made Endpoints) and an
Ingress ``/spark-history(/|$)(.*)`` with ``rewrite-target: /$2``. The lab's event-log directory
stands in for ``s3a://datalake/logs/spark-log/``.

Behind that prefix the History Server needs ``spark.ui.proxyBase=/spark-history`` (links and
static resources) and ``spark.ui.proxyRedirectUri=/`` (redirects keep the prefix); see Spark
``core/src/main/scala/org/apache/spark/ui/UIUtils.scala`` (``uiRoot``) and ``JettyUtils``
(``ProxyRedirectHandler``).

Accept queue: Spark has no configuration key for the UI server's listen backlog, and every Spark UI
— the homelab's History Server included, whatever its Helm values — listens with a backlog of 1
(see :mod:`.backlog` for the upstream code). Once the server answers, the lab raises the backlog of
its listening socket to :data:`ACCEPT_QUEUE` (:func:`.backlog.raise_backlog`) and writes the outcome
to the History Server log.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from platform_kb.errors import MissingPrerequisite
from platform_kb.processes import ProcessRecord, spawn, wait_until

from .backlog import BacklogResult, raise_backlog
from .config import LabSettings

NAMESPACE = "spark"
SERVICE_NAME = "spark-history-server"
PATH_PREFIX = "/spark-history"
PORT_NAME = "http"
UPDATE_INTERVAL = "2s"
ACCEPT_QUEUE = 128  # what the kernel caps it at anyway on older systems (net.core.somaxconn)


def find_spark_home() -> Path:
    """The pyspark package directory (it ships ``bin/spark-class`` and the jars)."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.origin:
        raise MissingPrerequisite(
            "pyspark is not installed: run scripts/setup (installs the project's `lab` extra)"
        )
    home = Path(spec.origin).parent
    if not (home / "bin" / "spark-class").exists():
        raise MissingPrerequisite(
            f"pyspark at {home} has no bin/spark-class: reinstall pyspark (the `lab` extra)"
        )
    return home


def find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(Path(java_home) / "bin" / "java", os.X_OK):
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found:
        return found
    raise MissingPrerequisite(
        "Java not found: install the Debian package openjdk-17-jre-headless (scripts/setup does)"
    )


@dataclass
class HistoryServer:
    settings: LabSettings
    record: ProcessRecord | None = None

    @property
    def log(self) -> Path:
        return self.settings.logs_dir / "history-server.log"

    @property
    def url(self) -> str:
        return self.settings.history_url

    def options(self) -> str:
        s = self.settings
        return " ".join(
            [
                f"-Dspark.history.fs.logDirectory={s.events_dir.as_uri()}",
                f"-Dspark.history.ui.port={s.history_port}",
                f"-Dspark.history.fs.update.interval={UPDATE_INTERVAL}",
                "-Dspark.history.fs.cleaner.enabled=false",
                f"-Dspark.ui.proxyBase={PATH_PREFIX}",
                "-Dspark.ui.proxyRedirectUri=/",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
            ]
        )

    def start(self) -> ProcessRecord:
        """Start it in its own session; readiness is :meth:`wait_ready` (the JVM takes seconds)."""
        home = find_spark_home()
        find_java()
        self.settings.events_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            {
                "SPARK_HOME": str(home),
                "SPARK_LOCAL_IP": self.settings.node,
                "SPARK_HISTORY_OPTS": self.options(),
                "SPARK_DAEMON_MEMORY": "384m",
            }
        )
        argv = [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"]
        _proc, self.record = spawn("history-server", argv, self.log, env=env)
        return self.record

    def applications(self, timeout: float = 2.0) -> list[dict[str, Any]] | None:
        """``GET /api/v1/applications``; None while the server does not answer."""
        try:
            response = httpx.get(f"{self.url}/api/v1/applications", timeout=timeout, trust_env=False)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            return list(response.json())
        except ValueError:
            return None

    def wait_ready(self, timeout: float = 90.0) -> bool:
        def ready() -> bool:
            if self.record is not None and not self.record.alive():
                raise RuntimeError(f"the History Server exited; see {self.log}")
            return self.applications() is not None

        if not wait_until(ready, timeout, interval=0.25):
            return False
        self.raise_backlog()
        return True

    def raise_backlog(self) -> BacklogResult | None:
        """Raise the listen backlog Spark sets (1) to :data:`ACCEPT_QUEUE`; the outcome goes to the log."""
        if self.record is None:
            return None
        s = self.settings
        result = raise_backlog(self.record.pid, s.node, s.history_port, ACCEPT_QUEUE)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as out:
            out.write(f"platform_kb_lab.history: {result.detail}\n")
        return result

    def wait_listed(self, app_id: str, completed: bool = True, timeout: float = 60.0) -> bool:
        """Wait until the History Server lists ``app_id`` (and, by default, as completed)."""

        def listed() -> bool:
            for app in self.applications() or []:
                if app.get("id") == app_id:
                    attempts = app.get("attempts") or [{}]
                    return not completed or bool(attempts[-1].get("completed"))
            return False

        return wait_until(listed, timeout, interval=0.5)

    def stop(self) -> None:
        if self.record is not None:
            self.record.stop()
            self.record = None


def history_objects(settings: LabSettings) -> list[tuple[str, dict[str, Any]]]:
    """(plural, object) pairs exposing the History Server through the ingress, in creation order."""
    labels = {
        "app.kubernetes.io/name": "spark-history-server",
        "app.kubernetes.io/part-of": "platform-kb-lab",
    }
    meta = {"name": SERVICE_NAME, "namespace": NAMESPACE, "labels": labels}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": dict(meta),
        "spec": {
            "type": "ClusterIP",
            "ports": [{"name": PORT_NAME, "port": 18080, "targetPort": settings.history_port}],
        },
    }
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": dict(meta),
        "subsets": [
            {
                "addresses": [{"ip": settings.node}],
                "ports": [{"name": PORT_NAME, "port": settings.history_port, "protocol": "TCP"}],
            }
        ],
    }
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {**meta, "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": PATH_PREFIX + "(/|$)(.*)",
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": SERVICE_NAME, "port": {"number": 18080}}},
                            }
                        ]
                    }
                }
            ],
        },
    }
    return [("services", service), ("endpoints", endpoints), ("ingresses", ingress)]
