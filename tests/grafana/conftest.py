"""A Grafana stand-in process per configuration, and a client that strips the prefix like a rewrite.

Ingress placement: ingress-nginx with ``path: /grafana``, ``pathType: Prefix`` and no rewrite passes
the request path unchanged, so "behind the ingress" is the stand-in hit directly at its port. An
ingress that *strips* the prefix (``rewrite-target``) is :class:`StrippingTransport`, which rewrites
``/grafana/x`` to ``/x`` before the request leaves the client — no nginx process either way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from platform_kb.processes import ProcessRecord, free_port, spawn, wait_for_port

HOST = "127.0.0.1"
SUB_ROOT_URL = "%(protocol)s://%(domain)s:%(http_port)s/grafana/"
DEFAULT_ROOT_URL = "%(protocol)s://%(domain)s:%(http_port)s/"


@dataclass(frozen=True)
class StandIn:
    base_url: str
    record: ProcessRecord
    log: Path


def standin_argv(port: int, root_url: str, serve_from_sub_path: bool, version: str | None) -> list[str]:
    argv = [sys.executable, "-m", "platform_kb_lab.grafana", "--host", HOST, "--port", str(port)]
    argv += ["--root-url", root_url, "--serve-from-sub-path", "true" if serve_from_sub_path else "false"]
    return argv + (["--version", version] if version else [])


@pytest.fixture
def grafana(tmp_path: Path) -> Iterator[Callable[..., StandIn]]:
    """``grafana(root_url, serve_from_sub_path, version=None)`` -> a running stand-in (stopped by pid)."""
    records: list[ProcessRecord] = []

    def start(root_url: str, serve_from_sub_path: bool, version: str | None = None) -> StandIn:
        port = free_port(HOST)
        log = tmp_path / f"grafana-{port}.log"
        proc, record = spawn(
            "grafana-stand-in", standin_argv(port, root_url, serve_from_sub_path, version), log
        )
        records.append(record)
        wait_for_port(HOST, port, 20, proc, log)
        return StandIn(f"http://{HOST}:{port}", record, log)

    yield start
    for record in records:
        assert record.stop(timeout=10)


class StrippingTransport(httpx.BaseTransport):
    """An ingress with ``rewrite-target``: ``<prefix>(/|$)(.*)`` -> ``/$2``."""

    def __init__(self, prefix: str = "/grafana") -> None:
        self.prefix = prefix
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == self.prefix or path.startswith(self.prefix + "/"):
            path = "/" + path[len(self.prefix) :].lstrip("/")
        # a new request upstream; the client keeps the original as the response's request (its URL)
        upstream = httpx.Request(
            request.method, request.url.copy_with(path=path), headers=request.headers, stream=request.stream
        )
        return self.inner.handle_request(upstream)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def stripping_http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False, transport=StrippingTransport()) as client:
        yield client
