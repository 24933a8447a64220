"""The OpenAPI documents ``kubectl`` downloads (``/openapi/v3``, ``/openapi/v3/{gv}``, ``/openapi/v2``).

Where this sits: :class:`.discovery.Discovery` serves these for GET; ``kubectl apply`` and
``kubectl create`` fetch them for client-side validation and for building patches, and without
them stop with ``failed to download openapi``.

Nothing here is hand-written per kind: each schema is generated from the models of the official
``kubernetes`` Python client (pinned in ``pyproject.toml``), which are themselves generated from
Kubernetes' published ``api/openapi-spec/swagger.json``: ``openapi_types`` gives each field's type
and ``attribute_map`` its JSON name. Every kind the lab serves gets a schema tagged
``x-kubernetes-group-version-kind`` (how kubectl finds it); kinds without a client model (the
Spark operator's CRDs) get ``x-kubernetes-preserve-unknown-fields`` as a CRD without a schema has.

Layout as kube-apiserver serves it (``k8s.io/kube-openapi`` ``pkg/handler3``): ``/openapi/v3`` lists
``{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}}}``; each group-version
document is OpenAPI 3.0 JSON with its schemas under ``components.schemas``. ``/openapi/v2`` is
answered as client-go asks for it (``discovery.OpenAPISchema``: the gnostic protobuf
``openapi.v2.Document``, google/gnostic ``openapiv2/OpenAPIv2.proto``) with swagger, info, empty paths and
the same generated schemas as ``definitions`` (kubectl validates with them on the client side:
an unknown field is refused as by a cluster), or as JSON for other clients.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import yaml

from .resources import Resource, ResourceRegistry

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2"
_LIST = re.compile(r"^list\[(.+)\]$")
_DICT = re.compile(r"^dict\(str, (.+)\)$")
_PRIMITIVES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "format": "int64"},
    "float": {"type": "number", "format": "double"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "object": {},  # IntOrString, Quantity, RawExtension: any JSON value
}


def _model(name: str) -> Any | None:
    from kubernetes import client

    return getattr(client, name, None) or getattr(client.models, name, None)


def _schema_of(type_name: str, schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The schema of one client-model type string, adding referenced models to ``schemas``."""
    if type_name in _PRIMITIVES:
        return dict(_PRIMITIVES[type_name])
    if m := _LIST.match(type_name):
        return {"type": "array", "items": _schema_of(m.group(1), schemas)}
    if m := _DICT.match(type_name):
        return {"type": "object", "additionalProperties": _schema_of(m.group(1), schemas)}
    _add_model(type_name, schemas)
    return {"$ref": f"#/components/schemas/{type_name}"} if type_name in schemas else {}


def _add_model(name: str, schemas: dict[str, dict[str, Any]]) -> None:
    if name in schemas:
        return
    model = _model(name)
    if model is None or not hasattr(model, "openapi_types"):
        return
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    schemas[name] = schema  # before the fields: models refer to themselves (JSONSchemaProps)
    for attribute, type_name in model.openapi_types.items():
        schema["properties"][model.attribute_map[attribute]] = _schema_of(type_name, schemas)


def _gvk(resource: Resource) -> list[dict[str, str]]:
    return [{"group": resource.group, "kind": resource.kind, "version": resource.version}]


