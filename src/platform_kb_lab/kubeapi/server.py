"""The lab Kubernetes API over HTTP: a threaded server in front of :class:`.handlers.KubeApi`.

Last stop in the flow: a client (the official ``kubernetes`` Python client, ``kubectl``, the
runbooks through the lab tunnel) sends a request; this module reads it (HTTP/1.1 keep-alive,
chunked request bodies), hands it to :meth:`.handlers.KubeApi.handle` and writes the answer, or
streams a watch as chunked JSON lines until the client goes away. The paths, verbs and answers are
in ``handlers.py`` (resources), ``discovery.py`` (discovery, version, health, OpenAPI) and
``watch.py``; they follow the real API server (kubernetes/kubernetes
``staging/src/k8s.io/apiserver/pkg/endpoints``). Plain HTTP, no authentication: it is a lab
stand-in, bound to loopback.

Why not kmock (PyPI ``kmock`` 0.8, an HTTP Kubernetes API emulator): checked its source before
writing this. It runs on aiohttp (four more dependencies) and, as of 0.8, fills neither ``uid`` nor
``resourceVersion`` nor ``creationTimestamp``, answers lists with ``resourceVersion: "..."``,
ignores ``labelSelector``/``fieldSelector``, ignores ``resourceVersion``/``timeoutSeconds`` on
watches, and keeps its objects in an asyncio-locked structure that in-process lab parts could not
call synchronously. Closing those gaps meant rewriting most of its Kubernetes layer, so this
module is a small threaded server over the standard library instead.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from platform_kb.errors import KbError
from platform_kb_lab.kubeapi.errors import BadRequest, status_body
from platform_kb_lab.kubeapi.handlers import KubeApi, PodLogProvider
from platform_kb_lab.kubeapi.routing import Response, error_response, json_response
from platform_kb_lab.kubeapi.store import ObjectStore

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- HTTP framing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "platform-kb-lab-kubeapi"
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    # headers and body leave in one segment, without Nagle: otherwise every answer waits ~40 ms
    # for the client's delayed ACK
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    server: _HttpServer

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        api = self.server.api
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(error_response(BadRequest("the request body could not be read")))
            return
        try:
            response = api.handle(method, self.path, self.headers, body)
        except Exception as exc:  # a bug here must still answer like an API server
            log.exception("lab kube API failed on %s %s", method, self.path)
            response = json_response(500, status_body(500, "InternalError", f"internal error: {exc}"))
        log.debug("%s %s -> %d", method, self.path, response.code)
        if response.stream is None:
            self._send(response)
        else:
            self._stream(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        self.send_response(response.code)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()

    def _stream(self, response: Response) -> None:
        assert response.stream is not None
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        try:
            for item in response.stream:
                if item is None:
                    if self._client_gone():
                        return
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(item), item))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            return
        finally:
            close = getattr(response.stream, "close", None)
            if close is not None:
                close()

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server signature
        log.debug("%s - " + format, self.address_string(), *args)


class _HttpServer(HTTPServer):
    """One thread per connection; every connection and thread is tracked so stop() ends them."""

    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], api: KubeApi) -> None:
        self.api = api
        self._guard = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            daemon=True,
            name=f"kubeapi-conn-{client_address[1]}",
        )
        with self._guard:
            self._connections.add(request)
            self._threads.add(thread)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            log.debug("connection from %s ended with an error", client_address, exc_info=True)
        finally:
            self.shutdown_request(request)
            with self._guard:
                self._connections.discard(request)
                self._threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error on connection from %s", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        with self._guard:
            connections, threads = list(self._connections), list(self._threads)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))


class KubeApiServer:
    """The lab API server: ``start()`` serves in a background thread, ``stop()`` ends every connection."""

    def __init__(
        self,
        store: ObjectStore,
        host: str = "127.0.0.2",
        port: int = 6443,
        *,
        pod_log: PodLogProvider | None = None,
    ) -> None:
        self.store = store
        self.host = host
        self.port = port
        self.api = KubeApi(store, pod_log)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> None:
        """Listen on host:port (port 0 picks a free one and updates ``port``); KbError when taken."""
        if self._httpd is not None:
            return
        try:
            self._httpd = _HttpServer((self.host, self.port), self.api)
        except OSError as exc:
            raise KbError(f"lab kube API cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._httpd.server_address[1]
        self.api.address = f"{self.host}:{self.port}"
        self.api.stopping.clear()

    def start(self) -> KubeApiServer:
        """Bind and serve in a daemon thread; returns self."""
        self.bind()
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kubeapi-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end watches and open connections, free the port."""
        httpd = self._httpd
        if httpd is None:
            return
        self.api.stopping.set()
        self.store.wake_watchers()
        httpd.shutdown()
        httpd.close_connections(timeout)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kubeconfig(server_url: str, namespace: str = "default", name: str = "lab") -> dict[str, Any]:
    """A kubeconfig for the lab API (no credentials: the lab API has no authentication)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server_url}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }
