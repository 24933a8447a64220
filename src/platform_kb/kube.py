"""Kubernetes access: an official ``kubernetes`` client for the API server behind the tunnel.

The kubeconfig names the API server as the bastion sees it (``https://<node>:6443`` in the
homelab, ``http://127.0.0.2:6443`` in the lab); :func:`api_client` points the client at the
tunnel's local address instead, keeping the kubeconfig's credentials and CA.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml
from kubernetes import client, config

from .errors import UsageProblem


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
    return client.ApiClient(configuration)


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