def group_version_document(resources: list[Resource], group_version: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of one group-version: a schema per kind, with what it refers to."""
    schemas: dict[str, dict[str, Any]] = {}
    for resource in resources:
        name = resource.client_model
        if name and _model(name) is not None:
            _add_model(name, schemas)
            schemas[name] = {**schemas[name], "x-kubernetes-group-version-kind": _gvk(resource)}
        else:
            schemas[f"{resource.group}.{resource.version}.{resource.kind}"] = {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "x-kubernetes-group-version-kind": _gvk(resource),
            }
    return {
        "openapi": "3.0.0",
        "info": {"title": "platform-kb lab API", "version": group_version},
        "paths": {},
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def _path_key(resource: Resource) -> str:
    return f"apis/{resource.group}/{resource.version}" if resource.group else f"api/{resource.version}"


class OpenApiDocuments:
    """The documents of one registry, built on first use and kept (the registry does not change them)."""

    def __init__(self, registry: ResourceRegistry) -> None:
        self.registry = registry
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}

    def _by_path(self) -> dict[str, list[Resource]]:
        grouped: dict[str, list[Resource]] = {}
        for resource in self.registry:
            grouped.setdefault(_path_key(resource), []).append(resource)
        return grouped

    def document(self, path: str) -> bytes | None:
        """JSON of ``/openapi/v3/{path}`` (``api/v1``, ``apis/apps/v1``); None when no such group-version."""
        resources = self._by_path().get(path)
        if not resources:
            return None
        key = (path, tuple(sorted((r.kind, r.client_model) for r in resources)))
        if key not in self._cache:
            doc = group_version_document(resources, path.split("/", 1)[1])
            self._cache[key] = json.dumps(doc, separators=(",", ":")).encode()
        return self._cache[key]

    def v2(self, protobuf: bool) -> bytes:
        """``/openapi/v2``: protobuf (what kubectl asks for) or JSON."""
        key = (
            "v2-pb" if protobuf else "v2-json",
            tuple(sorted((r.kind, r.client_model) for r in self.registry)),
        )
        if key not in self._cache:
            doc = swagger_v2_document(self.registry)
            self._cache[key] = swagger_v2_protobuf(doc) if protobuf else json.dumps(doc).encode()
        return self._cache[key]

    def index(self) -> bytes:
        paths = {}
        for path in sorted(self._by_path()):
            body = self.document(path) or b""
            digest = hashlib.sha512(body).hexdigest()[:32].upper()
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
        return json.dumps({"paths": paths}, separators=(",", ":")).encode()


# ---------------------------------------------------------------------------- /openapi/v2


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _v2_refs(schema: Any) -> Any:
    """The same schema with ``$ref`` pointing into ``#/definitions/`` (Swagger 2.0) instead of components."""
    if isinstance(schema, dict):
        return {
            k: (v.replace("#/components/schemas/", "#/definitions/") if k == "$ref" else _v2_refs(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_v2_refs(v) for v in schema]
    return schema


def swagger_v2_document(registry: ResourceRegistry) -> dict[str, Any]:
    """Swagger 2.0 with the definitions of every kind of ``registry`` (same generator as the v3 documents)."""
    definitions: dict[str, Any] = {}
    grouped: dict[str, list[Resource]] = {}
    for resource in registry:
        grouped.setdefault(_path_key(resource), []).append(resource)
    for path, resources in sorted(grouped.items()):
        doc = group_version_document(resources, path.split("/", 1)[1])
        for name, schema in doc["components"]["schemas"].items():
            if name not in definitions or "x-kubernetes-group-version-kind" in schema:
                definitions[name] = _v2_refs(schema)
    return {
        "swagger": "2.0",
        "info": {"title": "platform-kb lab API", "version": "v2"},
        "paths": {},
        "definitions": dict(sorted(definitions.items())),
    }


def _string(number: int, text: str) -> bytes:
    return _field(number, text.encode())


def _schema_pb(schema: dict[str, Any]) -> bytes:
    """One ``openapi.v2.Schema`` (the fields the generator uses)."""
    out = b""
    if "$ref" in schema:
        out += _string(1, schema["$ref"])
    if "format" in schema:
        out += _string(2, schema["format"])
    if "additionalProperties" in schema:
        out += _field(21, _field(1, _schema_pb(schema["additionalProperties"])))
    if "type" in schema:
        out += _field(22, _string(1, schema["type"]))
    if "items" in schema:
        out += _field(23, _field(1, _schema_pb(schema["items"])))
    if "properties" in schema:
        named = b"".join(
            _field(1, _string(1, name) + _field(2, _schema_pb(value)))
            for name, value in schema["properties"].items()
        )
        out += _field(25, named)
    for key, value in schema.items():
        if key.startswith("x-"):
            text = yaml.safe_dump(value, default_flow_style=False, sort_keys=True)
            out += _field(31, _string(1, key) + _field(2, _string(2, text)))
    return out


def swagger_v2_protobuf(document: dict[str, Any]) -> bytes:
    """``openapi.v2.Document`` {swagger=1, info=2 {title=1, version=2}, paths=8, definitions=9}."""
    info = _string(1, document["info"]["title"]) + _string(2, document["info"]["version"])
    definitions = b"".join(
        _field(1, _string(1, name) + _field(2, _schema_pb(schema)))
        for name, schema in document["definitions"].items()
    )
    return _string(1, document["swagger"]) + _field(2, info) + _field(8, b"") + _field(9, definitions)
