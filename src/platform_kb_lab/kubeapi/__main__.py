"""Run the lab Kubernetes API stand-in by hand: ``python -m platform_kb_lab.kubeapi --host H --port P``.

Serves an empty cluster (the standard namespaces and ``default/kubernetes``) plus the objects of
any ``--seed`` YAML files until SIGINT/SIGTERM. ``--kubeconfig PATH`` writes a kubeconfig for it.
The running lab (``kb lab up``) starts its own instance together with the operator emulation.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

import yaml

from platform_kb.errors import KbError
from platform_kb_lab.kubeapi.resources import RESOURCES
from platform_kb_lab.kubeapi.server import KubeApiServer, kubeconfig
from platform_kb_lab.kubeapi.store import ObjectStore


def _seed(store: ObjectStore, path: Path) -> int:
    count = 0
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc:
            continue
        try:
            resource = RESOURCES.by_api_version(str(doc.get("apiVersion", "")), str(doc.get("kind", "")))
        except KeyError as exc:
            raise KbError(f"{path}: {exc.args[0]}") from exc
        store.create(resource, (doc.get("metadata") or {}).get("namespace") or "default", doc)
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_kb_lab.kubeapi", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.2")
    parser.add_argument("--port", type=int, default=6443)
    parser.add_argument(
        "--seed", type=Path, action="append", default=[], help="YAML file of objects to create"
    )
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig for this server here")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )

    store = ObjectStore()
    store.bootstrap()
    server = KubeApiServer(store, args.host, args.port)
    try:
        for path in args.seed:
            _seed(store, path)
        server.bind()  # the port is known (and taken) before the kubeconfig names it
    except (KbError, OSError, yaml.YAMLError) as exc:
        print(f"kubeapi: error: {exc}", file=sys.stderr)
        return 2
    if args.kubeconfig:
        args.kubeconfig.write_text(yaml.safe_dump(kubeconfig(server.url)))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()  # accepting from here on: everything above is already in place
        print(f"lab kube API (stand-in) listening on {server.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
