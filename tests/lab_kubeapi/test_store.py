"""ObjectStore semantics: metadata filling, conflicts, patches, status subresource, events, callbacks."""

from __future__ import annotations

import re
import threading

import pytest

from platform_kb_lab.kubeapi import (
    RESOURCES,
    AlreadyExists,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    ObjectStore,
    Resource,
    ResourceRegistry,
)

SPARKAPPS = RESOURCES.by_plural("sparkapplications")
PODS = RESOURCES.by_plural("pods")
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def pod(name: str = "", **meta: object) -> dict:
    return {
        "metadata": {"name": name, **meta} if name else dict(meta),
        "spec": {"containers": [{"name": "c"}]},
    }


def sparkapp(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "spec": {"type": "Python", "mode": "cluster"}}


def test_create_fills_metadata_and_returns_a_copy(store: ObjectStore) -> None:
    created = store.create(SPARKAPPS, "spark", sparkapp("long-test"))
    meta = created["metadata"]
    assert created["apiVersion"] == "sparkoperator.k8s.io/v1beta2" and created["kind"] == "SparkApplication"
    assert meta["namespace"] == "spark" and re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert meta["resourceVersion"] == "2" and meta["generation"] == 1
    assert RFC3339_Z.fullmatch(meta["creationTimestamp"])
    created["spec"]["type"] = "mutated by caller"
    assert store.get(SPARKAPPS, "spark", "long-test")["spec"]["type"] == "Python"
    with pytest.raises(AlreadyExists) as info:
        store.create("sparkapplications", "spark", sparkapp("long-test"))
    assert isinstance(info.value, Conflict) and info.value.code == 409
    assert 'sparkapplications.sparkoperator.k8s.io "long-test" already exists' in str(info.value)


def test_core_kinds_have_no_generation_and_get_defaults(store: ObjectStore) -> None:
    ns = store.create("namespaces", None, {"metadata": {"name": "spark"}})
    assert "generation" not in ns["metadata"] and ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "spark"}
    created = store.create(PODS, "spark", pod("p"))
    assert created["status"]["phase"] == "Pending"
    svc = store.create("services", "spark", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 4040}]}})
    assert svc["spec"]["clusterIP"].startswith("10.96.") and svc["spec"]["ports"][0]["targetPort"] == 4040
    node_port = store.create(
        "services",
        "spark",
        {"metadata": {"name": "n"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}},
    )
    assert 30000 <= node_port["spec"]["ports"][0]["nodePort"] <= 32767
    secret = store.create(
        "secrets", "spark", {"metadata": {"name": "minio"}, "stringData": {"key": "s3cr3t"}}
    )
    assert secret["type"] == "Opaque" and secret["data"] == {"key": "czNjcjN0"} and "stringData" not in secret
    replaced = store.replace(
        "services", "spark", "s", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 4041}]}}
    )
    assert replaced["spec"]["clusterIP"] == svc["spec"]["clusterIP"]


def test_generate_name_and_name_validation(store: ObjectStore) -> None:
    created = store.create(PODS, "spark", pod(generateName="long-test-"))
    assert re.fullmatch(r"long-test-[bcdfghjklmnpqrstvwxz2456789]{5}", created["metadata"]["name"])
    with pytest.raises(Invalid):
        store.create(PODS, "spark", pod("Not_Valid"))
    with pytest.raises(Invalid):
        store.create("services", "spark", {"metadata": {"name": "x" * 64}})
    with pytest.raises(Invalid):
        store.create(PODS, "spark", pod("p", labels={"bad key": "v"}))
    with pytest.raises(BadRequest):
        store.create(PODS, "spark", pod("p", namespace="other"))
    with pytest.raises(BadRequest):
        store.create(PODS, None, pod("p"))
    assert store.create(PODS, None, pod("p", namespace="spark"))["metadata"]["namespace"] == "spark"


def test_built_in_kinds_must_be_readable_by_the_official_client(store: ObjectStore) -> None:
    with pytest.raises(Invalid, match=r"V1PodSpec\.containers"):
        store.create(PODS, "spark", {"metadata": {"name": "p"}})
    store.create(PODS, "spark", pod("p"))
    with pytest.raises(Invalid):
        store.patch(PODS, "spark", "p", {"spec": {"containers": None}})
    with pytest.raises(Invalid):
        store.create(
            "services", "spark", {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "no-port"}]}}
        )
    store.create(
        SPARKAPPS, "spark", {"metadata": {"name": "free-form"}, "spec": {"anything": [1, {"goes": True}]}}
    )


