"""A lab STAND-IN, not Grafana: Grafana's HTTP behaviour under a sub-path, for issue #3-11 (monitoring).

``python -m platform_kb_lab.grafana --host H --port P --root-url URL --serve-from-sub-path true|false
[--version 12.x.y]`` serves until SIGTERM/SIGINT. Grafana has no Debian package on the lab machine,
so this small threaded server over the standard library reproduces only what decides whether
Grafana works behind ingress-nginx at ``/grafana`` — routing, redirects, the index page's
``<base href>`` and asset URLs, ``/api/health`` — for an *unauthenticated* browser. There are no
users, sessions, dashboards or database; nothing else of Grafana is emulated.

What is reproduced, and where upstream does it (grafana/grafana, read for this module):

* ``[server] root_url`` (default ``%(protocol)s://%(domain)s:%(http_port)s/``, ``conf/defaults.ini``)
  gets a trailing ``/`` and gives ``AppURL``; its path without the trailing ``/`` is ``AppSubURL``
  (``pkg/setting/setting.go``, ``parseAppUrlAndSubUrl``). ``%(name)s`` is the ini library's
  interpolation of other ``[server]`` keys; here ``protocol=http``, ``domain=localhost`` and
  ``http_port=3000`` (Grafana's defaults; ``--domain``/``--ini-http-port`` change them).
* ``serve_from_sub_path`` (default false, same files): when true and ``AppSubURL`` is set,
  ``pkg/api/http_server.go`` calls ``m.SetURLPrefix(AppSubURL)`` and adds
  ``middleware.SubPathRedirect``. ``pkg/web/macaron.go`` (``ServeHTTP``) then strips the prefix with
  ``strings.TrimPrefix`` from every request path before routing; ``pkg/middleware/subpath_redirect.go``
  answers a request whose RequestURI does not start with ``AppSubURL`` and not with ``/api`` with
  **301** to ``AppURL + RequestURI[1:]`` — an absolute URL built from ``root_url`` (since Grafana
  10.0, grafana/grafana PR #66724; before it, unprefixed paths were simply routed — ``--version``
  below 10 reproduces that). When false, nothing is stripped: a proxy that passes ``/grafana/...``
  unchanged reaches no route.
* Static files (``public/build``) are mapped before that middleware (``http_server.go``,
  ``mapStatic``), so ``/public/build/...`` answers with or without the prefix when it is stripped.
* ``/api/health`` (``http_server.go``, ``apiHealthHandler``: matches the *stripped* path exactly)
  answers 200 ``{"database": "ok", "version": ..., "commit": ...}`` (503 with ``"failing"`` when
  the database is down — not reproduced); ``/healthz`` answers ``Ok``.
* Routes (``pkg/api/api.go``): ``GET /login`` renders the index page without authentication;
  ``GET /`` requires sign-in; everything else falls to ``NotFound(ReqSignedIn, NotFoundHandler)``.
  For an unauthenticated request, ``ReqSignedIn`` (``pkg/middleware/auth.go``, ``notAuthorized``)
  answers API requests (path starting with ``/api``, ``IsApiRequest``) with 401 JSON and redirects
  everything else with **302** to ``AppSubURL + "/login"`` — so an unknown path under a
  non-stripped prefix is not a 404 but a redirect to ``<sub>/login``, which is itself unknown:
  a redirect loop. With the ``useSessionStorageForRedirection`` toggle (on by default since 11.5,
  grafana/grafana issue #102462) the Location carries ``?redirectTo=<RequestURI without
  AppSubURL>`` (``getRedirectToQueryParam``); before it, a ``redirect_to`` cookie is set instead
  (its exact attributes are not reproduced).
* The index page (``public/views/index.html``) has ``<base href="[[.AppSubUrl]]/">`` and, without
  a CDN (``GetContentDeliveryURL`` returns ``""``), *relative* ``public/build/...`` CSS/JS URLs —
  so the browser loads them from ``<AppSubURL>/public/build/...``. The stand-in's files are tiny
  and answer 200.
* ``X-Forwarded-*`` headers are ignored: the code above builds every URL from ``root_url``, never
  from request headers.

Not verified upstream (kept simple here): what the router does with an empty path left by
``TrimPrefix`` (a request for exactly ``/grafana``) — treated as ``/``; the 401 body beyond
``{"message": "Unauthorized"}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote_plus, urlsplit

DEFAULT_ROOT_URL = "%(protocol)s://%(domain)s:%(http_port)s/"
DEFAULT_VERSION = "12.2.0"
COMMIT = "platform-kb-lab-stand-in"
SUBPATH_REDIRECT_SINCE = (10, 0)  # grafana/grafana PR #66724
SESSION_STORAGE_REDIRECT_SINCE = (11, 5)  # useSessionStorageForRedirection on by default
HTML_TYPE = "text/html; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "deny"))


def parse_version(text: str) -> tuple[int, int]:
    """``12.2.0`` -> ``(12, 2)``; a leading ``v`` and pre-release suffixes are ignored."""
    parts = text.lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1].split("-")[0]) if len(parts) > 1 else 0
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not a Grafana version: {text!r}") from exc


def expand_root_url(
    root_url: str, protocol: str = "http", domain: str = "localhost", http_port: str = "3000"
) -> str:
    """The ini interpolation Grafana's config applies to ``root_url`` (``%(key)s`` of ``[server]``)."""
    values = {"protocol": protocol, "domain": domain, "http_port": http_port}
    for key, value in values.items():
        root_url = root_url.replace(f"%({key})s", value)
    return root_url


