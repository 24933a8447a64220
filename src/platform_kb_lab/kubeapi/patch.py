"""Patch formats the lab API accepts: JSON merge patch, a strategic-merge subset, JSON patch.

Called by the store when it applies ``PATCH``. Stored objects are never mutated: every function
returns a new object and shares untouched sub-trees with the input (the store treats stored
objects as immutable, which is what makes lists cheap).

- ``merge_patch``: RFC 7386.
- ``strategic_merge_patch``: the merge patch plus the parts of Kubernetes' strategic merge patch
  (k8s.io/apimachinery ``pkg/util/strategicpatch/patch.go``) that matter for everyday patches:
  lists of objects with a well-known merge key (``containers`` by ``name``, ``ports`` by
  ``containerPort``/``port``, ``conditions`` by ``type``, ...) are merged item by item, and the
  ``$patch: replace|delete`` directives. Other directives are dropped. It is a subset, not the
  schema-driven original; custom resources get it too (the real server answers 415 there).
- ``json_patch``: RFC 6902 (add, remove, replace, move, copy, test).
"""

from __future__ import annotations

import copy
from typing import Any

from platform_kb_lab.kubeapi.errors import Invalid

# patchMergeKey of well-known list fields (k8s.io/api core/v1/types.go struct tags)
_MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "volumes": ("name",),
    "env": ("name",),
    "imagePullSecrets": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "ports": ("containerPort", "port"),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "resourceClaims": ("name",),
}
_MERGED_PRIMITIVE_LISTS = frozenset({"finalizers"})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch; ``null`` deletes a key, lists are replaced."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Merge patch that merges keyed lists and honours ``$patch`` (see the module docstring)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    body = {k: v for k, v in patch.items() if not k.startswith("$")}
    if directive == "replace":
        return copy.deepcopy(body)
    result = dict(target) if isinstance(target, dict) and directive != "delete" else {}
    for key, value in body.items():
        if value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    if field in _MERGED_PRIMITIVE_LISTS:
        return list(current) + [copy.deepcopy(v) for v in patch if v not in current]
    merge_key = _merge_key(field, current, patch)
    if merge_key is None:
        return [strategic_merge_patch(None, v) for v in patch if not _is_delete_directive(v)]
    result = list(current)
    index = {item.get(merge_key): i for i, item in enumerate(result)}
    for item in patch:
        key_value = item.get(merge_key)
        if _is_delete_directive(item):
            result = [r for r in result if r.get(merge_key) != key_value]
            index = {r.get(merge_key): i for i, r in enumerate(result)}
        elif key_value in index:
            result[index[key_value]] = strategic_merge_patch(result[index[key_value]], item)
        else:
            index[key_value] = len(result)
            result.append(strategic_merge_patch(None, item))
    return result


def _is_delete_directive(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "delete"


def _merge_key(field: str, current: list[Any], patch: list[Any]) -> str | None:
    items = current + patch
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in _MERGE_KEYS.get(field, ()):
        if all(key in i for i in items):
            return key
    return None


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch, applied to a deep copy; Invalid (422) when an operation fails."""
    if not isinstance(operations, list):
        raise Invalid("a JSON patch must be a list of operations")
    document = copy.deepcopy(target)
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise Invalid(f"JSON patch operation {number} needs 'op' and 'path'")
        document = _apply_operation(document, operation)
    return document


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise Invalid(f"JSON pointer {path!r} must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(document: Any, parts: list[str], path: str) -> tuple[Any, str]:
    node = document
    for part in parts[:-1]:
        node = _child(node, part, path)
    return node, parts[-1]


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise Invalid(f"JSON patch path {path!r} does not exist")


def _get(document: Any, path: str) -> Any:
    node = document
    for part in _pointer(path):
        node = _child(node, part, path)
    return node


def _remove(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise Invalid("cannot remove the whole document")
    parent, last = _parent(document, parts, path)
    _child(parent, last, path)
    if isinstance(parent, list):
        return parent.pop(int(last))
    return parent.pop(last)


def _add(document: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(document, parts, path)
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise Invalid(f"JSON patch path {path!r} does not exist")
        parent[last] = value
    elif isinstance(parent, list):
        if replace:
            _child(parent, last, path)
            parent[int(last)] = value
        elif last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise Invalid(f"JSON patch index in {path!r} is out of range")
    else:
        raise Invalid(f"JSON patch path {path!r} does not name a container")
    return document


def _apply_operation(document: Any, operation: dict[str, Any]) -> Any:
    op, path = operation["op"], operation["path"]
    if op == "add":
        return _add(document, path, copy.deepcopy(operation.get("value")))
    if op == "replace":
        return _add(document, path, copy.deepcopy(operation.get("value")), replace=True)
    if op == "remove":
        _remove(document, path)
        return document
    if op in ("move", "copy"):
        source = operation.get("from")
        if not isinstance(source, str):
            raise Invalid(f"JSON patch {op} needs 'from'")
        value = _remove(document, source) if op == "move" else copy.deepcopy(_get(document, source))
        return _add(document, path, value)
    if op == "test":
        if _get(document, path) != operation.get("value"):
            raise Invalid(f"JSON patch test failed at {path!r}")
        return document
    raise Invalid(f"unknown JSON patch operation {op!r}")