def test_list_filters_by_namespace_labels_and_fields(store: ObjectStore) -> None:
    store.create(SPARKAPPS, "spark", sparkapp("a", team="x", tier="1"))
    store.create(SPARKAPPS, "spark", sparkapp("b", team="y"))
    store.create(SPARKAPPS, "other", sparkapp("c", team="x"))

    def names(**kwargs: object) -> list[str]:
        return [o["metadata"]["name"] for o in store.list(SPARKAPPS, **kwargs)]

    assert names() == ["c", "a", "b"]  # sorted by namespace, then name
    assert names(namespace="spark") == ["a", "b"]
    assert names(label_selector="team=x") == ["c", "a"]
    assert names(label_selector="team in (x,y),!tier") == ["c", "b"]
    assert names(label_selector={"team": "y"}) == ["b"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.namespace!=spark") == ["c"]
    with pytest.raises(BadRequest):
        store.list(SPARKAPPS, field_selector="spec.mode=cluster")  # not a supported field label
    with pytest.raises(BadRequest):
        store.list(SPARKAPPS, label_selector="team in x")


def test_merge_patch_generation_and_noop(store: ObjectStore) -> None:
    store.create(SPARKAPPS, "spark", sparkapp("a"))
    labelled = store.patch(SPARKAPPS, "spark", "a", {"metadata": {"labels": {"k": "v"}}})
    assert labelled["metadata"]["generation"] == 1 and labelled["metadata"]["resourceVersion"] == "3"
    changed = store.patch(SPARKAPPS, "spark", "a", {"spec": {"mode": None, "image": "spark:4"}})
    assert changed["metadata"]["generation"] == 2 and "mode" not in changed["spec"]
    same = store.patch(SPARKAPPS, "spark", "a", {"spec": {"image": "spark:4"}})
    assert same["metadata"]["resourceVersion"] == changed["metadata"]["resourceVersion"]
    renamed = store.patch(SPARKAPPS, "spark", "a", {"metadata": {"name": "b", "uid": "x"}})
    assert renamed["metadata"]["name"] == "a" and renamed["metadata"]["uid"] == changed["metadata"]["uid"]
    with pytest.raises(NotFound):
        store.patch(SPARKAPPS, "spark", "missing", {"spec": {}})


def test_patch_types(store: ObjectStore) -> None:
    store.create(
        PODS,
        "spark",
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}},
    )
    smp = store.patch(
        PODS, "spark", "p", {"spec": {"containers": [{"name": "b", "image": "y"}]}}, patch_type="strategic"
    )
    assert smp["spec"]["containers"] == [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]
    jp = store.patch(
        PODS,
        "spark",
        "p",
        [{"op": "add", "path": "/metadata/labels", "value": {"x": "1"}}],
        patch_type="json",
    )
    assert jp["metadata"]["labels"] == {"x": "1"}
    applied = store.patch("configmaps", "spark", "new-cm", {"data": {"a": "1"}}, patch_type="apply")
    assert applied["data"] == {"a": "1"} and applied["metadata"]["resourceVersion"]
    with pytest.raises(BadRequest):
        store.patch(PODS, "spark", "p", {}, patch_type="xml")
    with pytest.raises(BadRequest):
        store.patch(PODS, "spark", "p", {"metadata": {"annotations": {"when": object()}}})
    assert store.get(PODS, "spark", "p")["metadata"]["labels"] == {"x": "1"}


def test_status_subresource_semantics(store: ObjectStore) -> None:
    store.create(SPARKAPPS, "spark", sparkapp("a"))
    spec_write = store.patch(
        SPARKAPPS, "spark", "a", {"spec": {"image": "x"}, "status": {"applicationState": {"state": "FAKE"}}}
    )
    assert "status" not in spec_write and spec_write["spec"]["image"] == "x"
    status = store.patch(
        SPARKAPPS,
        "spark",
        "a",
        {"status": {"applicationState": {"state": "RUNNING"}}, "spec": {"image": "y"}},
        "status",
    )
    assert status["status"]["applicationState"]["state"] == "RUNNING" and status["spec"]["image"] == "x"
    assert status["metadata"]["generation"] == spec_write["metadata"]["generation"]
    with pytest.raises(NotFound):
        store.patch("configmaps", "spark", "a", {"status": {}}, "status")
    with pytest.raises(NotFound):
        store.patch(SPARKAPPS, "spark", "a", {}, "scale")


def test_replace_optimistic_concurrency(store: ObjectStore) -> None:
    created = store.create(SPARKAPPS, "spark", sparkapp("a"))
    fresh = dict(created, spec={"type": "Scala"})
    replaced = store.replace(SPARKAPPS, "spark", "a", fresh)
    assert replaced["spec"] == {"type": "Scala"} and replaced["metadata"]["uid"] == created["metadata"]["uid"]
    with pytest.raises(Conflict) as info:
        store.replace(SPARKAPPS, "spark", "a", dict(created, spec={"type": "R"}))  # stale resourceVersion
    assert "the object has been modified" in str(info.value) and not isinstance(info.value, AlreadyExists)
    stale_patch = {
        "metadata": {"resourceVersion": created["metadata"]["resourceVersion"]},
        "spec": {"type": "R"},
    }
    with pytest.raises(Conflict):
        store.patch(SPARKAPPS, "spark", "a", stale_patch)
    unconditional = {"metadata": {"name": "a"}, "spec": {"type": "Java"}}
    assert store.replace(SPARKAPPS, "spark", "a", unconditional)["spec"]["type"] == "Java"
    with pytest.raises(BadRequest):
        store.replace(SPARKAPPS, "spark", "a", {"metadata": {"name": "other"}})
    with pytest.raises(NotFound):
        store.replace(SPARKAPPS, "spark", "missing", {"metadata": {"name": "missing"}})


