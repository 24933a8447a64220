"""API errors of the lab Kubernetes API stand-in, shaped like the real API server's ``v1 Status``.

The store raises them; the HTTP layer (``server.py``) turns each into a ``Status`` object with the
same ``code`` and ``reason`` the real API server uses, so the official client raises
``ApiException`` with the status a runbook would see against a real cluster.
Messages follow k8s.io/apimachinery/pkg/api/errors/errors.go (kubernetes/kubernetes).
"""

from __future__ import annotations

from typing import Any

from platform_kb.errors import KbError


class KubeApiError(KbError):
    """An API failure with an HTTP ``code`` and a ``reason`` (``metav1.StatusReason``)."""

    code: int = 500
    reason: str = "InternalError"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        """The ``v1 Status`` body the API server answers with."""
        return status_body(self.code, self.reason, self.message, self.details)


class BadRequest(KubeApiError):
    code = 400
    reason = "BadRequest"


class NotFound(KubeApiError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(KubeApiError):
    code = 405
    reason = "MethodNotAllowed"


class Conflict(KubeApiError):
    """409: optimistic-concurrency failure (stale ``resourceVersion``) or a failed precondition."""

    code = 409
    reason = "Conflict"


class AlreadyExists(Conflict):
    """409 on create; a subclass of :class:`Conflict` so ``except Conflict`` catches both."""

    reason = "AlreadyExists"


class Gone(KubeApiError):
    """410: a watch asked for a ``resourceVersion`` older than the kept event history."""

    code = 410
    reason = "Expired"


class UnsupportedMediaType(KubeApiError):
    """415: a patch type or body the server cannot read, worded as the real API words it
    (kubernetes/apiserver ``pkg/endpoints/handlers/negotiation/errors.go``, errUnsupportedMediaType)."""

    code = 415
    reason = "UnsupportedMediaType"


class Invalid(KubeApiError):
    code = 422
    reason = "Invalid"


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason,
        "details": details or {},
        "code": code,
    }
    if code < 400:
        body.pop("reason")
        body.pop("message")
    return body
