"""The REST surface seen by raw HTTP: discovery, Status errors, pagination, watch streams, tables, shutdown."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from platform_kb_lab.kubeapi import KubeApiServer, ObjectStore

POD = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "c", "image": "spark"}]}}


def pod(name: str, **labels: str) -> dict:
    return {**POD, "metadata": {"name": name, "labels": labels}}


@pytest.fixture
def http(server: KubeApiServer) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=10, verify=False) as session:
        yield session


def test_discovery_and_health(http: httpx.Client, server: KubeApiServer) -> None:
    assert http.get("/healthz").text == "ok" and http.get("/readyz").status_code == 200
    assert http.get("/version").json()["gitVersion"].endswith("+platform-kb-lab")
    api = http.get("/api").json()
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    assert api["serverAddressByClientCIDRs"][0]["serverAddress"] == f"127.0.0.1:{server.port}"
    core = http.get("/api/v1").json()
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    assert (
        pods["namespaced"]
        and pods["kind"] == "Pod"
        and "watch" in pods["verbs"]
        and pods["shortNames"] == ["po"]
    )
    assert {"pods/status", "pods/log", "namespaces/status"} <= {r["name"] for r in core["resources"]}
    groups = http.get("/apis").json()
    assert groups["kind"] == "APIGroupList"
    names = {g["name"]: g["preferredVersion"]["groupVersion"] for g in groups["groups"]}
    assert (
        names["sparkoperator.k8s.io"] == "sparkoperator.k8s.io/v1beta2"
        and names["networking.k8s.io"] == "networking.k8s.io/v1"
    )
    spark = http.get("/apis/sparkoperator.k8s.io/v1beta2").json()
    assert {r["name"] for r in spark["resources"]} >= {"sparkapplications", "sparkapplications/status"}
    assert http.get("/apis/apps").json()["kind"] == "APIGroup"
    assert "/apis/discovery.k8s.io/v1" in http.get("/").json()["paths"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "code", "reason"),
    [
        ("GET", "/api/v1/namespaces/x/pods/nope", {}, 404, "NotFound"),
        ("GET", "/apis/no.such/v1/things", {}, 404, "NotFound"),
        ("GET", "/api/v1/namespaces/x/widgets", {}, 404, "NotFound"),
        ("POST", "/api/v1/pods", {"json": POD}, 405, "MethodNotAllowed"),
        (
            "PATCH",
            "/api/v1/namespaces/x/pods/p",
            {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
            415,
            "UnsupportedMediaType",
        ),
        ("GET", "/api/v1/namespaces/x/pods?labelSelector=a%20in%20b", {}, 400, "BadRequest"),
        ("GET", "/api/v1/namespaces/x/pods?fieldSelector=spec.containers=x", {}, 400, "BadRequest"),
        (
            "POST",
            "/api/v1/namespaces/x/pods",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "BadRequest",
        ),
        (
            "POST",
            "/api/v1/namespaces/x/pods",
            {"json": {**POD, "metadata": {"name": "p", "namespace": "y"}}},
            400,
            "BadRequest",
        ),
        (
            "POST",
            "/api/v1/namespaces/x/pods",
            {"json": {**POD, "metadata": {"name": "UPPER"}}},
            422,
            "Invalid",
        ),
    ],
)
def test_errors_are_v1_status_objects(
    http: httpx.Client, method: str, path: str, kwargs: dict, code: int, reason: str
) -> None:
    http.post("/api/v1/namespaces/x/pods", json=pod("p"))
    answer = http.request(method, path, **kwargs)
    body = answer.json()
    assert answer.status_code == code
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason and body["message"]


def test_create_conflict_and_status_details(http: httpx.Client) -> None:
    created = http.post("/api/v1/namespaces/x/pods", json=pod("p"))
    assert created.status_code == 201 and created.json()["metadata"]["creationTimestamp"].endswith("Z")
    again = http.post("/api/v1/namespaces/x/pods", json=pod("p")).json()
    assert again["reason"] == "AlreadyExists" and again["details"] == {
        "name": "p",
        "group": "",
        "kind": "pods",
    }
    assert again["message"] == 'pods "p" already exists'
    missing = http.get("/apis/sparkoperator.k8s.io/v1beta2/namespaces/x/sparkapplications/nope").json()
    assert missing["message"] == 'sparkapplications.sparkoperator.k8s.io "nope" not found'


def test_list_pagination_all_namespaces_and_delete_collection(http: httpx.Client) -> None:
    for ns in ("b", "a"):
        for i in range(3):
            assert (
                http.post(f"/api/v1/namespaces/{ns}/pods", json=pod(f"p{i}", tier=str(i % 2))).status_code
                == 201
            )
    everything = http.get("/api/v1/pods").json()
    assert everything["kind"] == "PodList" and everything["apiVersion"] == "v1"
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in everything["items"]][:2] == [
        ("a", "p0"),
        ("a", "p1"),
    ]
    seen, token, pages = [], "", 0
    while True:
        page = http.get(
            "/api/v1/pods", params={"limit": 4, "continue": token} if token else {"limit": 4}
        ).json()
        seen += [p["metadata"]["name"] for p in page["items"]]
        pages += 1
        token = page["metadata"].get("continue", "")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == 2
    assert pages == 2 and len(seen) == 6
    assert http.get("/api/v1/pods", params={"continue": "garbage"}).status_code == 400
    deleted = http.delete("/api/v1/namespaces/a/pods", params={"labelSelector": "tier=0"}).json()
    assert deleted["kind"] == "PodList" and [p["metadata"]["name"] for p in deleted["items"]] == ["p0", "p2"]
    assert len(http.get("/api/v1/namespaces/a/pods").json()["items"]) == 1


def test_namespace_paths_status_and_dry_run(http: httpx.Client) -> None:
    assert http.post("/api/v1/namespaces", json={"metadata": {"name": "spark"}}).status_code == 201
    assert http.get("/api/v1/namespaces/spark").json()["status"]["phase"] == "Active"
    assert http.get("/api/v1/namespaces/spark/status").json()["metadata"]["name"] == "spark"
    assert (
        http.post("/api/v1/namespaces/spark/pods", params={"dryRun": "All"}, json=pod("dry")).status_code
        == 201
    )
    assert http.get("/api/v1/namespaces/spark/pods/dry").status_code == 404
    http.post("/api/v1/namespaces/spark/pods", json=pod("p"))
    http.delete("/api/v1/namespaces/spark/pods/p", params={"dryRun": "All"})
    assert http.get("/api/v1/namespaces/spark/pods/p").status_code == 200
    assert http.delete("/api/v1/namespaces/spark").json()["metadata"]["name"] == "spark"
    assert http.get("/api/v1/namespaces/spark/pods/p").status_code == 404


def test_put_and_patch_content_types(http: httpx.Client) -> None:
    base = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/spark/sparkapplications"
    app = http.post(base, json={"metadata": {"name": "a"}, "spec": {"type": "Python"}}).json()
    merge = {"Content-Type": "application/merge-patch+json"}
    status = http.patch(
        f"{base}/a/status",
        headers=merge,
        content=json.dumps({"status": {"applicationState": {"state": "RUNNING"}}}),
    )
    assert status.json()["status"]["applicationState"]["state"] == "RUNNING"
    json_patch = [{"op": "add", "path": "/spec/arguments", "value": ["1"]}]
    patched = http.patch(
        f"{base}/a", headers={"Content-Type": "application/json-patch+json"}, content=json.dumps(json_patch)
    )
    assert patched.json()["spec"]["arguments"] == ["1"]
    applied = http.patch(
        f"{base}/b",
        params={"fieldManager": "me"},
        headers={"Content-Type": "application/apply-patch+yaml"},
        content=b"apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata:\n  name: b\nspec:\n  type: Scala\n",
    )
    assert applied.status_code == 200 and applied.json()["spec"]["type"] == "Scala"
    stale = http.put(f"{base}/a", json=app)
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    fresh = http.get(f"{base}/a").json()
    fresh["spec"]["type"] = "Java"
    assert http.put(f"{base}/a", json=fresh).json()["spec"]["type"] == "Java"


def _watch_lines(http: httpx.Client, path: str, params: dict, count: int | None = None) -> list[dict]:
    """The watch events, until ``count`` arrived (then the client hangs up) or the server times out."""
    events: list[dict] = []
    with http.stream("GET", path, params={"watch": "true", **params}) as answer:
        assert answer.status_code == 200 and answer.headers["transfer-encoding"] == "chunked"
        for line in answer.iter_lines():
            if line:
                events.append(json.loads(line))
            if count is not None and len(events) >= count:
                break
    return events


def test_watch_replays_from_resource_version_and_reports_410(http: httpx.Client, store: ObjectStore) -> None:
    start = http.get("/api/v1/namespaces/x/pods").json()["metadata"]["resourceVersion"]
    http.post("/api/v1/namespaces/x/pods", json=pod("p"))
    http.patch(
        "/api/v1/namespaces/x/pods/p",
        headers={"Content-Type": "application/merge-patch+json"},
        content=b'{"metadata":{"labels":{"a":"b"}}}',
    )
    http.delete("/api/v1/namespaces/x/pods/p")
    http.post("/api/v1/namespaces/x/pods", json=pod("other"))
    http.post("/api/v1/namespaces/y/pods", json=pod("p"))
    http.post("/api/v1/namespaces/x/pods", json=pod("p"))
    # the deprecated /watch/ path prefix, a field selector, replay from a resourceVersion
    query = {"resourceVersion": start, "timeoutSeconds": "10", "fieldSelector": "metadata.name=p"}
    events = _watch_lines(http, "/api/v1/watch/namespaces/x/pods", query, count=4)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED", "ADDED"]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(start)
    small = ObjectStore(history=2)
    with (
        KubeApiServer(small, host="127.0.0.1", port=0) as other,
        httpx.Client(base_url=other.url, timeout=10, verify=False) as session,
    ):
        for i in range(4):
            session.post("/api/v1/namespaces/x/pods", json=pod(f"p{i}"))
        expired = _watch_lines(
            session, "/api/v1/namespaces/x/pods", {"resourceVersion": "1", "timeoutSeconds": "1"}
        )
    assert (
        expired[0]["type"] == "ERROR"
        and expired[0]["object"]["code"] == 410
        and expired[0]["object"]["reason"] == "Expired"
    )


def test_watch_times_out_and_stop_ends_open_watches(store: ObjectStore) -> None:
    server = KubeApiServer(store, host="127.0.0.1", port=0).start()
    began = time.monotonic()
    with httpx.Client(base_url=server.url, timeout=10, verify=False) as session:
        assert _watch_lines(session, "/api/v1/pods", {"timeoutSeconds": "1"}) == []
    assert 0.9 <= time.monotonic() - began < 3
    outcome: list[str] = []

    def long_watch() -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=10, verify=False) as session:
                outcome.append(str(len(_watch_lines(session, "/api/v1/pods", {"timeoutSeconds": "600"}))))
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)

    reader = threading.Thread(target=long_watch)
    reader.start()
    time.sleep(0.3)  # let the watch establish; the assertion below does not depend on it
    began = time.monotonic()
    server.stop()
    reader.join(5)
    assert not reader.is_alive() and outcome and time.monotonic() - began < 3
    assert not [t for t in threading.enumerate() if t.name.startswith("kubeapi-")]


def test_table_output_for_kubectl(http: httpx.Client) -> None:
    http.post("/api/v1/namespaces/x/pods", json=pod("p"))
    http.post(
        "/apis/sparkoperator.k8s.io/v1beta2/namespaces/x/sparkapplications",
        json={"metadata": {"name": "long-test"}, "spec": {}},
    )
    http.patch(
        "/apis/sparkoperator.k8s.io/v1beta2/namespaces/x/sparkapplications/long-test/status",
        headers={"Content-Type": "application/merge-patch+json"},
        content=b'{"status":{"applicationState":{"state":"RUNNING"}}}',
    )
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    pods = http.get("/api/v1/namespaces/x/pods", headers=accept).json()
    assert pods["kind"] == "Table" and [c["name"] for c in pods["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert pods["rows"][0]["cells"][:3] == ["p", "0/1", "Pending"]
    apps = http.get(
        "/apis/sparkoperator.k8s.io/v1beta2/namespaces/x/sparkapplications", headers=accept
    ).json()
    assert [c["name"] for c in apps["columnDefinitions"]] == [
        "Name",
        "Suspend",
        "Status",
        "Attempts",
        "Start",
        "Finish",
        "Age",
    ]
    assert (
        apps["rows"][0]["cells"][2] == "RUNNING"
        and apps["rows"][0]["object"]["metadata"]["name"] == "long-test"
    )


def test_pod_log_provider(store: ObjectStore) -> None:
    def logs(namespace: str, name: str, params: object) -> str:
        return f"log of {namespace}/{name}\n"

    with (
        KubeApiServer(store, host="127.0.0.1", port=0, pod_log=logs) as srv,
        httpx.Client(base_url=srv.url, timeout=10, verify=False) as session,
    ):
        session.post("/api/v1/namespaces/spark/pods", json=pod("driver"))
        answer = session.get("/api/v1/namespaces/spark/pods/driver/log")
        assert answer.status_code == 200 and answer.text == "log of spark/driver\n"
        assert session.get("/api/v1/namespaces/spark/pods/nope/log").status_code == 404
