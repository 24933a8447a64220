"""The lab Kubernetes API's non-resource paths: discovery, ``/version``, health and OpenAPI.

Where this sits: :class:`.handlers.KubeApi` asks :class:`Discovery` first for every GET; it
answers as the real API server does (kubernetes/kubernetes
``staging/src/k8s.io/apiserver/pkg/endpoints/discovery``): ``/api``, ``/api/v1``, ``/apis``,
``/apis/{group}[/{version}]`` (``APIVersions``, ``APIGroupList``, ``APIGroup``,
``APIResourceList`` with short names and categories, so ``kubectl api-resources`` and short names
work), ``/version``, ``/healthz``/``/readyz``/``/livez`` and the OpenAPI documents of
:mod:`.openapi`. Anything else is a resource path (None).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_kb_lab.kubeapi.openapi import PROTOBUF_V2, OpenApiDocuments
from platform_kb_lab.kubeapi.resources import ALL_VERBS, ResourceRegistry
from platform_kb_lab.kubeapi.routing import Response, json_response, not_found_path

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0+platform-kb-lab",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "n/a (platform-kb lab stand-in, Python)",
    "compiler": "n/a",
    "platform": "linux/amd64",
}


class Discovery:
    """Answers for the non-resource GET paths of one resource registry."""

    def __init__(self, resources: ResourceRegistry) -> None:
        self.resources = resources
        self._openapi_docs = OpenApiDocuments(resources)

    def answer(self, segments: list[str], headers: Mapping[str, str], address: str) -> Response | None:
        """The answer for a non-resource path; None when the path may name a resource."""
        if not segments:
            paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]
            paths += [f"/apis/{g}" for g in self._groups()] + [
                f"/apis/{g}/{v}" for g, vs in self._groups().items() for v in vs
            ]
            return json_response(200, {"paths": sorted(paths)})
        head = segments[0]
        if head in ("healthz", "readyz", "livez"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if head == "version" and len(segments) == 1:
            return json_response(200, VERSION_INFO)
        if head == "api" and len(segments) == 1:
            return json_response(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
                },
            )
        if head == "api" and len(segments) == 2:
            return self._resource_list("", segments[1])
        if head == "apis" and len(segments) == 1:
            return json_response(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [self._group_doc(g, vs) for g, vs in self._groups().items()],
                },
            )
        if head == "apis" and len(segments) == 2:
            versions = self._groups().get(segments[1])
            if versions is None:
                raise not_found_path()
            return json_response(
                200, {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(segments[1], versions)}
            )
        if head == "apis" and len(segments) == 3:
            return self._resource_list(segments[1], segments[2])
        if head == "openapi":
            return self._openapi(segments[1:], headers.get("Accept", ""))
        if head in ("swagger.json", "metrics", "logs"):
            raise not_found_path()
        return None

    def _openapi(self, rest: list[str], accept: str) -> Response:
        """``/openapi/v2`` (protobuf as client-go asks, or JSON) and ``/openapi/v3[/{gv}]`` (see .openapi)."""
        if rest == ["v2"]:
            if PROTOBUF_V2 in accept:
                return Response(200, self._openapi_docs.v2(protobuf=True), "application/octet-stream")
            return Response(200, self._openapi_docs.v2(protobuf=False))
        if rest == ["v3"]:
            return Response(200, self._openapi_docs.index())
        if rest[:1] == ["v3"]:
            body = self._openapi_docs.document("/".join(rest[1:]))
            if body is not None:
                return Response(200, body)
        raise not_found_path()

    def _groups(self) -> dict[str, list[str]]:
        return {g: vs for g, vs in self.resources.group_versions().items() if g}

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
        docs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": docs, "preferredVersion": docs[0]}

    def _resource_list(self, group: str, version: str) -> Response:
        resources = self.resources.in_group_version(group, version)
        if not resources:
            raise not_found_path()
        entries: list[dict[str, Any]] = []
        for r in resources:
            entry: dict[str, Any] = {
                "name": r.plural,
                "singularName": r.singular_name,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": list(ALL_VERBS),
            }
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.categories:
                entry["categories"] = list(r.categories)
            entries.append(entry)
            for sub in r.subresources:
                verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
                entries.append(
                    {
                        "name": f"{r.plural}/{sub}",
                        "singularName": "",
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "verbs": verbs,
                    }
                )
        group_version = f"{group}/{version}" if group else version
        return json_response(
            200,
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": group_version,
                "resources": entries,
            },
        )