def parse_app_url(root_url: str) -> tuple[str, str]:
    """``(AppURL, AppSubURL)`` as ``parseAppUrlAndSubUrl`` computes them."""
    app_url = root_url if root_url.endswith("/") else root_url + "/"
    return app_url, urlsplit(app_url).path.rstrip("/")


@dataclass(frozen=True)
class GrafanaSettings:
    root_url: str = DEFAULT_ROOT_URL
    serve_from_sub_path: bool = False
    version: str = DEFAULT_VERSION
    domain: str = "localhost"
    http_port: str = "3000"

    @property
    def app_url(self) -> str:
        return parse_app_url(expand_root_url(self.root_url, "http", self.domain, self.http_port))[0]

    @property
    def app_sub_url(self) -> str:
        return parse_app_url(expand_root_url(self.root_url, "http", self.domain, self.http_port))[1]

    @property
    def url_prefix(self) -> str:
        """What the router strips (``SetURLPrefix``): AppSubURL only with serve_from_sub_path."""
        return self.app_sub_url if self.serve_from_sub_path else ""

    @property
    def subpath_redirect(self) -> bool:
        return bool(self.url_prefix) and parse_version(self.version) >= SUBPATH_REDIRECT_SINCE

    @property
    def session_storage_redirect(self) -> bool:
        return parse_version(self.version) >= SESSION_STORAGE_REDIRECT_SINCE

    @property
    def build_hash(self) -> str:
        return hashlib.sha1(self.version.encode()).hexdigest()[:20]

    def assets(self) -> dict[str, tuple[str, bytes]]:
        """``/public/build/<file>`` -> (content type, body): the files the index page references."""
        h = self.build_hash
        return {
            f"/public/build/grafana.dark.{h}.css": ("text/css; charset=utf-8", b"body{background:#111217}\n"),
            f"/public/build/runtime.{h}.js": ("text/javascript; charset=utf-8", b"/* runtime */\n"),
            f"/public/build/app.{h}.js": ("text/javascript; charset=utf-8", b"/* app */\n"),
        }


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def index_page(settings: GrafanaSettings) -> str:
    """The index template as the login view renders it: base href and relative ``public/build`` URLs."""
    h = settings.build_hash
    boot = json.dumps(
        {
            "settings": {
                "appUrl": settings.app_url,
                "appSubUrl": settings.app_sub_url,
                "buildInfo": {"version": settings.version, "commit": COMMIT},
            }
        }
    )
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Grafana</title>
    <base href="{settings.app_sub_url}/" />
    <link rel="icon" type="image/png" href="public/img/fav32.png" />
    <link rel="stylesheet" href="public/build/grafana.dark.{h}.css" />
  </head>
  <body class="theme-dark app-grafana">
    <div class="preloader">
      <p>If you're seeing this Grafana has failed to load its application files</p>
      <p>lab stand-in for Grafana {settings.version} (platform-kb), not Grafana</p>
    </div>
    <script>window.grafanaBootData = {boot};</script>
    <script src="public/build/runtime.{h}.js" type="text/javascript"></script>
    <script src="public/build/app.{h}.js" type="text/javascript"></script>
  </body>
