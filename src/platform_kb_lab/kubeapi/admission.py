"""What the lab API server checks and normalises before the store commits an object.

Where this sits: :class:`.store.ObjectStore` calls these on create, update and patch. They follow
the real API server's generic registry and object-meta validation (kubernetes/kubernetes
``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go``,
``staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go``): a new object gets its
server-filled metadata in the API server's order (``uid``, ``resourceVersion``, ``generation`` for
kinds that track it, ``creationTimestamp``), ``generateName`` gets 5 random characters, names,
labels and annotations are validated, and the ``apiVersion``/``kind`` in a body must match the path.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Mapping
from typing import Any

from platform_kb_lab.kubeapi.errors import BadRequest, Invalid
from platform_kb_lab.kubeapi.objects import json_copy, utc_now
from platform_kb_lab.kubeapi.patch import json_patch, merge_patch, strategic_merge_patch
from platform_kb_lab.kubeapi.resources import NAME_LABEL, NAME_LABEL_1035, Resource
from platform_kb_lab.kubeapi.selectors import SelectorError, validate_label_key, validate_label_value

PATCH_TYPES = ("merge", "strategic", "json", "apply")
IMMUTABLE_META = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp")

_NAME_RULES = {
    "subdomain": (
        253,
        re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"),
        "a lowercase RFC 1123 subdomain",
    ),
    NAME_LABEL: (63, re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"), "a lowercase RFC 1123 label"),
    NAME_LABEL_1035: (
        63,
        re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?"),
        "a DNS-1035 label (starts with a letter)",
    ),
}
# k8s.io/apiserver/pkg/storage/names/generate.go: 5 random characters, base cut to 58
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def check_kind(resource: Resource, obj: Mapping[str, Any]) -> None:
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if kind not in (None, "", resource.kind) or api_version not in (None, "", resource.api_version):
        raise BadRequest(
            f"the API version in the data ({api_version}) or kind ({kind}) does not match the expected "
            f"API version ({resource.api_version}) and kind ({resource.kind})"
        )


def prepare_new(resource: Resource, namespace: str | None, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object a create stores (before defaulting): validated, server metadata filled in."""
    body = json_copy(obj)
    if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
        raise BadRequest("the object must be a JSON object with a metadata object")
    check_kind(resource, body)
    meta = dict(body.get("metadata") or {})
    if resource.namespaced:
        given = meta.get("namespace")
        if namespace and given and given != namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        ns = namespace or given
        if not ns:
            raise BadRequest(f"a namespace is required for {resource.group_resource}")
        meta["namespace"] = ns
    else:
        meta.pop("namespace", None)
    name = meta.get("name")
    if not name:
        base = meta.get("generateName")
        if not base:
            raise Invalid(
                f'{resource.kind} "" is invalid: metadata.name: Required value: name or generateName is required'
            )
        name = base[:58] + "".join(random.choice(_GENERATE_ALPHABET) for _ in range(5))
    validate_name(resource, name)
    validate_meta(resource, name, meta)
    ordered_meta: dict[str, Any] = {"name": name}
    if resource.namespaced:
        ordered_meta["namespace"] = meta["namespace"]
    ordered_meta["uid"] = str(uuid.uuid4())
    ordered_meta["resourceVersion"] = ""
    if resource.tracks_generation:
        ordered_meta["generation"] = 1
    ordered_meta["creationTimestamp"] = utc_now()
    for key, value in meta.items():
        if key not in ordered_meta and key not in (
            "resourceVersion",
            "generation",
            "deletionTimestamp",
            "selfLink",
        ):
            ordered_meta[key] = value
    rest = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
    return {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": ordered_meta, **rest}


def spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Everything but the type, metadata and status: what moves ``generation`` when it changes."""
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}


def ordered_meta(meta: dict[str, Any]) -> dict[str, Any]:
    head = ("name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp")
    ordered = {k: meta[k] for k in head if k in meta}
    ordered.update({k: v for k, v in meta.items() if k not in ordered})
    return ordered


def apply_patch(current: dict[str, Any], body: Any, patch_type: str) -> Any:
    if patch_type == "json":
        return json_patch(current, body)
    if patch_type in ("strategic", "apply"):
        return strategic_merge_patch(current, body)
    return merge_patch(current, body)


def validate_name(resource: Resource, name: Any) -> None:
    max_len, pattern, what = _NAME_RULES.get(resource.name_rule, _NAME_RULES["subdomain"])
    if not isinstance(name, str) or len(name) > max_len or not pattern.fullmatch(name):
        raise Invalid(
            f'{resource.kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": '
            f"must be {what} of at most {max_len} characters",
            {"name": str(name), "group": resource.group, "kind": resource.kind},
        )


def validate_meta(resource: Resource, name: str, meta: Mapping[str, Any]) -> None:
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    if not isinstance(labels, dict) or not isinstance(annotations, dict):
        raise Invalid(
            f'{resource.kind} "{name}" is invalid: metadata.labels and annotations must be string maps'
        )
    try:
        for key, value in labels.items():
            validate_label_key(key)
            if not isinstance(value, str):
                raise SelectorError(f"label {key!r} must have a string value")
            validate_label_value(value)
        for key, value in annotations.items():
            validate_label_key(key)
            if not isinstance(value, str):
                raise SelectorError(f"annotation {key!r} must have a string value")
    except SelectorError as exc:
        raise Invalid(f'{resource.kind} "{name}" is invalid: metadata: {exc}') from exc
