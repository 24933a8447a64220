"""The lab's ingress controller: nginx configuration rendered from Ingress objects, reloaded on change.

Where this sits: the lab daemon runs an :class:`IngressController` next to the operator. It
subscribes to the store; on any change of an Ingress, Service or Endpoints it rebuilds an
:class:`IngressConfig` (:func:`build_config`), renders ``templates/nginx.conf.j2`` with Jinja2,
and when the text changed it writes it, checks it with ``nginx -t`` and sends SIGHUP to nginx's
master (:mod:`platform_kb_lab.nginx`), then waits until nginx's status server answers the new
version. ``kb lab up`` renders the empty configuration the same way before nginx starts.

ingress-nginx semantics reproduced (kubernetes/ingress-nginx,
``internal/ingress/controller/template/template.go`` and ``rootfs/etc/nginx/template/nginx.tmpl``):

* one ``server`` per host; rules without a host go to the default server ``_``; a request whose
  path no rule matches gets 404 (the default backend);
* ``nginx.ingress.kubernetes.io/rewrite-target`` (when it differs from the path) or
  ``use-regex: "true"`` on any path of a host turns every location of that host into a
  case-insensitive regex ``~* "^<path>"`` (``enforceRegexModifier``, ``buildLocation``); locations
  are ordered by descending path length (docs ``user-guide/ingress-path-matching.md``);
* a rewrite is ``rewrite "(?i)<path>" <target> break;`` and only then is
  ``x-forwarded-prefix`` sent as ``X-Forwarded-Prefix`` (``buildProxyPass``);
* ``Host``, ``X-Forwarded-Host/Port/Proto/For``, ``X-Real-IP`` headers as the template sets them;
  ``proxy_redirect off`` (``Location`` headers pass unchanged), ``proxy_buffering off``;
* a backend Service without a ready endpoint answers 503 (``rootfs/etc/nginx/lua/balancer.lua``;
  the controller logs ``Service "ns/name" does not have any active Endpoint``);
* only Ingresses of class ``nginx`` (``spec.ingressClassName`` or the
  ``kubernetes.io/ingress.class`` annotation) or without a class are served (the lab's nginx is
  the default class); ``pathType: Prefix`` ``/p`` matches ``/p`` and ``/p/...`` only.

Values that could break out of the configuration (quotes, ``;``, braces, whitespace) make the
path, host or annotation invalid; the path is skipped and logged, as ingress-nginx does.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from .config import LabSettings
from .nginx import Nginx

log = logging.getLogger(__name__)

CONTROLLER_CLASS = "nginx"
DEFAULT_SERVER = "_"
ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/"
REWRITE_TARGET = ANNOTATION_PREFIX + "rewrite-target"
USE_REGEX = ANNOTATION_PREFIX + "use-regex"
X_FORWARDED_PREFIX = ANNOTATION_PREFIX + "x-forwarded-prefix"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"

_HOST_RE = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PATH_RE = re.compile(r"^/[^\s\"';{}\\]*$|^/[^\s\"';{}]*[^\s\"';{}\\]$")
_VALUE_RE = re.compile(r"^[^\s\"';{}\\]+$")
_UPSTREAM_RE = re.compile(r"[^A-Za-z0-9_.-]")

TEMPLATES = Path(__file__).parent / "templates"


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Upstream:
    name: str
    servers: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Location:
    """One nginx ``location`` block: what matches, and where it goes (or which status it answers)."""

    path: str
    match: str
    namespace: str = ""
    ingress_name: str = ""
    service_name: str = ""
    service_port: str = ""
    upstream_name: str = "upstream-default-backend"
    rewrite_target: str = ""
    x_forwarded_prefix: str = ""
    status: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Server:
    host: str
    locations: tuple[Location, ...]
    regex: bool = False


@dataclass(frozen=True)
class IngressConfig:
    """What nginx serves: servers with their locations, and the upstreams they proxy to."""

    servers: tuple[Server, ...]
    upstreams: tuple[Upstream, ...]
    problems: tuple[str, ...] = ()

    def server(self, host: str) -> Server | None:
        return next((s for s in self.servers if s.host == host), None)


@dataclass
class _Path:
    """One path of one rule of one Ingress, before it becomes a location."""

    host: str
    path: str
    path_type: str
    namespace: str
    ingress_name: str
    service_name: str
    service_port: Any
    rewrite_target: str
    use_regex: bool
    x_forwarded_prefix: str
    created: str = ""
    upstream: Upstream | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_rewrite(self) -> bool:
        # template.go needsRewrite: a target that differs from the path
        return bool(self.rewrite_target) and self.rewrite_target != self.path


# ---------------------------------------------------------------------------- building


def ingress_class(ingress: Mapping[str, Any]) -> str | None:
    spec = ingress.get("spec") or {}
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    return spec.get("ingressClassName") or annotations.get(CLASS_ANNOTATION)


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", "default"), meta.get("name", "")


def _service_port(service: Mapping[str, Any], wanted: Any) -> dict[str, Any] | None:
    for port in (service.get("spec") or {}).get("ports") or []:
        if isinstance(wanted, int) and port.get("port") == wanted:
            return port
        if isinstance(wanted, str) and port.get("name") == wanted:
            return port
    return None


def _endpoint_servers(
    endpoints: Mapping[str, Any] | None, port: Mapping[str, Any]
) -> tuple[tuple[str, int], ...]:
    """Ready addresses with the Endpoints port that belongs to the Service port (by name, else the only one)."""
    if not endpoints:
        return ()
    servers: list[tuple[str, int]] = []
    for subset in endpoints.get("subsets") or []:
        ports = subset.get("ports") or []
        chosen = None
        if port.get("name"):
            chosen = next((p for p in ports if p.get("name") == port["name"]), None)
        if chosen is None and len(ports) == 1:
            chosen = ports[0]
        if chosen is None:
            target = port.get("targetPort", port.get("port"))
            chosen = next((p for p in ports if p.get("port") == target), None)
        if chosen is None:
            continue
        for address in subset.get("addresses") or []:  # notReadyAddresses are not served
            if address.get("ip"):
                servers.append((str(address["ip"]), int(chosen["port"])))
    return tuple(sorted(set(servers)))


def _validate(item: _Path) -> str:
    if item.host != DEFAULT_SERVER and not _HOST_RE.match(item.host):
        return f"invalid host {item.host!r}"
    if not _PATH_RE.match(item.path):
        return f"invalid path {item.path!r}"
    if item.rewrite_target and not _VALUE_RE.match(item.rewrite_target):
        return f"invalid rewrite-target {item.rewrite_target!r}"
    if item.x_forwarded_prefix and not _VALUE_RE.match(item.x_forwarded_prefix):
        return f"invalid x-forwarded-prefix {item.x_forwarded_prefix!r}"
    return ""


def _paths_of(ingress: Mapping[str, Any]) -> Iterable[_Path]:
    namespace, name = _key(ingress)
    meta = ingress.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    spec = ingress.get("spec") or {}
    for rule in spec.get("rules") or []:
        http = rule.get("http") or {}
        for path in http.get("paths") or []:
            backend = (path.get("backend") or {}).get("service") or {}
            port = backend.get("port") or {}
            yield _Path(
                host=rule.get("host") or DEFAULT_SERVER,
                path=path.get("path") or "/",
                path_type=path.get("pathType") or "ImplementationSpecific",
                namespace=namespace,
                ingress_name=name,
                service_name=str(backend.get("name") or ""),
                service_port=port.get("number") if port.get("number") is not None else port.get("name"),
                rewrite_target=str(annotations.get(REWRITE_TARGET) or ""),
                use_regex=str(annotations.get(USE_REGEX, "")).lower() == "true",
                x_forwarded_prefix=str(annotations.get(X_FORWARDED_PREFIX) or ""),
                created=str(meta.get("creationTimestamp") or ""),
            )


def _safe(value: Any) -> str:
    """A name for a quoted ``set`` value: anything outside [A-Za-z0-9_.-] becomes ``-``."""
    return _UPSTREAM_RE.sub("-", str(value if value is not None else ""))


def _locations_for(item: _Path, regex: bool) -> list[Location]:
    common = {
        "path": item.path,
        "namespace": _safe(item.namespace),
        "ingress_name": _safe(item.ingress_name),
        "service_name": _safe(item.service_name),
        "service_port": _safe(item.service_port),
        "upstream_name": item.upstream.name if item.upstream else _upstream_name(item),
        "rewrite_target": item.rewrite_target if item.needs_rewrite else "",
        "x_forwarded_prefix": item.x_forwarded_prefix if item.needs_rewrite else "",
        "status": None if item.upstream else 503,
        "reason": item.reason.replace("\n", " "),
    }
    if regex:
        return [Location(match=f'~* "^{item.path}"', **common)]
    if item.path_type == "Exact":
        return [Location(match=f"= {item.path}", **common)]
    if item.path_type == "Prefix" and not item.path.endswith("/"):
        return [Location(match=f"= {item.path}", **common), Location(match=f"{item.path}/", **common)]
    return [Location(match=item.path, **common)]


def _upstream_name(item: _Path) -> str:
    return _UPSTREAM_RE.sub("-", f"{item.namespace}-{item.service_name}-{item.service_port}")


def build_config(
    ingresses: Iterable[Mapping[str, Any]],
    services: Iterable[Mapping[str, Any]],
    endpoints: Iterable[Mapping[str, Any]],
    controller_class: str = CONTROLLER_CLASS,
) -> IngressConfig:
    """The servers, locations and upstreams ingress-nginx would derive from these objects."""
    services_by_key = {_key(s): s for s in services}
    endpoints_by_key = {_key(e): e for e in endpoints}
    problems: list[str] = []
    accepted = [i for i in ingresses if ingress_class(i) in (None, controller_class)]
    accepted.sort(key=lambda i: (str((i.get("metadata") or {}).get("creationTimestamp") or ""), _key(i)))
    by_host: dict[str, list[_Path]] = {}
    upstreams: dict[str, Upstream] = {}
    for ingress in accepted:
        for item in _paths_of(ingress):
            problem = _validate(item)
            if problem:
                problems.append(f"ingress {item.namespace}/{item.ingress_name}: {problem}; path skipped")
                continue
            seen = by_host.setdefault(item.host, [])
            if any(p.path == item.path for p in seen):
                problems.append(
                    f"ingress {item.namespace}/{item.ingress_name}: {item.host}{item.path} is already defined; skipped"
                )
                continue
            service = services_by_key.get((item.namespace, item.service_name))
            port = _service_port(service, item.service_port) if service else None
            if service is None or port is None:
                item.reason = f'Service "{item.namespace}/{item.service_name}" does not exist'
                problems.append(item.reason)
            else:
                servers = _endpoint_servers(endpoints_by_key.get((item.namespace, item.service_name)), port)
                if servers:
                    item.upstream = upstreams.setdefault(
                        _upstream_name(item), Upstream(_upstream_name(item), servers)
                    )
                else:
                    item.reason = (
                        f'Service "{item.namespace}/{item.service_name}" does not have any active Endpoint'
                    )
                    problems.append(item.reason)
            seen.append(item)
    by_host.setdefault(DEFAULT_SERVER, [])
    servers = []
    for host in sorted(by_host, key=lambda h: (h != DEFAULT_SERVER, h)):
        items = by_host[host]
        regex = any(p.needs_rewrite or p.use_regex for p in items)
        ordered = sorted(items, key=lambda p: len(p.path), reverse=True)
        locations = [loc for item in ordered for loc in _locations_for(item, regex)]
        if not any(p.path == "/" for p in items):
            match = '~* "^/"' if regex else "/"
            locations.append(
                Location(path="/", match=match, status=404, reason="default backend: no rule matches")
            )
        servers.append(Server(host, tuple(locations), regex))
    return IngressConfig(tuple(servers), tuple(upstreams.values()), tuple(problems))


# ---------------------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # an nginx configuration, not HTML; values are validated instead
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(config: IngressConfig, settings: LabSettings) -> tuple[str, str]:
    """The nginx configuration text and its version (a hash of everything but the version line)."""
    template = _environment().get_template("nginx.conf.j2")
    values = {
        "config": config,
        "listen": f"{settings.node}:{settings.ingress_port}",
        "status_listen": f"{settings.node}:{settings.status_port}",
        "pid_file": settings.nginx_pid,
        "error_log": settings.logs_dir / "nginx-error.log",
        "access_log": settings.logs_dir / "nginx-access.log",
        "temp": settings.nginx_prefix / "temp",
        "run_as_root": os.geteuid() == 0,
    }
    body = template.render(version="@VERSION@", **values)
    version = hashlib.sha256(body.encode()).hexdigest()[:16]
    return body.replace("@VERSION@", version), version


def empty_config() -> IngressConfig:
    return build_config([], [], [])


# ---------------------------------------------------------------------------- the controller


APPLIED_FILE = "ingress-applied"


def applied_file(settings: LabSettings) -> Path:
    """Where the lab's ingress controller records the store revision nginx now runs."""
    return settings.root / APPLIED_FILE


