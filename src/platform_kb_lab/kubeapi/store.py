"""The object store behind the lab Kubernetes API: etcd plus the generic registry, in memory.

Flow: the HTTP layer (``handlers.py`` behind ``server.py``) and in-process lab parts (the operator
emulation, the nginx renderer) call :class:`ObjectStore`; each committed change gets the next ``resourceVersion`` of
one store-wide counter, lands in a bounded event log that ``?watch=true`` streams replay, and is
then handed to ``subscribe`` callbacks.

Semantics follow the real API server's generic registry (kubernetes/kubernetes
``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go``): create fills ``uid``,
``resourceVersion``, ``creationTimestamp`` and, for custom resources and the non-core kinds that
keep one upstream, ``generation``; it answers AlreadyExists (409) for a taken name; update and
patch answer Conflict (409) when the object carries a stale ``resourceVersion``; a no-op update
commits nothing; ``generation`` moves when anything but ``metadata``/``status`` changes. For
resources with a ``status`` subresource, writes to the main resource keep the stored ``status``
and writes to ``/status`` change only ``status``. What is checked and filled in before a commit is
in ``admission.py``, API-server defaulting and address allocation in ``defaults.py``, the records
(stored versions, events, queries) in ``objects.py``.
Simplifications (it is a lab stand-in): deletion is immediate (no graceful deletion, finalizers
are not waited for), deleting a namespace deletes what is in it at once, namespace existence is
not enforced for namespaced objects, and list pagination resumes from the current state rather
than a snapshot.

Thread safety: one lock guards the maps and the log. Stored objects are never mutated after
commit (patches build new objects sharing untouched parts), so a list collects references under
the lock and filters and serialises them outside it; every dict handed to a Python caller is a
private copy. Each stored object caches its JSON encoding, so the server writes lists and watch
events without re-encoding.

Callbacks run in the thread that made the change, after the change is committed and the lock is
released, in commit order for that thread; a callback may call the store again. Do slow work
(starting processes) in a thread of your own. An exception in a callback is logged, not raised.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from platform_kb_lab.kubeapi.admission import (
    IMMUTABLE_META,
    PATCH_TYPES,
    apply_patch,
    check_kind,
    ordered_meta,
    prepare_new,
    spec_of,
    validate_meta,
)
from platform_kb_lab.kubeapi.defaults import (
    ServiceAddresses,
    apply_defaults,
    fold_string_data,
    keep_cluster_ip,
)
from platform_kb_lab.kubeapi.errors import AlreadyExists, BadRequest, Conflict, Gone, Invalid, NotFound
from platform_kb_lab.kubeapi.objects import (
    ADDED,
    DELETED,
    MODIFIED,
    Query,
    StoredObject,
    StoreEvent,
    encode_copy,
    json_copy,
)
from platform_kb_lab.kubeapi.resources import RESOURCES, Resource, ResourceRegistry
from platform_kb_lab.kubeapi.schema import check_readable
from platform_kb_lab.kubeapi.selectors import FieldSelector, LabelSelector, SelectorError

log = logging.getLogger(__name__)

Callback = Callable[[str, Resource, dict], None]


class ObjectStore:
    """Thread-safe in-memory object store with watch history and change callbacks."""

    def __init__(self, resources: ResourceRegistry = RESOURCES, *, history: int = 10_000) -> None:
        self.resources = resources
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._rv = 1  # like etcd, an empty store is at revision 1; the first write gets 2
        self._floor = 1  # the newest resourceVersion dropped from the event log
        self._objects: dict[Resource, dict[str, dict[str, StoredObject]]] = {}
        self._log: deque[StoreEvent] = deque(maxlen=max(history, 1))
        self._subscribers: list[Callback] = []
        self._addresses = ServiceAddresses()

    # ----------------------------------------------------------------- lookups

    def resource(self, res: Resource | str) -> Resource:
        """A Resource as given, or looked up by plural name."""
        if isinstance(res, Resource):
            return res
        try:
            return self.resources.by_plural(res)
        except KeyError as exc:
            raise NotFound(f"the server doesn't have a resource type {res!r}") from exc

    @property
    def resource_version(self) -> int:
        """The newest committed resourceVersion."""
        with self._lock:
            return self._rv

    def query(
        self,
        res: Resource | str,
        namespace: str | None = None,
        label_selector: str | LabelSelector | Mapping[str, str] | None = None,
        field_selector: str | FieldSelector | None = None,
    ) -> Query:
        """A validated Query; BadRequest for a malformed selector or an unsupported field label."""
        resource = self.resource(res)
        try:
            if isinstance(label_selector, LabelSelector):
                labels = label_selector
            elif isinstance(label_selector, Mapping):
                labels = LabelSelector.from_match_labels(label_selector)
            else:
                labels = LabelSelector.parse(label_selector)
            fields = (
                field_selector
                if isinstance(field_selector, FieldSelector)
                else FieldSelector.parse(field_selector)
            )
        except SelectorError as exc:
            raise BadRequest(str(exc)) from exc
        for label in fields.fields:
            if not resource.supports_field(label):
                raise BadRequest(f'field label not supported: {label} for "{resource.kind}"')
        ns = None if not resource.namespaced else (namespace or None)
        return Query(ns, labels, fields)

    def get_stored(self, res: Resource | str, namespace: str | None, name: str) -> StoredObject:
        resource = self.resource(res)
        ns = self._ns_key(resource, namespace)
        with self._lock:
            return self._find(resource, ns, name)

    def select(self, res: Resource | str, query: Query) -> tuple[int, list[StoredObject]]:
        """The resourceVersion at the snapshot and the matching objects sorted by namespace/name."""
        resource = self.resource(res)
        with self._lock:
            rv = self._rv
            spaces = self._objects.get(resource, {})
            if query.namespace is not None:
                buckets = [spaces.get(query.namespace, {})]
            else:
                buckets = [spaces[ns] for ns in sorted(spaces)]
            candidates = [bucket[name] for bucket in buckets for name in sorted(bucket)]
        if query.labels.empty and query.fields.empty:
            return rv, candidates
        return rv, [s for s in candidates if query.matches(s)]

    # ----------------------------------------------------------------- reads

    def get(self, res: Resource | str, namespace: str | None, name: str) -> dict[str, Any]:
        """A copy of the object; NotFound when absent."""
        return self.get_stored(res, namespace, name).copy()

    def list(
        self,
        res: Resource | str,
        namespace: str | None = None,
        label_selector: str | LabelSelector | Mapping[str, str] | None = None,
        field_selector: str | FieldSelector | None = None,
    ) -> list[dict[str, Any]]:
        """Copies of the matching objects, sorted by namespace and name; namespace None = all."""
        _, found = self.select(res, self.query(res, namespace, label_selector, field_selector))
        return [s.copy() for s in found]

    # ----------------------------------------------------------------- writes

    def create(
        self,
        res: Resource | str,
        namespace: str | None,
        obj: Mapping[str, Any],
        *,
        dry_run: bool = False,
        keep_status: bool = True,
    ) -> dict[str, Any]:
        """Store a new object; AlreadyExists (a Conflict, 409) when the name is taken.

        ``keep_status=False`` drops a given ``status`` for resources with a status subresource,
        as the API server does for requests from clients (the HTTP layer passes it).
        """
        resource = self.resource(res)
        new = prepare_new(resource, namespace, obj)
        if not keep_status and resource.has_status:
            new.pop("status", None)
        ns, name = new["metadata"].get("namespace", ""), new["metadata"]["name"]
        with self._lock:
            if name in self._objects.get(resource, {}).get(ns, {}):
                raise AlreadyExists(
                    f'{resource.group_resource} "{name}" already exists',
                    {"name": name, "group": resource.group, "kind": resource.plural},
                )
            apply_defaults(resource, new, self._addresses)
            check_readable(resource, new)
            if dry_run:
                return encode_copy(new)
            stored = self._commit(resource, ns, name, new, ADDED, None)
            event = self._log[-1]
        self._dispatch([event])
        return stored.copy()

    def patch(
        self,
        res: Resource | str,
        namespace: str | None,
        name: str,
        merge_patch: Any,
        subresource: str | None = None,
        *,
        patch_type: str = "merge",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Apply a patch (``patch_type``: merge, strategic, json, apply) to the object or its status.

        ``apply`` (server-side apply, simplified to a strategic merge) creates the object when absent.
        """
        resource = self.resource(res)
        if patch_type not in PATCH_TYPES:
            raise BadRequest(f"unknown patch type {patch_type!r}")
        if patch_type != "json" and not isinstance(merge_patch, Mapping):
            raise BadRequest("a merge patch must be a JSON object")
        merge_patch = json_copy(merge_patch)  # JSON-only values, and no aliasing of the caller's dicts
        ns = self._ns_key(resource, namespace)
        self._check_subresource(resource, subresource)
        with self._lock:
            current = self._objects.get(resource, {}).get(ns, {}).get(name)
            if current is not None:
                candidate = apply_patch(current.obj, merge_patch, patch_type)
                if not isinstance(candidate, dict):
                    raise Invalid("the patched object is not a JSON object")
                result, event = self._update_locked(
                    resource, ns, name, current, candidate, subresource, dry_run
                )
            elif patch_type != "apply" or subresource is not None:
                raise self._not_found(resource, name)
        if current is None:  # server-side apply of a new object creates it
            body = dict(merge_patch)
            body["metadata"] = {**(body.get("metadata") or {}), "name": name}
            return self.create(resource, namespace, body, dry_run=dry_run, keep_status=False)
        if event is not None:
            self._dispatch([event])
        return result

    def replace(
        self,
        res: Resource | str,
        namespace: str | None,
        name: str,
        obj: Mapping[str, Any],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PUT: replace the object (or its status); Conflict when ``metadata.resourceVersion`` is stale."""
        resource = self.resource(res)
        ns = self._ns_key(resource, namespace)
        self._check_subresource(resource, subresource)
        candidate = json_copy(obj)
        if not isinstance(candidate, dict) or not isinstance(candidate.get("metadata", {}), dict):
            raise BadRequest("the object must be a JSON object with a metadata object")
        given_name = candidate.get("metadata", {}).get("name")
        if given_name is not None and given_name != name:
            raise BadRequest(
                f"the name of the object ({given_name}) does not match the name on the URL ({name})"
            )
        check_kind(resource, candidate)
        with self._lock:
            current = self._find(resource, ns, name)
            result, event = self._update_locked(resource, ns, name, current, candidate, subresource, dry_run)
        if event is not None:
            self._dispatch([event])
        return result

    def delete(
        self,
        res: Resource | str,
        namespace: str | None,
        name: str,
        *,
        dry_run: bool = False,
        precondition_uid: str | None = None,
        precondition_rv: str | None = None,
    ) -> dict[str, Any]:
        """Delete at once and answer the deleted object; deleting a namespace deletes its contents."""
        resource = self.resource(res)
        ns = self._ns_key(resource, namespace)
        with self._lock:
            current = self._find(resource, ns, name)
            meta = current.obj["metadata"]
            if precondition_uid and precondition_uid != meta.get("uid"):
                raise Conflict(
                    f'Operation cannot be fulfilled on {resource.group_resource} "{name}": Precondition failed: '
                    f"UID in precondition: {precondition_uid}, UID in object meta: {meta.get('uid')}"
                )
            if precondition_rv and precondition_rv != meta.get("resourceVersion"):
                raise Conflict(
                    f'Operation cannot be fulfilled on {resource.group_resource} "{name}": Precondition failed: '
                    f"ResourceVersion in precondition: {precondition_rv}, "
                    f"ResourceVersion in object meta: {meta.get('resourceVersion')}"
                )
            if dry_run:
                return current.copy()
            before = self._rv
            if resource.kind == "Namespace" and not resource.group:
                self._delete_namespace_contents_locked(name)
            gone = self._delete_locked(resource, ns, name, current)
            events = self._tail_after(before)
        self._dispatch(events)
        return gone.copy()

    def delete_collection(
        self,
        res: Resource | str,
        namespace: str | None,
        label_selector: str | LabelSelector | Mapping[str, str] | None = None,
        field_selector: str | FieldSelector | None = None,
        *,
        dry_run: bool = False,
    ) -> list[dict[str, Any]]:
        """Delete every matching object; answers the deleted objects."""
        resource = self.resource(res)
        query = self.query(resource, namespace, label_selector, field_selector)
        _, found = self.select(resource, query)
        deleted: list[dict[str, Any]] = []
        for stored in found:
            meta = stored.obj["metadata"]
            try:
                deleted.append(self.delete(resource, meta.get("namespace"), meta["name"], dry_run=dry_run))
            except NotFound:
                continue
        return deleted

    # ----------------------------------------------------------------- watch and callbacks

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event_type, resource, obj_copy)`` after every commit; returns an unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def events_after(self, rv: int, timeout: float) -> list[StoreEvent]:
        """Events newer than ``rv``, waiting up to ``timeout`` seconds for one; Gone when ``rv`` is too old."""
        with self._lock:
            if rv < self._floor:
                raise Gone(f"too old resource version: {rv} ({self._floor + 1})")
            if self._rv <= rv:
                self._changed.wait_for(lambda: self._rv > rv, timeout)
            if rv < self._floor:
                raise Gone(f"too old resource version: {rv} ({self._floor + 1})")
            return self._tail_after(rv)

    def wake_watchers(self) -> None:
        """Wake every waiting :meth:`events_after` (used when the server stops)."""
        with self._lock:
            self._changed.notify_all()

    # ----------------------------------------------------------------- bootstrap

    def bootstrap(self) -> None:
        """Create what a fresh cluster has: the four standard namespaces and ``default/kubernetes``."""
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            try:
                self.create("namespaces", None, {"metadata": {"name": ns}})
            except AlreadyExists:
                pass
        try:
            self.create(
                "services",
                "default",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "clusterIP": "10.96.0.1",
                        "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
                    },
                },
            )
        except AlreadyExists:
            pass

    # ----------------------------------------------------------------- internals

    def _ns_key(self, resource: Resource, namespace: str | None) -> str:
        if not resource.namespaced:
            return ""
        if not namespace:
            raise BadRequest(f"a namespace is required for {resource.group_resource}")
        return namespace

    def _find(self, resource: Resource, ns: str, name: str) -> StoredObject:
        found = self._objects.get(resource, {}).get(ns, {}).get(name)
        if found is None:
            raise self._not_found(resource, name)
        return found

    @staticmethod
    def _not_found(resource: Resource, name: str) -> NotFound:
        return NotFound(
            f'{resource.group_resource} "{name}" not found',
            {"name": name, "group": resource.group, "kind": resource.plural},
        )

    @staticmethod
    def _check_subresource(resource: Resource, subresource: str | None) -> None:
        if subresource is not None and (subresource != "status" or not resource.has_status):
            raise NotFound(
                f"the server could not find the requested resource ({resource.plural}/{subresource})"
            )

    def _update_locked(
        self,
        resource: Resource,
        ns: str,
        name: str,
        current: StoredObject,
        candidate: dict[str, Any],
        subresource: str | None,
        dry_run: bool,
    ) -> tuple[dict[str, Any], StoreEvent | None]:
        """Turn a patched/replacing object into the next version and commit it (lock held).

        Answers the caller's copy and the event to dispatch once the lock is released.
        """
        old = current.obj
        old_meta = old["metadata"]
        given_meta = candidate.get("metadata") if isinstance(candidate.get("metadata"), dict) else {}
        given_rv = given_meta.get("resourceVersion")
        if given_rv not in (None, "", old_meta["resourceVersion"]):
            raise Conflict(
                f'Operation cannot be fulfilled on {resource.group_resource} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
                {"name": name, "group": resource.group, "kind": resource.plural},
            )
        if subresource == "status":
            new = {k: v for k, v in old.items() if k != "status"}
            if "status" in candidate:
                new["status"] = candidate["status"]
        else:
            new = {"apiVersion": resource.api_version, "kind": resource.kind}
            new.update({k: v for k, v in candidate.items() if k not in ("apiVersion", "kind")})
            meta = {k: v for k, v in given_meta.items() if k not in IMMUTABLE_META}
            meta.update({k: old_meta[k] for k in IMMUTABLE_META if k in old_meta})
            new["metadata"] = meta
            if resource.has_status:
                new.pop("status", None)
                if "status" in old:
                    new["status"] = old["status"]
            validate_meta(resource, name, meta)
            if resource.kind == "Service" and not resource.group:
                keep_cluster_ip(old, new)
            if resource.kind == "Secret" and not resource.group:
                fold_string_data(new)
        meta = dict(new["metadata"])
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if resource.tracks_generation:
            meta["generation"] = int(old_meta.get("generation", 1))
            if spec_of(new) != spec_of(old):
                meta["generation"] += 1
        else:
            meta.pop("generation", None)
        new["metadata"] = ordered_meta(meta)
        if new == old:
            return current.copy(), None
        check_readable(resource, new)
        if dry_run:
            return encode_copy(new), None
        stored = self._commit(resource, ns, name, new, MODIFIED, current)
        return stored.copy(), self._log[-1]

    def _delete_locked(self, resource: Resource, ns: str, name: str, current: StoredObject) -> StoredObject:
        gone = {**current.obj, "metadata": {**current.obj["metadata"]}}
        return self._commit(resource, ns, name, gone, DELETED, None)

    def _delete_namespace_contents_locked(self, namespace: str) -> None:
        for resource, spaces in list(self._objects.items()):
            if not resource.namespaced:
                continue
            for name, stored in sorted(spaces.get(namespace, {}).items()):
                self._delete_locked(resource, namespace, name, stored)

    def _commit(
        self,
        resource: Resource,
        ns: str,
        name: str,
        obj: dict[str, Any],
        event_type: str,
        previous: StoredObject | None,
    ) -> StoredObject:
        """Give ``obj`` the next resourceVersion, store or drop it, log the event (lock held)."""
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        stored = StoredObject(obj, self._rv)
        spaces = self._objects.setdefault(resource, {})
        if event_type == DELETED:
            bucket = spaces.get(ns, {})
            bucket.pop(name, None)
            if not bucket:
                spaces.pop(ns, None)
            self._addresses.release(resource, obj)
        else:
            spaces.setdefault(ns, {})[name] = stored
        if len(self._log) == self._log.maxlen:
            self._floor = self._log[0].rv
        self._log.append(StoreEvent(self._rv, event_type, resource, ns, stored, previous))
        self._changed.notify_all()
        return stored

    def _tail_after(self, rv: int) -> list[StoreEvent]:
        """Logged events newer than ``rv``, oldest first (lock held)."""
        newer: list[StoreEvent] = []
        for event in reversed(self._log):
            if event.rv <= rv:
                break
            newer.append(event)
        newer.reverse()
        return newer

    def _dispatch(self, events: list[StoreEvent]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for event in events:
            for callback in subscribers:
                try:
                    callback(event.type, event.resource, event.current.copy())
                except Exception:
                    log.exception(
                        "store subscriber %r failed on %s %s", callback, event.type, event.resource.plural
                    )
