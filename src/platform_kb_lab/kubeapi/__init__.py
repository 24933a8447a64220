"""Lab stand-in for the Kubernetes API server: an in-memory store behind the real REST paths.

Flow: ``resources`` (which kinds exist) → ``selectors`` / ``patch`` (query and change semantics) →
``admission`` / ``defaults`` (checks and defaulting before a commit) → ``store`` (objects,
resourceVersions, watch log, callbacks; records in ``objects``) → ``handlers`` (verbs, with
``routing``, ``discovery``, ``watch`` and ``tables`` for kubectl) → ``server`` (HTTP). The lab's operator emulation and ingress renderer use the
store in process; runbooks, the official ``kubernetes`` client and kubectl use the HTTP server.
It is not a Kubernetes API server: see README.md next to this file for what it does and does not do.
"""

from platform_kb_lab.kubeapi.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    KubeApiError,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from platform_kb_lab.kubeapi.handlers import KubeApi
from platform_kb_lab.kubeapi.objects import ADDED, DELETED, MODIFIED, StoredObject
from platform_kb_lab.kubeapi.resources import RESOURCES, Resource, ResourceRegistry
from platform_kb_lab.kubeapi.selectors import FieldSelector, LabelSelector, SelectorError
from platform_kb_lab.kubeapi.server import KubeApiServer, kubeconfig
from platform_kb_lab.kubeapi.store import ObjectStore

__all__ = [
    "ADDED",
    "DELETED",
    "MODIFIED",
    "RESOURCES",
    "AlreadyExists",
    "BadRequest",
    "Conflict",
    "FieldSelector",
    "Gone",
    "Invalid",
    "KubeApi",
    "KubeApiError",
    "KubeApiServer",
    "LabelSelector",
    "MethodNotAllowed",
    "NotFound",
    "ObjectStore",
    "Resource",
    "ResourceRegistry",
    "SelectorError",
    "StoredObject",
    "UnsupportedMediaType",
    "kubeconfig",
]