def test_delete_and_namespace_cascade(store: ObjectStore) -> None:
    store.create("namespaces", None, {"metadata": {"name": "spark"}})
    store.create(SPARKAPPS, "spark", sparkapp("a"))
    store.create(PODS, "spark", pod("p"))
    store.create(PODS, "keep", pod("p"))
    with pytest.raises(Conflict):
        store.delete(PODS, "spark", "p", precondition_uid="not-the-uid")
    gone = store.delete(PODS, "spark", "p")
    assert (
        gone["metadata"]["name"] == "p" and int(gone["metadata"]["resourceVersion"]) == store.resource_version
    )
    with pytest.raises(NotFound):
        store.get(PODS, "spark", "p")
    with pytest.raises(NotFound):
        store.delete(PODS, "spark", "p")
    store.delete("namespaces", None, "spark")
    assert store.list(SPARKAPPS) == [] and [p["metadata"]["namespace"] for p in store.list(PODS)] == ["keep"]
    store.create(PODS, "keep", pod("q", labels={"x": "1"}))
    assert [p["metadata"]["name"] for p in store.delete_collection(PODS, "keep", label_selector="x=1")] == [
        "q"
    ]


def test_subscribe_callbacks_fire_in_order_and_can_reenter(store: ObjectStore) -> None:
    seen: list[tuple[str, str, str]] = []

    def on_change(event: str, res: Resource, obj: dict) -> None:
        seen.append((event, res.plural, obj["metadata"]["name"]))
        if res.plural == "sparkapplications" and event == "ADDED":  # an operator reacting in process
            store.create(PODS, "spark", pod(obj["metadata"]["name"] + "-driver"))
        obj["metadata"]["name"] = "callbacks get private copies"

    unsubscribe = store.subscribe(on_change)
    store.subscribe(lambda *_: 1 / 0)  # a failing subscriber does not break the write
    store.create(SPARKAPPS, "spark", sparkapp("a"))
    store.patch(SPARKAPPS, "spark", "a", {"status": {"applicationState": {"state": "RUNNING"}}}, "status")
    store.delete(SPARKAPPS, "spark", "a")
    unsubscribe()
    store.create(SPARKAPPS, "spark", sparkapp("b"))
    assert seen == [
        ("ADDED", "sparkapplications", "a"),
        ("ADDED", "pods", "a-driver"),
        ("MODIFIED", "sparkapplications", "a"),
        ("DELETED", "sparkapplications", "a"),
    ]
    assert store.get(PODS, "spark", "a-driver")["metadata"]["name"] == "a-driver"


def test_event_log_and_gone(store: ObjectStore) -> None:
    small = ObjectStore(history=3)
    for i in range(5):
        small.create(PODS, "spark", pod(f"p{i}"))
    assert [e.rv for e in small.events_after(3, timeout=0)] == [4, 5, 6]
    with pytest.raises(Gone):
        small.events_after(2, timeout=0)
    assert small.events_after(6, timeout=0.05) == []
    results: list[list[int]] = []
    waiter = threading.Thread(target=lambda: results.append([e.rv for e in small.events_after(6, timeout=5)]))
    waiter.start()
    small.patch(PODS, "spark", "p0", {"metadata": {"labels": {"a": "b"}}})
    waiter.join(5)
    assert results == [[7]]


def test_concurrent_writers_get_unique_resource_versions(store: ObjectStore) -> None:
    def writer(prefix: str) -> None:
        for i in range(50):
            store.create(PODS, "spark", pod(f"{prefix}-{i}"))

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    versions = [int(p["metadata"]["resourceVersion"]) for p in store.list(PODS)]
    assert len(versions) == 200 and sorted(versions) == list(range(2, 202))


def test_register_a_new_kind() -> None:
    registry = ResourceRegistry(RESOURCES)
    widget = registry.register(Resource("example.com", "v1", "widgets", "Widget"))
    assert registry.register(Resource("example.com", "v1", "widgets", "Widget")) == widget
    with pytest.raises(ValueError):
        registry.register(Resource("example.com", "v1", "widgets", "Gadget"))
    store = ObjectStore(registry)
    assert store.create("widgets", "ns", {"metadata": {"name": "w"}})["apiVersion"] == "example.com/v1"
    assert RESOURCES.by_kind("Ingress").group == "networking.k8s.io"
    with pytest.raises(KeyError):
        RESOURCES.by_plural("widgets")