def write_applied(settings: LabSettings, revision: int) -> None:
    path = applied_file(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{revision}\n")
    tmp.replace(path)


def applied_revision(settings: LabSettings) -> int:
    """The store revision the running nginx configuration reflects (0 when unknown)."""
    try:
        return int(applied_file(settings).read_text().strip())
    except (OSError, ValueError):
        return 0


class IngressController:
    """Keeps nginx's configuration in step with the store's Ingress/Service/Endpoints objects."""

    def __init__(
        self,
        store: Any,
        settings: LabSettings,
        nginx: Nginx | None = None,
        *,
        controller_class: str = CONTROLLER_CLASS,
        debounce: float = 0.05,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.nginx = nginx or Nginx(settings)
        self.controller_class = controller_class
        self.debounce = debounce
        self.on_problem = on_problem or (lambda message: log.warning("%s", message))
        self.version: str | None = None
        self.config: IngressConfig | None = None
        self.reloads = 0
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._reported: set[str] = set()

    def start(self) -> None:
        applied_file(self.settings).unlink(missing_ok=True)  # a revision of a previous store means nothing
        self._unsubscribe = self.store.subscribe(self._on_event)
        self.sync()
        self._thread = threading.Thread(target=self._loop, name="ingress-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        applied_file(self.settings).unlink(missing_ok=True)

    def current_config(self) -> IngressConfig:
        return build_config(
            self.store.list("ingresses", None),
            self.store.list("services", None),
            self.store.list("endpoints", None),
            self.controller_class,
        )

    def sync(self) -> bool:
        """Render from the store; write, test and reload when the text changed. True if reloaded.

        Once nginx runs the configuration (or nothing changed), the store revision it was rendered
        from is written to :func:`applied_file`, so ``kb lab up`` can wait for its own edits.
        """
        revision = self.store.resource_version
        reloaded = self._apply()
        if reloaded is not None:
            write_applied(self.settings, revision)
        return bool(reloaded)

    def _apply(self) -> bool | None:
        """True: reloaded; False: nothing changed; None: the new configuration is not running."""
        config = self.current_config()
        for problem in config.problems:
            if problem not in self._reported:
                self.on_problem(problem)
        self._reported = set(config.problems)
        text, version = render(config, self.settings)
        if version == self.version:
            return False
        candidate = self.nginx.conf.with_name("nginx.conf.new")
        candidate.write_text(text)
        ok, output = self.nginx.test(candidate)
        if not ok:
            self.on_problem(f"nginx rejected the rendered configuration, keeping the previous one:\n{output}")
            return None
        candidate.replace(self.nginx.conf)
        if not self.nginx.reload():
            return None
        self.reloads += 1
        if not self.nginx.wait_version(version):
            self.on_problem(f"nginx did not switch to configuration {version} within 10s")
            return None
        self.config, self.version = config, version
        return True

    def _on_event(self, event_type: str, resource: Any, obj: dict[str, Any]) -> None:
        # every write, not only to ingresses, services and endpoints: a sync that changes nothing is cheap, and it
        # moves the applied revision past unrelated writes (``kb lab up`` waits on it)
        self._dirty.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.is_set():
                return
            self._stop.wait(self.debounce)  # let a burst of changes settle
            self._dirty.clear()
            try:
                self.sync()
            except Exception:
                log.exception("ingress sync failed")
