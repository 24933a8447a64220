"""The lab API as the manager reaches it: the official ``kubernetes`` client, answers as plain dicts.

Where this sits: :class:`platform_kb_lab.manager.LabManager` (scenario set-up, apply-fix, status)
opens a :class:`LabKube` on the ``.lab/kubeconfig`` that ``kb lab up`` writes, with
:func:`platform_kb.kube.api_client` (the product's one way to the API). Requests go through
``ApiClient.param_serialize``/``call_api`` as the product's ``checks.spark_ui.KubeReader`` does:
the kubeconfig's server, auth and TLS, answers read raw into dicts shaped like ``kubectl get -o
json`` (no model deserialisation, and no import of the generated ``CoreV1Api`` & co., which takes
seconds). Runbooks and ``kb lab submit`` use the same client.
"""

from __future__ import annotations

import json
from typing import Any

from platform_kb.errors import KbError

from .config import LabSettings

API_PREFIXES = {
    "namespaces": "/api/v1",
    "services": "/api/v1",
    "endpoints": "/api/v1",
    "ingresses": "/apis/networking.k8s.io/v1",
    "sparkapplications": "/apis/sparkoperator.k8s.io/v1beta2",
}
MERGE_PATCH = "application/merge-patch+json"


def resource_path(plural: str, namespace: str | None = None, name: str = "") -> str:
    """The REST path of a collection (all namespaces when ``namespace`` is None) or of one object."""
    path = API_PREFIXES[plural]
    if namespace is not None and plural != "namespaces":
        path += f"/namespaces/{namespace}"
    path += f"/{plural}"
    return f"{path}/{name}" if name else path


class LabKube:
    """Create, get, delete and merge-patch on the lab API; use as a context manager."""

    def __init__(self, settings: LabSettings, timeout: float = 10.0) -> None:
        from platform_kb.kube import api_client

        self.url = settings.api_url
        self.timeout = timeout
        self.api = api_client(settings.kubeconfig)

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> LabKube:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create(self, plural: str, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any] | None:
        """POST; None when it already exists (409)."""
        path = resource_path(plural, namespace)
        status, body = self._call("POST", path, obj)
        if status == 409:
            return None
        return self._checked(status, body, "create", path)

    def get(self, plural: str, namespace: str | None, name: str = "") -> dict[str, Any] | None:
        """GET an object (or a list without ``name``); None when it does not exist (404)."""
        path = resource_path(plural, namespace, name)
        status, body = self._call("GET", path)
        if status == 404:
            return None
        return self._checked(status, body, "get", path)

    def delete(self, plural: str, namespace: str, name: str) -> None:
        """DELETE; a missing object is fine."""
        path = resource_path(plural, namespace, name)
        status, body = self._call("DELETE", path)
        if status != 404:
            self._checked(status, body, "delete", path)

    def merge_patch(self, plural: str, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        path = resource_path(plural, namespace, name)
        status, body = self._call("PATCH", path, patch, MERGE_PATCH)
        return self._checked(status, body, "patch", path)

    def revision(self, plural: str) -> int:
        """The list's ``metadata.resourceVersion`` across all namespaces (the store's newest change)."""
        listing = self.get(plural, None) or {}
        return int((listing.get("metadata") or {}).get("resourceVersion") or 0)

    def _call(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        import urllib3

        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            request = self.api.param_serialize(
                method=method,
                resource_path=path,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(*request, _request_timeout=self.timeout)
            return response.status, response.read() or b""
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise KbError(f"the lab API at {self.url} does not answer ({exc}): is the lab up?") from exc

    @staticmethod
    def _checked(status: int, body: bytes, verb: str, path: str) -> dict[str, Any]:
        text = body.decode(errors="replace")
        if status >= 400:
            raise KbError(f"lab API {verb} {path}: {status} {text[:300]}")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise KbError(f"lab API {verb} {path}: not JSON: {text[:300]}") from exc
