"""Write-time check that an object of a built-in kind is readable by the official client.

Called by the store before it commits a create or an update. The real API server validates every
object, so clients never meet, say, a Pod without ``spec.containers``; the ``kubernetes`` client
v37 builds pydantic models from answers and fails on such objects. The stand-in does not
reimplement Kubernetes validation; it asks the client's own model class (``Resource.client_model``,
e.g. ``V1Pod``) to parse the object and answers 422 Invalid, naming the field, when it cannot.
Custom resources (no model) are not checked, as a CRD without a schema would not be.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from platform_kb_lab.kubeapi.errors import Invalid
from platform_kb_lab.kubeapi.resources import Resource


@cache
def _model(name: str) -> Any:
    return getattr(importlib.import_module("kubernetes.client.models"), name, None)


def _summary(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    title = getattr(exc, "title", "")
    parts = [f"{title}.{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors()]
    return "; ".join(parts) or str(exc)


def check_readable(resource: Resource, obj: dict[str, Any]) -> None:
    """Invalid (422) when the client model of ``resource`` cannot parse ``obj``."""
    if not resource.client_model:
        return
    model = _model(resource.client_model)
    if model is None:
        return
    try:
        model.from_dict(obj)
    except (ValueError, TypeError) as exc:
        name = obj.get("metadata", {}).get("name", "")
        raise Invalid(
            f'{resource.kind} "{name}" is invalid: {_summary(exc)}',
            {"name": name, "group": resource.group, "kind": resource.kind},
        ) from exc
