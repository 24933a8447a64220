"""The records the lab object store keeps and hands out: stored versions, change events, queries.

Where this sits: :mod:`.store` commits :class:`StoredObject` versions and logs :class:`StoreEvent`
records; :mod:`.handlers` and :mod:`.watch` serve them (lists and watch lines reuse each version's
cached JSON); a :class:`Query` is what a list or watch selects (:meth:`.store.ObjectStore.query`
validates it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from platform_kb_lab.kubeapi.errors import BadRequest
from platform_kb_lab.kubeapi.resources import Resource
from platform_kb_lab.kubeapi.selectors import FieldSelector, LabelSelector, field_value

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


def encode(obj: Any) -> bytes:
    """Compact JSON, as the API server writes it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_copy(obj: Any) -> Any:
    """A JSON-only deep copy of a caller's value; BadRequest when it is not JSON."""
    try:
        return json.loads(encode(obj))
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"the object is not JSON-serialisable: {exc}") from exc


def encode_copy(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(encode(obj))


def utc_now() -> str:
    """RFC 3339 timestamp in UTC with a ``Z``, second precision, as ``metav1.Time`` marshals."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True, eq=False)
class StoredObject:
    """One committed version of an object; ``obj`` is never mutated after commit."""

    obj: dict[str, Any]
    rv: int
    _encoded: bytes | None = None

    def encoded(self) -> bytes:
        """The object's JSON, computed once per version."""
        if self._encoded is None:
            self._encoded = encode(self.obj)
        return self._encoded

    def copy(self) -> dict[str, Any]:
        """A private deep copy (decoding the cached JSON is faster than ``copy.deepcopy``)."""
        return json.loads(self.encoded())

    @property
    def labels(self) -> Mapping[str, str]:
        return self.obj.get("metadata", {}).get("labels") or {}


@dataclass(frozen=True, slots=True)
class StoreEvent:
    """A committed change; ``previous`` is the version before a MODIFIED (None otherwise)."""

    rv: int
    type: str
    resource: Resource
    namespace: str
    current: StoredObject
    previous: StoredObject | None = None


@dataclass(frozen=True)
class Query:
    """What a list or watch selects: a namespace (None = all) and label/field selectors."""

    namespace: str | None = None
    labels: LabelSelector = field(default_factory=LabelSelector)
    fields: FieldSelector = field(default_factory=FieldSelector)

    def matches(self, stored: StoredObject) -> bool:
        if not self.labels.empty and not self.labels.matches(stored.labels):
            return False
        if not self.fields.empty:
            obj = stored.obj
            return self.fields.matches(lambda label: field_value(obj, label))
        return True
