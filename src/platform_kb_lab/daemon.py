"""The lab daemon: the lab's "control plane" in one process on the node address.

Where this sits: ``kb lab up`` writes ``.lab/run/daemon.json`` (the lab settings and the
scenario's operator settings) and starts ``python -m platform_kb_lab.daemon CONFIG`` detached.
The daemon builds the object store and the lab Kubernetes API server (``platform_kb_lab.kubeapi``,
on ``<node>:6443``), the ingress controller that keeps nginx in step (:mod:`.ingress`) and the
Spark operator emulation (:mod:`.operator`) with the real driver launcher (:mod:`.driver`). It
runs until SIGTERM/SIGINT, then stops the operator (and with it every driver it started), the
ingress controller and the API server, in that order. ``kb lab down`` stops it by its process
record; the drivers' records are in ``.lab/run/drivers.json`` for the case it could not.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import LabSettings
from .driver import SparkDriverLauncher
from .ingress import IngressController
from .nginx import Nginx
from .operator.controller import SparkOperator
from .operator.model import OperatorSettings

log = logging.getLogger("platform_kb_lab.daemon")


@dataclass(frozen=True)
class DaemonConfig:
    settings: LabSettings
    operator: OperatorSettings
    scenario: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings.to_json(),
            "operator": self.operator.to_json(),
            "scenario": self.scenario,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DaemonConfig:
        return cls(
            LabSettings.from_json(data["settings"]),
            OperatorSettings.from_json(data["operator"]),
            data.get("scenario", ""),
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2))

    @classmethod
    def read(cls, path: Path) -> DaemonConfig:
        return cls.from_json(json.loads(path.read_text()))


class LabDaemon:
    """Store + API server + ingress controller + operator, started and stopped together."""

    def __init__(self, config: DaemonConfig) -> None:
        from .kubeapi import KubeApiServer, ObjectStore

        self.config = config
        settings = config.settings
        self.store = ObjectStore()
        self.ingress = IngressController(self.store, settings, Nginx(settings))
        self.operator = SparkOperator(
            self.store,
            config.operator,
            SparkDriverLauncher(settings),
            node=settings.node,
            records_path=settings.drivers_file,
        )
        self.api = KubeApiServer(
            self.store, host=settings.node, port=settings.api_port, pod_log=self.operator.pod_log
        )

    def start(self) -> None:
        self.ingress.start()
        self.operator.start()
        self.api.start()
        log.info("lab API on %s, scenario %s", self.api.url, self.config.scenario or "-")

    def stop(self) -> None:
        log.info("stopping: operator (and its drivers), ingress controller, API server")
        self.operator.stop()
        self.ingress.stop()
        self.api.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m platform_kb_lab.daemon", description="The lab daemon.")
    parser.add_argument("config", type=Path, help="daemon.json written by `kb lab up`")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the ingress controller polls nginx's status port
    daemon = LabDaemon(DaemonConfig.read(args.config))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    daemon.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        daemon.stop()
    log.info("stopped")


if __name__ == "__main__":
    main()
