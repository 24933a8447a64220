"""The official kubernetes client (v37) against the lab API, unchanged: CoreV1, NetworkingV1, CustomObjects, watch."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from kubernetes import client, watch

from platform_kb_lab.kubeapi import ObjectStore

GROUP, VERSION, PLURAL = "sparkoperator.k8s.io", "v1beta2", "sparkapplications"


def pod(name: str, **labels: str) -> dict:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark"}]},
    }


def test_core_create_answers_201_with_server_fields(core: client.CoreV1Api) -> None:
    ns = core.create_namespace({"metadata": {"name": "spark"}})
    assert (
        ns.metadata.uid
        and ns.metadata.resource_version
        and isinstance(ns.metadata.creation_timestamp, datetime)
    )
    assert ns.status.phase == "Active"
    created, status_code, _ = core.create_namespaced_pod_with_http_info(
        "spark", pod("long-test-driver", **{"spark-role": "driver"})
    )
    assert status_code == 201
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    svc = core.create_namespaced_service(
        "spark",
        {
            "metadata": {"name": "long-test-ui-svc"},
            "spec": {
                "selector": {"spark-role": "driver"},
                "ports": [{"name": "spark-driver-ui-port", "port": 4040}],
            },
        },
    )
    assert svc.spec.cluster_ip and svc.spec.ports[0].target_port == 4040
    endpoints = core.create_namespaced_endpoints(
        "spark",
        {
            "metadata": {"name": "long-test-ui-svc"},
            "subsets": [{"addresses": [{"ip": "127.0.0.2"}], "ports": [{"port": 4040}]}],
        },
    )
    assert endpoints.metadata.uid and endpoints.subsets[0].addresses[0].ip == "127.0.0.2"
    assert [n.metadata.name for n in core.list_namespace().items] == ["spark"]
    assert core.read_namespace("spark").metadata.name == "spark"


def test_core_get_list_selectors_patch_delete(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(
        "spark", pod("driver", **{"spark-role": "driver", "sparkoperator.k8s.io/app-name": "long-test"})
    )
    core.create_namespaced_pod(
        "spark", pod("exec-1", **{"spark-role": "executor", "sparkoperator.k8s.io/app-name": "long-test"})
    )
    core.create_namespaced_pod(
        "spark", pod("other", **{"spark-role": "driver", "sparkoperator.k8s.io/app-name": "other"})
    )
    core.create_namespaced_pod("default", pod("elsewhere", **{"spark-role": "driver"}))

    def names(items: list) -> list[str]:
        return [i.metadata.name for i in items]

    assert core.read_namespaced_pod("driver", "spark").metadata.labels["spark-role"] == "driver"
    listed = core.list_namespaced_pod("spark")
    assert names(listed.items) == ["driver", "exec-1", "other"] and listed.metadata.resource_version
    assert names(core.list_namespaced_pod("spark", label_selector="spark-role=driver").items) == [
        "driver",
        "other",
    ]
    both = "sparkoperator.k8s.io/app-name=long-test,spark-role in (driver,executor)"
    assert names(core.list_namespaced_pod("spark", label_selector=both).items) == ["driver", "exec-1"]
    assert names(core.list_namespaced_pod("spark", label_selector="spark-role notin (driver)").items) == [
        "exec-1"
    ]
    assert names(core.list_namespaced_pod("spark", field_selector="metadata.name=other").items) == ["other"]
    assert names(core.list_pod_for_all_namespaces(label_selector="spark-role==driver").items) == [
        "elsewhere",
        "driver",
        "other",
    ]

    patched = core.patch_namespaced_pod(
        "driver", "spark", {"metadata": {"labels": {"spark-role": None, "x": "y"}}}
    )
    assert "spark-role" not in patched.metadata.labels and patched.metadata.labels["x"] == "y"
    deleted = core.delete_namespaced_pod("driver", "spark")
    assert deleted.metadata.name == "driver"
    assert names(core.list_namespaced_pod("spark").items) == ["exec-1", "other"]


def test_errors_surface_as_api_exceptions(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as missing:
        core.read_namespaced_pod("nope", "spark")
    assert missing.value.status == 404 and '"reason":"NotFound"' in missing.value.body.replace(" ", "")
    core.create_namespaced_pod("spark", pod("p"))
    with pytest.raises(client.ApiException) as taken:
        core.create_namespaced_pod("spark", pod("p"))
    assert taken.value.status == 409 and "AlreadyExists" in taken.value.body
    current = core.read_namespaced_pod("p", "spark")
    core.patch_namespaced_pod("p", "spark", {"metadata": {"labels": {"a": "b"}}})
    with pytest.raises(client.ApiException) as stale:
        core.replace_namespaced_pod("p", "spark", current)
    assert stale.value.status == 409 and "Conflict" in stale.value.body
    with pytest.raises(client.ApiException) as bad:
        core.list_namespaced_pod("spark", label_selector="a in b")
    assert bad.value.status == 400
    with pytest.raises(client.ApiException) as gone:
        core.delete_namespaced_pod("nope", "spark")
    assert gone.value.status == 404


def test_networking_ingresses(api_client: client.ApiClient) -> None:
    net = client.NetworkingV1Api(api_client)
    body = {
        "metadata": {
            "name": "long-test-ui-ingress",
            "labels": {"sparkoperator.k8s.io/app-name": "long-test"},
            "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"},
        },
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/spark/long-test(/|$)(.*)",
                                "pathType": "ImplementationSpecific",
                                "backend": {
                                    "service": {"name": "long-test-ui-svc", "port": {"number": 4040}}
                                },
                            }
                        ]
                    }
                }
            ],
        },
    }
    created = net.create_namespaced_ingress("spark", body)
    assert (
        created.metadata.generation == 1
        and created.spec.rules[0].http.paths[0].path_type == "ImplementationSpecific"
    )
    found = net.list_namespaced_ingress(
        "spark", label_selector="sparkoperator.k8s.io/app-name=long-test"
    ).items
    assert [i.metadata.name for i in found] == ["long-test-ui-ingress"]
    assert (
        net.list_ingress_for_all_namespaces()
        .items[0]
        .metadata.annotations["nginx.ingress.kubernetes.io/rewrite-target"]
        == "/$2"
    )
    status = net.patch_namespaced_ingress_status(
        "long-test-ui-ingress", "spark", {"status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.2"}]}}}
    )
    assert status.status.load_balancer.ingress[0].ip == "127.0.0.2"
    net.delete_namespaced_ingress("long-test-ui-ingress", "spark")
    assert net.list_namespaced_ingress("spark").items == []


def test_custom_objects_sparkapplications(custom: client.CustomObjectsApi) -> None:
    app = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "SparkApplication",
        "metadata": {"name": "long-test", "labels": {"dag": "d"}},
        "spec": {"type": "Python", "sparkConf": {"spark.ui.port": "4040"}},
        "status": {"applicationState": {"state": "IGNORED ON CREATE"}},
    }
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "spark", PLURAL, app)
    assert (
        created["metadata"]["uid"]
        and created["metadata"]["resourceVersion"]
        and created["metadata"]["creationTimestamp"]
    )
    assert "status" not in created  # dropped on create, like a CRD with the status subresource
    custom.create_namespaced_custom_object(
        GROUP, VERSION, "spark", PLURAL, {**app, "metadata": {"name": "other"}}
    )
    assert (
        custom.get_namespaced_custom_object(GROUP, VERSION, "spark", PLURAL, "long-test")["spec"]["type"]
        == "Python"
    )
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, "spark", PLURAL, label_selector="dag=d")
    assert listed["kind"] == "SparkApplicationList" and [i["metadata"]["name"] for i in listed["items"]] == [
        "long-test"
    ]
    assert listed["metadata"]["resourceVersion"]
    everywhere = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert len(everywhere["items"]) == 2
    status = {
        "status": {
            "applicationState": {"state": "RUNNING"},
            "driverInfo": {"webUIServiceName": "long-test-ui-svc", "webUIPort": 4040},
        }
    }
    patched = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, "spark", PLURAL, "long-test", status
    )
    assert patched["status"]["applicationState"]["state"] == "RUNNING"
    spec_patch = custom.patch_namespaced_custom_object(
        GROUP, VERSION, "spark", PLURAL, "long-test", {"spec": {"arguments": ["60"]}}
    )
    assert (
        spec_patch["spec"]["arguments"] == ["60"] and spec_patch["status"]["driverInfo"]["webUIPort"] == 4040
    )
    assert spec_patch["metadata"]["generation"] == 2
    with pytest.raises(client.ApiException) as missing:
        custom.get_namespaced_custom_object(GROUP, VERSION, "spark", PLURAL, "nope")
    assert missing.value.status == 404
    deleted = custom.delete_namespaced_custom_object(GROUP, VERSION, "spark", PLURAL, "long-test")
    assert deleted["metadata"]["name"] == "long-test"
    assert [
        i["metadata"]["name"]
        for i in custom.list_namespaced_custom_object(GROUP, VERSION, "spark", PLURAL)["items"]
    ] == ["other"]


def test_watch_sees_added_modified_deleted(core: client.CoreV1Api, store: ObjectStore) -> None:
    core.create_namespaced_pod("spark", pod("existing"))
    events: list[tuple[str, str]] = []
    started = threading.Event()
    w = watch.Watch()

    def consume() -> None:
        for event in w.stream(core.list_namespaced_pod, "spark", timeout_seconds=10):
            events.append((event["type"], event["object"].metadata.name))
            started.set()
            if event["type"] == "DELETED":
                w.stop()

    reader = threading.Thread(target=consume)
    reader.start()
    assert started.wait(5)  # the initial ADDED of "existing" arrived, so the watch is established
    core.create_namespaced_pod("spark", pod("new"))
    core.create_namespaced_pod("elsewhere", pod("ignored"))
    core.patch_namespaced_pod("new", "spark", {"metadata": {"labels": {"a": "b"}}})
    core.delete_namespaced_pod("new", "spark")
    reader.join(10)
    assert not reader.is_alive()
    assert events == [("ADDED", "existing"), ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new")]


def test_watch_from_resource_version_with_selector_transitions(core: client.CoreV1Api) -> None:
    listed = core.list_namespaced_pod("spark")
    core.create_namespaced_pod("spark", pod("p", role="driver"))
    core.patch_namespaced_pod("p", "spark", {"metadata": {"labels": {"role": "executor"}}})
    core.patch_namespaced_pod("p", "spark", {"metadata": {"labels": {"role": "driver"}}})
    w = watch.Watch()
    seen = []
    for e in w.stream(
        core.list_namespaced_pod,
        "spark",
        label_selector="role=driver",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=10,
    ):
        seen.append((e["type"], e["object"].metadata.labels["role"]))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "driver"), ("DELETED", "executor"), ("ADDED", "driver")]


def test_watch_custom_objects(custom: client.CustomObjectsApi) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, "spark", PLURAL, {"metadata": {"name": "a"}, "spec": {}}
    )
    w = watch.Watch()
    seen = []
    for e in w.stream(
        custom.list_namespaced_custom_object, GROUP, VERSION, "spark", PLURAL, timeout_seconds=10
    ):
        seen.append((e["type"], e["object"]["metadata"]["name"], e["object"]["metadata"]["resourceVersion"]))
        if len(seen) == 1:
            custom.delete_namespaced_custom_object(GROUP, VERSION, "spark", PLURAL, "a")
        else:
            w.stop()
    assert [s[:2] for s in seen] == [("ADDED", "a"), ("DELETED", "a")] and int(seen[1][2]) > int(seen[0][2])
