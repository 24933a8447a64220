"""Kubernetes access: an official ``kubernetes`` client for the API server behind the tunnel.

The kubeconfig names the API server as the bastion sees it (``https://<node>:6443`` in the
homelab, ``http://127.0.0.2:6443`` in the lab); :func:`api_client` points the client at the
tunnel's local address instead, keeping the kubeconfig's credentials and CA.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import urllib3
import yaml
from kubernetes import client, config

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
        configuration.host = server.rstrip("/")
        if server.startswith("https://") and configuration.tls_server_name is None:
            # the certificate names the real API server, not 127.0.0.1
            configuration.tls_server_name = _original_host(path, context)
        _keep_host(configuration)
        return TunnelApiClient(configuration, _context_server(path, context))
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
    server = _context_server(Path(kubeconfig).expanduser(), context)
    scheme = urlparse(server).scheme if server else ""
    return scheme or "https"


def _original_host(path: Path, context: str | None) -> str | None:
    """The API server's host name as the kubeconfig's (current) context names it."""
    server = _context_server(path, context)
    return urlparse(server).hostname if server else None


def _context_server(path: Path, context: str | None) -> str | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise UsageProblem(f"kubeconfig {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise UsageProblem(f"kubeconfig {path}: not valid YAML: {exc}") from exc
    ctx_name = context or data.get("current-context")
    contexts = data.get("contexts") or []
    ctx = next((c.get("context") or {} for c in contexts if c.get("name") == ctx_name), {})
    clusters = data.get("clusters") or []
    cluster = next((c.get("cluster") or {} for c in clusters if c.get("name") == ctx.get("cluster")), {})
    return cluster.get("server")
