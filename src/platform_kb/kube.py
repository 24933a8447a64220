"""Kubernetes access: an official ``kubernetes`` client for the API server behind the tunnel.

The kubeconfig names the API server as the bastion sees it (``https://<node>:6443`` in the
homelab, ``http://127.0.0.2:6443`` in the lab); :func:`api_client` points the client at the
tunnel's local address instead, keeping the kubeconfig's credentials and CA.

Kubeconfig files are read only through the official loader (``kubernetes.config.kube_config``:
``load_kube_config`` into a ``client.Configuration``, ``KubeConfigMerger``); :func:`context_server`
adds what that loader does not expose directly: the server address, scheme and ``tls-server-name``
of the current context as the kubeconfig writes them (``kb doctor`` shows it, the tunnel keeps its
scheme).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.config import kube_config

from .errors import KbError, UsageProblem

# what urllib3 raises when nothing answers (refused, reset, timed out), under the kubernetes client
_NO_ANSWER = (
    urllib3.exceptions.MaxRetryError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.TimeoutError,
)


class KubeApiUnreachable(KbError):
    """The API server did not answer (the message names its kubeconfig address and the tunnel's)."""


class TunnelApiClient(client.ApiClient):
    """An ``ApiClient`` whose connection failures name the API server as the kubeconfig knows it
    and the tunnel's local end, instead of urllib3's raw retry text."""

    def __init__(self, configuration: client.Configuration, original: str | None) -> None:
        super().__init__(configuration)
        self.original = original

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().call_api(*args, **kwargs)
        except _NO_ANSWER as exc:
            raise KubeApiUnreachable(
                unreachable_message(self.original, self.configuration.host, exc)
            ) from None


def unreachable_message(original: str | None, local: str, exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    cause = type(reason).__name__
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        cause = "connection refused or unreachable"
    elif isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
        cause = "timed out"
    where = original or local
    return (
        f"the Kubernetes API at {where} (through the tunnel, {local}) did not answer ({cause}); "
        "is the tunnel up and the API server running?"
    )


def api_client(
    kubeconfig: str | Path, server: str | None = None, context: str | None = None
) -> client.ApiClient:
    """A client for ``kubeconfig`` (and ``context``); ``server`` (e.g. ``http://127.0.0.1:40123``) overrides its address."""
    path = Path(kubeconfig).expanduser()
    if not path.is_file():
        raise UsageProblem(f"kubeconfig not found: {path}")
    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=str(path), context=context, client_configuration=configuration)
    except config.ConfigException as exc:
        raise UsageProblem(f"kubeconfig {path}: {exc}") from exc
    if server:
        original = configuration.host  # the kubeconfig's server, as the loader set it
        configuration.host = server.rstrip("/")
        if server.startswith("https://") and configuration.tls_server_name is None:
            # the certificate names the real API server, not 127.0.0.1
            configuration.tls_server_name = urlparse(original).hostname
        _keep_host(configuration)
        return TunnelApiClient(configuration, original)
    return client.ApiClient(configuration)


def _keep_host(configuration: client.Configuration) -> None:
    """Keep the tunnel's address across token refreshes: for a kubeconfig user with a token, the
    client calls ``refresh_api_key_hook`` before every request, and the kubeconfig loader's hook
    sets the host back to the kubeconfig's server (kubernetes/config/kube_config.py
    ``_refresh_api_key`` -> ``_set_config``), which would bypass the tunnel."""
    hook = configuration.refresh_api_key_hook
    if hook is None:
        return
    host, tls_server_name = configuration.host, configuration.tls_server_name

    def refresh(conf: client.Configuration) -> None:
        hook(conf)
        conf.host, conf.tls_server_name = host, tls_server_name

    configuration.refresh_api_key_hook = refresh


def api_client_via(
    kubeconfig: str | Path, address: tuple[str, int], context: str | None = None
) -> client.ApiClient:
    """A client for ``kubeconfig``'s cluster reached at the tunnel's local ``address``, keeping its
    scheme (``https`` in the homelab, ``http`` for the lab stand-in)."""
    host, port = address
    scheme = server_scheme(kubeconfig, context)
    return api_client(kubeconfig, server=f"{scheme}://{host}:{port}", context=context)


def server_scheme(kubeconfig: str | Path, context: str | None = None) -> str:
    """The scheme of the API server the kubeconfig's (current) context names; ``https`` when unknown."""
    try:
        return context_server(kubeconfig, context).scheme
    except KubeconfigError as exc:
        if exc.reason == UNREADABLE:
            raise
        return "https"


# --- what the official loader does not expose: the current context's server --------------------------

UNREADABLE, NO_CURRENT_CONTEXT, UNKNOWN_CONTEXT, UNKNOWN_CLUSTER = (
    "unreadable",
    "no-current-context",
    "unknown-context",
    "unknown-cluster",
)


class KubeconfigError(UsageProblem):
    """A kubeconfig whose (current) context cannot be resolved; ``reason`` says which part failed
    (:data:`UNREADABLE`, :data:`NO_CURRENT_CONTEXT`, :data:`UNKNOWN_CONTEXT`, :data:`UNKNOWN_CLUSTER`)."""

    def __init__(self, where: str, detail: str, reason: str) -> None:
        super().__init__(f"kubeconfig {where}: {detail}")
        self.where, self.detail, self.reason = where, detail, reason


@dataclass(frozen=True)
class ContextServer:
    """The API server a kubeconfig's (current) context names, as written there (before any tunnel)."""

    context: str
    cluster: str
    server: str | None
    tls_server_name: str | None = None

    @property
    def scheme(self) -> str:
        """``https`` or ``http``; ``https`` when the server names none (as the client assumes)."""
        return (urlparse(self.server).scheme if self.server else "") or "https"

    @property
    def hostname(self) -> str | None:
        return urlparse(self.server).hostname if self.server else None


def context_server(
    kubeconfig: str | Path | Sequence[str | Path], context: str | None = None
) -> ContextServer:
    """The server, scheme and ``tls-server-name`` of ``context`` (default: the current context).

    The files are read and merged by the official loader (kubernetes/config/kube_config.py
    ``KubeConfigMerger``: the first entry of each name wins), which resolves the context and its
    cluster (``ConfigNode.get_with_name``) as ``load_kube_config`` does; the loader keeps the
    server only inside a ``Configuration`` (after loading credentials), hence this helper. With
    several files (``$KUBECONFIG``) the current context is the first file's that sets one, as
    kubectl reads it.
    """
    paths = [kubeconfig] if isinstance(kubeconfig, str | Path) else list(kubeconfig)
    files = [Path(p).expanduser() for p in paths]
    merger = _merge(files)
    where = ", ".join(map(str, files))
    name = context or _first_current_context(merger, files)
    if not name:
        raise KubeconfigError(where, "no current-context", NO_CURRENT_CONTEXT)
    merged = merger.config
    try:
        ctx = merged["contexts"].get_with_name(name, safe=True)
        if ctx is None:
            names = ", ".join(str(c["name"]) for c in merged["contexts"].value) or "none"
            detail = f"current-context {name!r} is not among its contexts ({names})"
            raise KubeconfigError(where, detail, UNKNOWN_CONTEXT)
        cluster_name = str(_mapping(ctx.safe_get("context")).get("cluster") or "")
        cluster = merged["clusters"].get_with_name(cluster_name, safe=True)
        if cluster is None:
            detail = f"context {name!r} names cluster {cluster_name!r}, which is not defined"
            raise KubeconfigError(where, detail, UNKNOWN_CLUSTER)
        entry = _mapping(cluster.safe_get("cluster"))
    except kube_config.ConfigException as exc:
        raise KubeconfigError(where, str(exc), UNREADABLE) from exc
    return ContextServer(name, cluster_name, entry.get("server"), entry.get("tls-server-name"))


def merged_kubeconfig(kubeconfig: str | Path | Sequence[str | Path]) -> dict[str, Any]:
    """The kubeconfig document as the official loader merged it (``KubeConfigMerger``), as plain
    data: for writing a copy that points elsewhere (``install.runners.write_tunnel_kubeconfig``)."""
    paths = [kubeconfig] if isinstance(kubeconfig, str | Path) else list(kubeconfig)
    merged = _merge([Path(p).expanduser() for p in paths]).config.value
    return copy.deepcopy(
        {key: [getattr(i, "value", i) for i in v] if isinstance(v, list) else v for key, v in merged.items()}
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _merge(files: list[Path]) -> kube_config.KubeConfigMerger:
    """The files merged by the official loader, one by one so that an error names its file."""
    merger = kube_config.KubeConfigMerger("")  # no path: the files are added below
    for path in files:
        try:
            merger.load_config(str(path))
        except OSError as exc:
            raise KubeconfigError(str(path), exc.strerror or str(exc), UNREADABLE) from exc
        except yaml.YAMLError as exc:
            raise KubeconfigError(str(path), f"not valid YAML ({exc})", UNREADABLE) from exc
        except kube_config.ConfigException as exc:  # the loader refuses an empty file
            raise KubeconfigError(str(path), "empty, not a kubeconfig", UNREADABLE) from exc
        except (AttributeError, TypeError) as exc:  # YAML, but not a mapping
            raise KubeconfigError(str(path), "not a kubeconfig mapping", UNREADABLE) from exc
    if merger.config is None:
        raise KubeconfigError(", ".join(map(str, files)), "no file to read", UNREADABLE)
    return merger


def _first_current_context(merger: kube_config.KubeConfigMerger, files: list[Path]) -> str | None:
    """kubectl's rule for ``$KUBECONFIG``: the first file that sets ``current-context`` decides
    (the official merger keeps the last one)."""
    for path in files:
        current = (merger.config_files.get(str(path)) or {}).get("current-context")
        if current:
            return str(current)
    return None
