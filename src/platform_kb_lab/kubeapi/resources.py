"""The resource registry: which kinds the lab API serves, under which group, version and plural.

First stop in the flow: the HTTP layer maps a URL (``/apis/{group}/{version}/.../{plural}``) to a
:class:`Resource` here, the store keys objects by it, and discovery (``/api/v1``, ``/apis``) is
rendered from it. ``RESOURCES`` holds the built-in kinds; other lab parts add kinds with
``RESOURCES.register(Resource(...))``. Names, short names and field labels follow the real API
server (kubernetes/kubernetes ``pkg/registry/*/storage``, ``pkg/apis/core/v1/conversion.go``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)

# How the name of an object is validated (k8s.io/apimachinery/pkg/util/validation).
NAME_SUBDOMAIN = "subdomain"  # DNS-1123 subdomain, up to 253 characters
NAME_LABEL = "label"  # DNS-1123 label, up to 63 characters (namespaces)
NAME_LABEL_1035 = "label1035"  # DNS-1035 label, up to 63, starts with a letter (services)


@dataclass(frozen=True)
class Resource:
    """One API resource (a kind under a group/version), as discovery describes it."""

    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    singular: str = ""
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # e.g. ("status",); "log" for pods
    field_labels: tuple[str, ...] = ()  # field selectors beyond metadata.name / metadata.namespace
    categories: tuple[str, ...] = ()
    name_rule: str = NAME_SUBDOMAIN
    # CRD-style additionalPrinterColumns for `kubectl get`: (name, type, jsonPath), e.g.
    # ("Status", "string", ".status.applicationState.state"); Name and Age are always shown
    printer_columns: tuple[tuple[str, str, str], ...] = ()
    # the official client's model class objects must parse into (schema.py), e.g. "V1Pod"; "" = unchecked
    client_model: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` field of objects of this resource."""
        return self.group_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """``pods`` or ``sparkapplications.sparkoperator.k8s.io``, as error messages name it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def tracks_generation(self) -> bool:
        """``metadata.generation`` is kept by custom resources and the apps/networking kinds, not core v1."""
        return bool(self.group)

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    def supports_field(self, label: str) -> bool:
        return label in ("metadata.name", "metadata.namespace") or label in self.field_labels


class ResourceRegistry:
    """Resources by (group, version, plural); registration order is discovery order."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._by_key: dict[tuple[str, str, str], Resource] = {}
        for resource in resources:
            self.register(resource)

    def register(self, resource: Resource) -> Resource:
        """Add a kind; registering an identical one again is a no-op, a different one is an error."""
        key = (resource.group, resource.version, resource.plural)
        known = self._by_key.get(key)
        if known is not None and known != resource:
            raise ValueError(
                f"resource {resource.plural} in {resource.group_version} is already registered differently"
            )
        self._by_key[key] = resource
        return resource

    def copy(self) -> ResourceRegistry:
        return ResourceRegistry(self._by_key.values())

    def __iter__(self) -> Iterator[Resource]:
        return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        return self._by_key.get((group, version, plural))

    def by_plural(self, plural: str, group: str | None = None) -> Resource:
        """The resource named ``plural`` (optionally in ``group``); KeyError when unknown."""
        for resource in self._by_key.values():
            if resource.plural == plural and (group is None or resource.group == group):
                return resource
        raise KeyError(
            f"no resource with plural {plural!r}" + (f" in group {group!r}" if group is not None else "")
        )

    def by_kind(self, kind: str, group: str | None = None) -> Resource:
        """The resource of kind ``kind`` (optionally in ``group``); KeyError when unknown."""
        for resource in self._by_key.values():
            if resource.kind == kind and (group is None or resource.group == group):
                return resource
        raise KeyError(
            f"no resource of kind {kind!r}" + (f" in group {group!r}" if group is not None else "")
        )

    def by_api_version(self, api_version: str, kind: str) -> Resource:
        """The resource for an object's ``apiVersion`` and ``kind``; KeyError when unknown."""
        group, _, version = api_version.rpartition("/")
        for resource in self._by_key.values():
            if resource.kind == kind and resource.group == group and resource.version == version:
                return resource
        raise KeyError(f"no resource of kind {kind!r} in {api_version!r}")

    def group_versions(self) -> dict[str, list[str]]:
        """Group name ("" for core) → its versions, in registration order."""
        groups: dict[str, list[str]] = {}
        for resource in self._by_key.values():
            versions = groups.setdefault(resource.group, [])
            if resource.version not in versions:
                versions.append(resource.version)
        return groups

    def in_group_version(self, group: str, version: str) -> list[Resource]:
        return [r for r in self._by_key.values() if r.group == group and r.version == version]


_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)


def builtin_resources() -> list[Resource]:
    """The kinds the lab serves out of the box."""
    status = ("status",)
    kinds = [
        Resource("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",),
                 subresources=status, field_labels=("status.phase",), name_rule=NAME_LABEL),
        Resource("", "v1", "nodes", "Node", namespaced=False, short_names=("no",), subresources=status,
                 field_labels=("spec.unschedulable",)),
        Resource("", "v1", "pods", "Pod", short_names=("po",), subresources=("status", "log"),
                 field_labels=_POD_FIELDS, categories=("all",)),
        Resource("", "v1", "services", "Service", short_names=("svc",), subresources=status,
                 field_labels=("spec.clusterIP", "spec.type"), categories=("all",), name_rule=NAME_LABEL_1035),
        Resource("", "v1", "endpoints", "Endpoints", short_names=("ep",)),
        Resource("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
        Resource("", "v1", "secrets", "Secret", field_labels=("type",)),
        Resource("", "v1", "events", "Event", short_names=("ev",), field_labels=_EVENT_FIELDS),
        Resource("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
        Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", field_labels=("addressType",)),
        Resource("networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",), subresources=status),
        Resource("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
        Resource("apps", "v1", "deployments", "Deployment", short_names=("deploy",), subresources=status,
                 categories=("all",)),
        Resource("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), subresources=status,
                 categories=("all",)),
        Resource("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), subresources=status,
                 categories=("all",)),
        # kubeflow/spark-operator config/crd/bases/sparkoperator.k8s.io_sparkapplications.yaml
        Resource("sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication",
                 short_names=("sparkapp",), subresources=status, printer_columns=(
                     ("Suspend", "boolean", ".spec.suspend"),
                     ("Status", "string", ".status.applicationState.state"),
                     ("Attempts", "string", ".status.executionAttempts"),
                     ("Start", "string", ".status.lastSubmissionAttemptTime"),
                     ("Finish", "string", ".status.terminationTime"),
                 )),
        Resource("sparkoperator.k8s.io", "v1beta2", "scheduledsparkapplications", "ScheduledSparkApplication",
                 short_names=("scheduledsparkapp",), subresources=status),
    ]  # fmt: skip
    models = {"Event": "CoreV1Event"}
    return [
        replace(r, client_model=models.get(r.kind, f"V1{r.kind}")) if r.group != "sparkoperator.k8s.io" else r
        for r in kinds
    ]


RESOURCES = ResourceRegistry(builtin_resources())
