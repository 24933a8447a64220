"""The operator emulation against the lab store with a fake launcher (no Spark): upstream names,
labels, selector, ports, Ingress path and rewrite, proxy conf, status and endpoints."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pytest

from platform_kb.processes import wait_until
from platform_kb_lab.driver import DriverRequest
from platform_kb_lab.kubeapi import NotFound, ObjectStore
from platform_kb_lab.operator import (
    Handler,
    HandlerRegistry,
    OperatorSettings,
    SparkOperator,
    default_registry,
)
from platform_kb_lab.operator.naming import (
    generate_name,
    ingress_url,
    operator_spark_conf,
    ui_ingress_name,
    ui_service_name,
)
from platform_kb_lab.submit import build_application

PATH_FORMAT = "/spark-ui/{{$appNamespace}}/{{$appName}}"


@dataclass
class FakeHandle:
    record: None = None
    address: tuple[str, int] | None = None
    app_id: str | None = None
    code: int | None = None
    stopped: bool = False

    def ui_address(self):
        return self.address

    def application_id(self):
        return self.app_id

    def poll(self):
        return self.code

    def stop(self, timeout: float = 8.0) -> None:
        self.stopped = True
        if self.code is None:
            self.code = 143


@dataclass
class FakeLauncher:
    requests: list[DriverRequest] = field(default_factory=list)
    handles: list[FakeHandle] = field(default_factory=list)

    def launch(self, request: DriverRequest) -> FakeHandle:
        handle = FakeHandle()
        self.requests.append(request)
        self.handles.append(handle)
        return handle


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore()


def start_operator(store, settings: OperatorSettings, launcher: FakeLauncher | None = None, registry=None):
    operator = SparkOperator(
        store, settings, launcher or FakeLauncher(), node="127.0.0.9", registry=registry, poll_interval=0.02
    )
    operator.start()
    return operator


def submit(store, operator, name: str, conf: dict | None = None, namespace: str = "spark") -> dict:
    store.create("sparkapplications", namespace, build_application(name, namespace, 5, conf))
    assert operator.wait_idle()
    return store.get("sparkapplications", namespace, name)


# ---------------------------------------------------------------------------- names


def test_short_names_are_app_name_plus_suffix():
    assert ui_service_name("long-test") == "long-test-ui-svc"
    assert ui_ingress_name("long-test") == "long-test-ui-ingress"


def test_long_name_is_truncated_with_md5_of_the_full_name():
    app = "a" * 50 + "-long-test-jhcjbr18"  # 69 characters
    svc, ing = ui_service_name(app), ui_ingress_name(app)
    assert len(svc) <= 63 and len(ing) <= 63
    # pkg/util/sparkapplication.go: name[:63-len(suffix)-10] + "-" + md5(name-suffix)[:8] + "-" + suffix
    assert svc == app[: 63 - 6 - 10] + "-" + hashlib.md5(f"{app}-ui-svc".encode()).hexdigest()[:8] + "-ui-svc"
    assert (
        ing
        == app[: 63 - 10 - 10]
        + "-"
        + hashlib.md5(f"{app}-ui-ingress".encode()).hexdigest()[:8]
        + "-ui-ingress"
    )
    assert len(svc) == 63 and len(ing) == 63


def test_boundary_63_is_kept_64_is_truncated():
    name56 = "b" * 56  # 56 + len("-ui-svc") == 63
    assert generate_name(name56, "ui-svc") == name56 + "-ui-svc"
    name57 = "b" * 57
    truncated = generate_name(name57, "ui-svc")
    assert truncated != name57 + "-ui-svc" and len(truncated) == 63


# ---------------------------------------------------------------------------- URL and proxy conf


def test_url_format_templating_and_scheme():
    url = ingress_url("spark.lab/{{ $appNamespace }}/{{$appName}}/{{$appId}}", "long-test", "spark", "")
    assert (url.scheme, url.host, url.path) == ("http", "spark.lab", "/spark/long-test/")
    path_only = ingress_url(PATH_FORMAT, "long-test", "spark")
    assert (path_only.host, path_only.path, str(path_only)) == (
        "",
        "/spark-ui/spark/long-test",
        "http:///spark-ui/spark/long-test",
    )
    assert ingress_url("https://x.example/ui", "a", "b").scheme == "https"


def _app(name="long-test", conf=None):
    return build_application(name, "spark", 5, conf) | {"metadata": {"name": name, "namespace": "spark"}}


def test_proxy_conf_only_where_not_already_set():
    settings = OperatorSettings(url_format=PATH_FORMAT)
    assert operator_spark_conf(_app(), settings) == {
        "spark.ui.proxyBase": "/spark-ui/spark/long-test",
        "spark.ui.proxyRedirectUri": "/",
    }
    kept = operator_spark_conf(_app(conf={"spark.ui.proxyBase": "/long-test"}), settings)
    assert kept == {"spark.ui.proxyRedirectUri": "/"}
    assert operator_spark_conf(_app(), OperatorSettings(url_format="/")) == {
        "spark.ui.proxyBase": "/",
        "spark.ui.proxyRedirectUri": "/",
    }
    assert operator_spark_conf(_app(), OperatorSettings(url_format="spark.lab")) == {}  # no path at all
    assert (
        operator_spark_conf(_app(), OperatorSettings(url_format=PATH_FORMAT, ui_service_enable=False)) == {}
    )


# ---------------------------------------------------------------------------- the operator


def test_submission_creates_upstream_objects(store):
    launcher = FakeLauncher()
    operator = start_operator(
        store, OperatorSettings(url_format=PATH_FORMAT, ingress_class_name="nginx"), launcher
    )
    try:
        app = submit(store, operator, "long-test")
        request = launcher.requests[0]
        assert request.spark_conf["spark.ui.proxyBase"] == "/spark-ui/spark/long-test"
        assert request.spark_conf["spark.ui.proxyRedirectUri"] == "/"
        assert request.pod_name == "long-test-driver"

        status = app["status"]
        assert status["applicationState"]["state"] == "SUBMITTED"
        submission = status["submissionID"]
        info = status["driverInfo"]
        assert info["podName"] == "long-test-driver"
        assert info["webUIServiceName"] == "long-test-ui-svc"
        assert info["webUIIngressName"] == "long-test-ui-ingress"
        assert info["webUIPort"] == 4040
        service = store.get("services", "spark", "long-test-ui-svc")
        assert info["webUIAddress"] == f"{service['spec']['clusterIP']}:4040"
        assert info["webUIIngressAddress"] == "http:///spark-ui/spark/long-test"

        labels = {
            "sparkoperator.k8s.io/app-name": "long-test",
            "sparkoperator.k8s.io/submission-id": submission,
        }
        assert service["metadata"]["labels"] == labels
        assert service["spec"]["selector"] == {
            "sparkoperator.k8s.io/app-name": "long-test",
            "spark-role": "driver",
        }
        port = service["spec"]["ports"][0]
        assert (port["name"], port["port"], port["targetPort"]) == ("spark-driver-ui-port", 4040, 4040)
        assert service["spec"]["type"] == "ClusterIP"

        ingress = store.get("ingresses", "spark", "long-test-ui-ingress")
        assert ingress["metadata"]["labels"] == labels
        assert ingress["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}
        assert ingress["spec"]["ingressClassName"] == "nginx"
        rule = ingress["spec"]["rules"][0]
        assert "host" not in rule
        path = rule["http"]["paths"][0]
        assert path["path"] == "/spark-ui/spark/long-test(/|$)(.*)"
        assert path["pathType"] == "ImplementationSpecific"
        assert path["backend"]["service"] == {"name": "long-test-ui-svc", "port": {"number": 4040}}
        owner = ingress["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == ("SparkApplication", "long-test", True)

        pod = store.get("pods", "spark", "long-test-driver")
        assert pod["metadata"]["labels"]["spark-role"] == "driver"
        assert pod["metadata"]["labels"]["sparkoperator.k8s.io/app-name"] == "long-test"
        assert pod["status"]["phase"] == "Pending"
        assert store.get("endpoints", "spark", "long-test-ui-svc").get("subsets") in (None, [])
    finally:
        operator.stop()


def test_long_name_app_gets_truncated_objects_with_full_name_labels(store):
    operator = start_operator(store, OperatorSettings(url_format=PATH_FORMAT))
    name = "daily-aggregation-of-the-platform-events-long-test-run-jhcjbr18"  # 64 characters
    assert len(name) > 63 - len("-ui-svc")
    try:
        app = submit(store, operator, name)
        info = app["status"]["driverInfo"]
        assert info["webUIServiceName"] == ui_service_name(name) and len(info["webUIServiceName"]) <= 63
        assert info["webUIIngressName"] == ui_ingress_name(name) and len(info["webUIIngressName"]) <= 63
        by_label = store.list("services", "spark", label_selector={"sparkoperator.k8s.io/app-name": name})
        assert [s["metadata"]["name"] for s in by_label] == [ui_service_name(name)]
        ingresses = store.list("ingresses", "spark", label_selector=f"sparkoperator.k8s.io/app-name={name}")
        assert [i["metadata"]["name"] for i in ingresses] == [ui_ingress_name(name)]
        assert (
            ingresses[0]["spec"]["rules"][0]["http"]["paths"][0]["path"] == f"/spark-ui/spark/{name}(/|$)(.*)"
        )
    finally:
        operator.stop()


def test_root_url_format_gives_root_path_without_rewrite(store):
    launcher = FakeLauncher()
    operator = start_operator(store, OperatorSettings(url_format="/"), launcher)
    try:
        submit(store, operator, "long-test")
        assert launcher.requests[0].spark_conf["spark.ui.proxyBase"] == "/"
        assert launcher.requests[0].spark_conf["spark.ui.proxyRedirectUri"] == "/"
        ingress = store.get("ingresses", "spark", "long-test-ui-ingress")
        assert ingress["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/"
        assert "nginx.ingress.kubernetes.io/rewrite-target" not in (
            ingress["metadata"].get("annotations") or {}
        )
    finally:
        operator.stop()


def test_operator_2_2_does_not_pass_proxy_conf_to_the_driver(store):
    launcher = FakeLauncher()
    operator = start_operator(store, OperatorSettings(url_format=PATH_FORMAT, version="2.2.1"), launcher)
    try:
        submit(store, operator, "long-test", conf={"spark.ui.port": "4045"})
        conf = launcher.requests[0].spark_conf
        assert "spark.ui.proxyBase" not in conf and "spark.ui.proxyRedirectUri" not in conf
        service = store.get("services", "spark", "long-test-ui-svc")
        assert (
            service["spec"]["ports"][0]["port"] == 4045 and service["spec"]["ports"][0]["targetPort"] == 4045
        )
    finally:
        operator.stop()


def test_helm_and_app_ingress_annotations_and_ui_options(store):
    settings = OperatorSettings(url_format=PATH_FORMAT, ingress_annotations={"a/helm": "1", "a/both": "helm"})
    operator = start_operator(store, settings)
    body = build_application("long-test", "spark", 5)
    body["spec"]["sparkUIOptions"] = {
        "servicePort": 80,
        "servicePortName": "http-ui",
        "ingressAnnotations": {"a/both": "app", "nginx.ingress.kubernetes.io/rewrite-target": "/ignored"},
    }
    try:
        store.create("sparkapplications", "spark", body)
        assert operator.wait_idle()
        annotations = store.get("ingresses", "spark", "long-test-ui-ingress")["metadata"]["annotations"]
        assert annotations == {
            "a/helm": "1",
            "a/both": "app",
            "nginx.ingress.kubernetes.io/rewrite-target": "/$2",
        }
        port = store.get("services", "spark", "long-test-ui-svc")["spec"]["ports"][0]
        assert (port["name"], port["port"], port["targetPort"]) == ("http-ui", 80, 4040)
    finally:
        operator.stop()


def test_driver_lifecycle_drives_status_and_endpoints(store):
    launcher = FakeLauncher()
    operator = start_operator(store, OperatorSettings(url_format=PATH_FORMAT), launcher)
    try:
        submit(store, operator, "long-test")
        handle = launcher.handles[0]
        handle.address, handle.app_id = ("127.0.0.9", 4051), "local-123"

        def state() -> str:
            return store.get("sparkapplications", "spark", "long-test")["status"]["applicationState"]["state"]

        assert wait_until(lambda: state() == "RUNNING", 5)
        assert operator.wait_idle()
        app = store.get("sparkapplications", "spark", "long-test")
        assert app["status"]["sparkApplicationId"] == "local-123"
        pod = store.get("pods", "spark", "long-test-driver")
        assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"] == "127.0.0.9"
        assert pod["metadata"]["labels"]["spark-app-selector"] == "local-123"
        assert json.loads(pod["metadata"]["annotations"]["lab.platform-kb/ports"]) == {"4040": 4051}
        subsets = store.get("endpoints", "spark", "long-test-ui-svc")["subsets"]
        assert subsets[0]["addresses"][0]["ip"] == "127.0.0.9"
        assert subsets[0]["addresses"][0]["targetRef"]["name"] == "long-test-driver"
        assert subsets[0]["ports"] == [{"port": 4051, "protocol": "TCP", "name": "spark-driver-ui-port"}]
        slices = store.list(
            "endpointslices", "spark", label_selector={"kubernetes.io/service-name": "long-test-ui-svc"}
        )
        assert slices and slices[0]["endpoints"][0]["addresses"] == ["127.0.0.9"]

        handle.code = 0
        assert wait_until(lambda: state() == "COMPLETED", 5)
        assert operator.wait_idle()
        app = store.get("sparkapplications", "spark", "long-test")
        assert app["status"]["terminationTime"]
        assert store.get("pods", "spark", "long-test-driver")["status"]["phase"] == "Succeeded"
        assert store.get("endpoints", "spark", "long-test-ui-svc")["subsets"] == []
        assert store.list("endpointslices", "spark")[0]["endpoints"] == []
        reasons = {e["reason"] for e in store.list("events", "spark")}
        assert {"SparkApplicationSubmitted", "SparkDriverRunning", "SparkApplicationCompleted"} <= reasons
        # the UI Service and Ingress stay after completion (so the ingress answers 503)
        assert store.get("ingresses", "spark", "long-test-ui-ingress")
    finally:
        operator.stop()


def test_failed_driver_marks_app_failed(store):
    launcher = FakeLauncher()
    operator = start_operator(store, OperatorSettings(url_format=PATH_FORMAT), launcher)
    try:
        submit(store, operator, "long-test")
        launcher.handles[0].code = 1
        assert wait_until(
            lambda: (
                store.get("sparkapplications", "spark", "long-test")["status"]["applicationState"]["state"]
                == "FAILED"
            ),
            5,
        )
        state = store.get("sparkapplications", "spark", "long-test")["status"]["applicationState"]
        assert "ExitCode: 1" in state["errorMessage"]
    finally:
        operator.stop()


def test_deleting_the_app_stops_the_driver_and_deletes_its_objects(store):
    launcher = FakeLauncher()
    operator = start_operator(store, OperatorSettings(url_format=PATH_FORMAT), launcher)
    try:
        submit(store, operator, "long-test")
        store.delete("sparkapplications", "spark", "long-test")
        assert operator.wait_idle()
        assert launcher.handles[0].stopped
        for plural, name in (
            ("pods", "long-test-driver"),
            ("services", "long-test-ui-svc"),
            ("ingresses", "long-test-ui-ingress"),
            ("endpoints", "long-test-ui-svc"),
        ):
            with pytest.raises(NotFound):
                store.get(plural, "spark", name)
    finally:
        operator.stop()


def test_apps_existing_before_start_are_handled(store):
    store.create("sparkapplications", "spark", build_application("early", "spark", 5))
    launcher = FakeLauncher()
    operator = start_operator(store, OperatorSettings(url_format=PATH_FORMAT), launcher)
    try:
        assert operator.wait_idle()
        assert [r.app_name for r in launcher.requests] == ["early"]
    finally:
        operator.stop()


def test_registry_is_injectable(store):
    seen: list[tuple[str, str]] = []
    registry = HandlerRegistry()

    @registry.on("sparkapplications", "ADDED", id="record")
    def record(ctx, event_type, obj):
        seen.append((event_type, obj["metadata"]["name"]))

    launcher = FakeLauncher()
    operator = start_operator(store, OperatorSettings(url_format=PATH_FORMAT), launcher, registry=registry)
    try:
        store.create("sparkapplications", "spark", build_application("x", "spark", 5))
        assert operator.wait_idle()
        assert seen == [("ADDED", "x")] and launcher.requests == []
    finally:
        operator.stop()
    with pytest.raises(ValueError):
        registry.register(Handler("record", "pods", frozenset({"ADDED"}), record))
    assert {h.id for h in default_registry()} >= {"submit", "cleanup"}


@pytest.mark.parametrize(
    ("version", "mode", "base"),
    [
        ("2.3.0", "keep-user", "/"),  # v2.3.0+ keeps the DAG's hand-set value (PR #2599)
        ("2.2.1", "lost", "/"),  # the #2597 regression: the operator's values never reach the driver
        ("2.2.0", "overwrite", "/spark-ui/spark/long-test"),  # before 2.2.1: set over the app's (#1772)
    ],
)
def test_proxy_conf_per_operator_version(version, mode, base):
    from platform_kb_lab.operator.naming import operator_spark_conf

    settings = OperatorSettings(url_format=PATH_FORMAT, version=version)
    assert settings.proxy_conf_mode == mode
    app = build_application("long-test", "spark", 5)
    app["spec"].setdefault("sparkConf", {})["spark.ui.proxyBase"] = "/"
    injected = operator_spark_conf(app, settings)
    driver = {**app["spec"]["sparkConf"], **(injected if settings.proxy_conf_reaches_driver else {})}
    assert driver["spark.ui.proxyBase"] == base


def test_url_format_without_a_path_injects_nothing_but_exactly_slash_does():
    from platform_kb_lab.operator.naming import operator_spark_conf

    app = build_application("long-test", "spark", 5)
    assert operator_spark_conf(app, OperatorSettings(url_format="spark.example.internal")) == {}
    assert operator_spark_conf(app, OperatorSettings(url_format="/")) == {
        "spark.ui.proxyBase": "/",
        "spark.ui.proxyRedirectUri": "/",
    }