</html>
"""


def _json(status: int, data: dict[str, object]) -> Reply:
    return Reply(status, json.dumps(data, indent=2).encode(), JSON_TYPE)


def _redirect(status: int, location: str, extra: tuple[tuple[str, str], ...] = ()) -> Reply:
    # Go's http.Redirect writes a short HTML link body for GET
    text = {301: "Moved Permanently", 302: "Found"}.get(status, "Redirect")
    body = f'<a href="{location}">{text}</a>.\n\n'.encode()
    return Reply(status, body, HTML_TYPE, (("Location", location), *extra))


def redirect_to_param(settings: GrafanaSettings, request_uri: str) -> str:
    """``getRedirectToQueryParam``: the RequestURI without AppSubURL, query-escaped (none for ``/``)."""
    target = request_uri
    if settings.app_sub_url and target.startswith(settings.app_sub_url):
        target = target[len(settings.app_sub_url) :]
    if target == "/":
        return ""
    target = target.replace("&forceLogin=true", "").replace("forceLogin=true", "")
    return "?redirectTo=" + quote_plus(target, safe="")


def not_authorized(settings: GrafanaSettings, path: str, request_uri: str) -> Reply:
    """``notAuthorized`` for a request without a session."""
    if path.startswith("/api"):
        return _json(401, {"message": "Unauthorized"})
    login = settings.app_sub_url + "/login"
    if settings.session_storage_redirect:
        return _redirect(302, login + redirect_to_param(settings, request_uri))
    cookie_target = request_uri
    if settings.app_sub_url and not cookie_target.startswith(settings.app_sub_url):
        cookie_target = settings.app_sub_url + cookie_target
    cookie = f"redirect_to={quote_plus(cookie_target, safe='')}; Path={settings.app_sub_url or '/'}; HttpOnly"
    return _redirect(302, login, (("Set-Cookie", cookie),))


def route(settings: GrafanaSettings, method: str, request_uri: str) -> Reply:
    """Grafana's answer to an unauthenticated ``method request_uri`` (see the module docstring)."""
    raw_path = urlsplit(request_uri).path or "/"
    path = raw_path
    if settings.url_prefix:
        path = path.removeprefix(settings.url_prefix) or "/"  # macaron.go ServeHTTP, TrimPrefix
    if method not in ("GET", "HEAD"):
        return not_authorized(settings, path, request_uri)
    asset = settings.assets().get(path)
    if asset is not None:  # mapStatic runs before SubPathRedirect
        return Reply(200, asset[1], asset[0], (("Cache-Control", "public, max-age=31536000"),))
    if (
        settings.subpath_redirect
        and not request_uri.startswith(settings.app_sub_url)
        and not request_uri.startswith("/api")
    ):
        return _redirect(301, settings.app_url + request_uri.removeprefix("/"))
    if path == "/healthz":
        return Reply(200, b"Ok")
    if path == "/api/health":
        return _json(200, {"commit": COMMIT, "database": "ok", "version": settings.version})
    if path == "/login":
        return Reply(200, index_page(settings).encode(), HTML_TYPE, (("Cache-Control", "no-store"),))
    return not_authorized(settings, path, request_uri)  # "/" (reqSignedIn) and NotFound(ReqSignedIn)


class _Handler(BaseHTTPRequestHandler):
    server_version = "Grafana-lab-stand-in"
    sys_version = ""
    settings: GrafanaSettings  # set on the subclass made by make_server

    def _answer(self, method: str) -> None:
        reply = route(self.settings, method, self.path)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in (*SECURITY_HEADERS, *reply.headers):
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(reply.body)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_server(settings: GrafanaSettings, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("GrafanaHandler", (_Handler,), {"settings": settings})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise argparse.ArgumentTypeError("expected true or false")
    return lowered == "true"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_kb_lab.grafana", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--root-url", default=DEFAULT_ROOT_URL, help="[server] root_url")
    parser.add_argument("--serve-from-sub-path", type=_bool, default=False, metavar="true|false")
    parser.add_argument("--version", default=DEFAULT_VERSION, help="Grafana version to behave as")
    parser.add_argument("--domain", default="localhost", help="[server] domain, for %%(domain)s")
    parser.add_argument("--ini-http-port", default="3000", help="[server] http_port, for %%(http_port)s")
    args = parser.parse_args(argv)
    try:
        parse_version(args.version)
    except ValueError as exc:
        print(f"grafana stand-in: error: {exc}", file=sys.stderr)
        return 2
    settings = GrafanaSettings(
        args.root_url, args.serve_from_sub_path, args.version, args.domain, args.ini_http_port
    )
    try:
        server = make_server(settings, args.host, args.port)
    except OSError as exc:
        print(f"grafana stand-in: error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=server.serve_forever, name="grafana-stand-in", daemon=True)
    thread.start()
    print(
        f"lab Grafana (stand-in, not Grafana) {settings.version} listening on http://{args.host}:{args.port}"
        f" root_url={settings.app_url} sub_path={settings.app_sub_url or '(none)'}"
        f" serve_from_sub_path={str(settings.serve_from_sub_path).lower()}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
