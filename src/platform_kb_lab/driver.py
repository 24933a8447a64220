"""Real Spark drivers for the lab: the operator asks, this module starts a local pyspark process.

Where this sits: :class:`platform_kb_lab.operator.SparkOperator` turns a SparkApplication into a
:class:`DriverRequest` and calls a :class:`DriverLauncher`. :class:`SparkDriverLauncher` writes the
driver's spec (the application's ``sparkConf``, the operator-set conf, the lab overlay) into the
lab's run directory and starts ``python -m platform_kb_lab.driver SPEC`` in its own session. That
runner (:func:`run_driver`) builds a ``local[1]`` SparkSession bound on the node address, writes a
status file with the application id and the real UI address once the session is up, runs the job
named by ``mainApplicationFile`` (``platform_kb_lab.jobs``) and stops Spark, so the event log is
complete for the History Server.

Lab overlay on the driver's conf (what a pod and its spark-submit would provide): ``spark.master``
``local[1]``, ``spark.app.name`` = the application's name, bind/host = node address, a free
``spark.ui.port`` on the node address unless the application sets one, and an event-log dir of
``s3a://…`` (the homelab's MinIO bucket) mapped to the lab's event-log directory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from platform_kb.processes import ProcessRecord, port_bindable, port_open, spawn, wait_until

from .config import LabSettings

STATUS_FILE = "status.json"
SPEC_FILE = "spec.json"


@dataclass(frozen=True)
class DriverRequest:
    """What the operator asks for: one driver for one submission of one application."""

    namespace: str
    app_name: str
    pod_name: str
    submission_id: str
    main_application_file: str
    arguments: tuple[str, ...] = ()
    spark_conf: dict[str, str] = field(default_factory=dict)


class DriverHandle(Protocol):
    """A launched driver as the operator watches it."""

    record: ProcessRecord | None

    def ui_address(self) -> tuple[str, int] | None:
        """(host, port) of the driver UI once it serves pages; None before."""

    def application_id(self) -> str | None: ...

    def poll(self) -> int | None:
        """The exit code once the driver has ended, else None."""

    def stop(self, timeout: float = 8.0) -> None: ...


class DriverLauncher(Protocol):
    def launch(self, request: DriverRequest) -> DriverHandle: ...


# ---------------------------------------------------------------------------- the launcher


class SparkDriverLauncher:
    """Starts real pyspark drivers on the node address; picks each one a free UI port."""

    def __init__(self, settings: LabSettings, python: str | None = None) -> None:
        self.settings = settings
        self.python = python or sys.executable
        self._taken: dict[int, SparkDriverProcess] = {}
        self._lock = threading.Lock()

    def pick_ui_port(self) -> int:
        """The first port from ``ui_base_port`` that no live lab driver holds and that binds."""
        with self._lock:
            for port in range(self.settings.ui_base_port, self.settings.ui_base_port + 200):
                holder = self._taken.get(port)
                if holder is not None and holder.poll() is None:
                    continue
                if port_bindable(self.settings.node, port):
                    return port
        raise RuntimeError(f"no free Spark UI port on {self.settings.node} from {self.settings.ui_base_port}")

    def driver_conf(self, request: DriverRequest, ui_port: int) -> dict[str, str]:
        """The application's conf with the lab overlay (see the module docstring)."""
        conf = dict(request.spark_conf)
        node = self.settings.node
        conf["spark.master"] = "local[1]"
        conf["spark.app.name"] = request.app_name
        conf["spark.submit.deployMode"] = "client"
        conf["spark.driver.bindAddress"] = node
        conf["spark.driver.host"] = node
        conf.setdefault("spark.ui.port", str(ui_port))
        conf.setdefault("spark.driver.memory", "512m")
        conf.setdefault("spark.ui.showConsoleProgress", "false")
        conf.setdefault("spark.sql.shuffle.partitions", "2")
        conf.setdefault("spark.driver.extraJavaOptions", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
        log_dir = conf.get("spark.eventLog.dir", "")
        if not log_dir or log_dir.startswith(("s3a://", "s3://")):
            conf["spark.eventLog.dir"] = self.settings.events_dir.as_uri()
        conf["spark.kubernetes.driver.pod.name"] = request.pod_name
        return conf

    def launch(self, request: DriverRequest) -> SparkDriverProcess:
        ui_port = self.pick_ui_port()
        workdir = (
            self.settings.drivers_dir / request.namespace / f"{request.pod_name}-{request.submission_id[:8]}"
        )
        workdir.mkdir(parents=True, exist_ok=True)
        self.settings.events_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "namespace": request.namespace,
            "app_name": request.app_name,
            "pod_name": request.pod_name,
            "main_application_file": request.main_application_file,
            "arguments": list(request.arguments),
            "conf": self.driver_conf(request, ui_port),
            "status_file": str(workdir / STATUS_FILE),
        }
        (workdir / SPEC_FILE).write_text(json.dumps(spec, indent=2))
        env = dict(os.environ)
        env["SPARK_LOCAL_IP"] = self.settings.node
        env["PYSPARK_PYTHON"] = self.python
        env["PYSPARK_DRIVER_PYTHON"] = self.python
        env.pop("SPARK_HOME", None)  # the pyspark package finds its own
        argv = [self.python, "-m", "platform_kb_lab.driver", str(workdir / SPEC_FILE)]
        proc, record = spawn(
            f"driver:{request.namespace}/{request.pod_name}",
            argv,
            workdir / "driver.log",
            env=env,
            cwd=workdir,
        )
        handle = SparkDriverProcess(workdir, proc, record, self.settings.node)
        with self._lock:
            self._taken[int(spec["conf"]["spark.ui.port"])] = handle
        return handle


class SparkDriverProcess:
    """One running driver process; its status file says when the UI is up and on which port."""

    def __init__(self, workdir: Path, proc: subprocess.Popen, record: ProcessRecord, node: str) -> None:
        self.workdir = workdir
        self.proc = proc
        self.record: ProcessRecord | None = record
        self.node = node
        self._status: dict[str, Any] = {}

    @property
    def log_path(self) -> Path:
        return self.workdir / "driver.log"

    @property
    def status_file(self) -> Path:
        return self.workdir / STATUS_FILE

    def status(self) -> dict[str, Any]:
        if not self._status.get("uiWebUrl") or "exitCode" not in self._status:
            try:
                self._status = json.loads(self.status_file.read_text())
            except (OSError, ValueError):
                pass
        return self._status

    def ui_address(self) -> tuple[str, int] | None:
        url = self.status().get("uiWebUrl")
        if not url:
            return None
        parts = urlsplit(url)
        host, port = parts.hostname or self.node, parts.port or 4040
        return (host, port) if port_open(host, port) else None

    def application_id(self) -> str | None:
        return self.status().get("applicationId")

    def poll(self) -> int | None:
        return self.proc.poll()

    def stop(self, timeout: float = 8.0) -> None:
        """SIGTERM to the runner (it stops Spark cleanly), then the whole group by pid if needed."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            wait_until(lambda: self.proc.poll() is not None, timeout)
        if self.record is not None:
            self.record.stop(timeout=3.0)
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass


# ---------------------------------------------------------------------------- the runner


def _write_status(path: Path, status: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status))
    tmp.replace(path)


def run_driver(spec_path: Path) -> int:
    """Inside the driver process: SparkSession, status file, the job, then a clean stop."""
    from .jobs import resolve_job

    spec = json.loads(spec_path.read_text())
    status_path = Path(spec["status_file"])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        job = resolve_job(spec["main_application_file"])
    except LookupError as exc:
        print(f"lab driver: {exc}", file=sys.stderr)
        _write_status(status_path, {"exitCode": 1, "error": str(exc)})
        return 1
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in spec["conf"].items():
        builder = builder.config(key, value)
    started = time.time()
    spark = builder.getOrCreate()
    context = spark.sparkContext
    status = {"applicationId": context.applicationId, "uiWebUrl": context.uiWebUrl, "startedAt": started}
    _write_status(status_path, status)
    print(f"lab driver: {context.applicationId} UI {context.uiWebUrl}", flush=True)
    code = 1
    try:
        code = int(job.run(spark, list(spec.get("arguments") or []), stop) or 0)
    except Exception:
        traceback.print_exc()
        code = 1
    finally:
        try:
            spark.stop()
        except Exception:
            traceback.print_exc()
    _write_status(status_path, {**status, "exitCode": code})
    return code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m platform_kb_lab.driver", description=run_driver.__doc__)
    parser.add_argument("spec", type=Path)
    args = parser.parse_args(argv)
    sys.exit(run_driver(args.spec))


if __name__ == "__main__":
    main()
