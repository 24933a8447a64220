"""Detection on captured API objects and HTTP responses: every finding id, healthy, and the evidence."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from platform_kb.checks.spark_ui import diagnose, working_url
from platform_kb.checks.spark_ui.model import AppInfo, IngressInfo, Observations, expected_conf
from platform_kb.checks.spark_ui.present import describe_ingress
from platform_kb.probes import HttpResult
from platform_kb.results import has_errors
from platform_kb_lab.scenarios import SCENARIOS as LAB_SCENARIOS

DATA = Path(__file__).parent / "data"
MAIN_APP = ("long-test", "spark")
# the lab scenarios the captured data was taken from (those that differ only in monitoring have the
# Spark side of another scenario: exporter-down is healthy for Spark)
SCENARIOS = tuple(name for name, s in LAB_SCENARIOS.items() if not s.exporters_down)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_findings_match_the_captured_data(scenario, name):
    run = scenario(name)
    doc_expect = yaml.safe_load((DATA / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8"))
    assert run.ids == doc_expect["expect"]
    assert working_url(run.obs) == doc_expect["working_url"]
    assert has_errors(run.findings) == bool(doc_expect["expect"])
    for f in run.findings:
        assert f.evidence, f.id
        assert f.fix and f.detail and f.title, f.id
    # no request ever left loopback
    assert run.recorder.hosts <= {"127.0.0.1"}


def test_healthy_yields_nothing_and_the_url(scenario):
    run = scenario("healthy")
    assert run.findings == []
    assert run.obs.app.name == "long-test"
    assert run.obs.driver_conf.proxy_base == "/spark-ui/spark/long-test"
    assert len(run.obs.assets) == 14 and not any(a.broken for a in run.obs.assets)
    assert working_url(run.obs) == "http://127.0.0.1:8080/spark-ui/spark/long-test/"


def test_kube_calls_are_a_fixed_set_by_label(scenario):
    run = scenario("healthy")
    calls = [(c.what, c.selector) for c in run.reader.calls]
    assert calls == [
        ("sparkapplications", ""),
        ("ingresses", "sparkoperator.k8s.io/app-name=long-test"),
        ("services", "sparkoperator.k8s.io/app-name=long-test"),
        ("pods", "sparkoperator.k8s.io/app-name=long-test,spark-role=driver"),
        ("endpointslices", "kubernetes.io/service-name=long-test-ui-svc"),
    ]


def test_noise_apps_are_not_taken_for_the_dag_name(scenario):
    run = scenario("healthy")
    assert [a.name for a in run.obs.apps] == ["long-test"]


def test_suffix_evidence_and_fix(scenario):
    run = scenario("suffix-mismatch")
    f = run.finding("app-name-suffix")
    assert f.status == "error"
    assert "long-test-jhcjbr18" in f.title
    assert f.evidence["GET /spark-ui/spark/long-test/ (DAG 이름으로 만든 주소)"].startswith(
        "HTTP/1.1 404 Not Found"
    )
    assert "random_name_suffix=False" in f.fix
    assert "http://127.0.0.1:8080/spark-ui/spark/long-test-jhcjbr18/" in f.fix


def test_suffix_with_the_tried_url_also_reports_the_path_mismatch(scenario):
    run = scenario("suffix-mismatch", url="http://127.0.0.1:8080/spark-ui/spark/long-test/")
    assert run.ids == ["app-name-suffix", "ingress-path-mismatch"]
    f = run.finding("ingress-path-mismatch")
    assert (
        f.evidence["Ingress 경로"] == "/spark-ui/spark/long-test-jhcjbr18(/|$)(.*) (ImplementationSpecific)"
    )
    assert f.evidence["GET /spark-ui/spark/long-test/"].startswith("HTTP/1.1 404")


def test_path_mismatch_as_in_3_10(scenario):
    # #3-10: the user tried /long-test-.../ while the operator's path was /spark-ui/spark/<appName>/
    run = scenario("healthy", url="http://localhost:8080/long-test-jhcjbr18/")
    assert run.ids == ["ingress-path-mismatch"]
    assert "http://127.0.0.1:8080/spark-ui/spark/long-test/" in run.finding("ingress-path-mismatch").fix


def test_tried_url_that_matches_gives_no_mismatch(scenario):
    for url in (
        "http://127.0.0.1:8080/spark-ui/spark/long-test",
        "/spark-ui/spark/long-test/jobs/",
        "127.0.0.1:8080/SPARK-UI/spark/long-test/",
    ):
        assert scenario("healthy", url=url).ids == [], url


def test_proxybase_root_evidence(scenario):
    run = scenario("proxybase-root")
    f = run.finding("proxybase-root")
    assert f.evidence["GET /"] == "HTTP/1.1 302 Found; Location: //jobs/"
    assert f.evidence["spark.ui.proxyBase (드라이버 REST API /environment)"] == "`/`"
    assert "//static/" in f.evidence["페이지의 CSS/JS 주소"]
    assert "controller.uiIngress.urlFormat" in f.fix and "/spark-ui/{{$appNamespace}}/{{$appName}}" in f.fix
    assert "http://127.0.0.1:8080/spark-ui/spark/long-test/" in f.fix
    assets = run.finding("static-assets-broken")
    assert assets.evidence["깨진 CSS/JS"] == "14/14"
    # //jobs/ and //static/... were resolved to other hosts and never requested
    assert run.obs.location is not None and run.obs.location.status is None
    assert run.obs.location.url == "http://jobs/"
    assert all(a.result is None and a.url.startswith("http://static/") for a in run.obs.assets)


def test_driver_finished_points_to_the_history_server(scenario):
    run = scenario("driver-finished")
    f = run.finding("no-ready-endpoints")
    assert f.evidence["GET /spark-ui/spark/long-test/"] == "HTTP/1.1 503 Service Temporarily Unavailable"
    assert f.evidence["엔드포인트"].startswith("준비됨 0개")
    assert f.evidence["SparkApplication 상태"] == "COMPLETED"
    hs = "http://127.0.0.1:8080/spark-history/history/spark-7d3c2a8b1e0f4c6a9b5d2e1f0a3c4b5d/jobs/"
    assert hs in f.fix
    assert run.obs.history.conf.proxy_base == "/spark-ui/spark/long-test"


def test_driver_finished_without_history_entry(scenario):
    run = scenario("driver-finished", history_server_url="/elsewhere/")
    f = run.finding("no-ready-endpoints")
    assert "spark.eventLog.enabled=true" in f.fix
    assert f.evidence["History Server"].startswith("앱 없음 (HTTP/1.1 404")
    assert working_url(run.obs) is None


def test_missing_rewrite_shows_the_redirect_loop(scenario):
    run = scenario("missing-rewrite")
    f = run.finding("missing-rewrite")
    assert f.evidence["GET /spark-ui/spark/long-test/jobs/"].endswith("(자기 자신으로 리다이렉트: 무한 반복)")
    assert f.evidence["nginx.ingress.kubernetes.io/rewrite-target"] == "(없음)"
    assert "/spark-ui/spark/long-test(/|$)(.*)" in f.fix and "/$2" in f.fix
    # conf read from the spec + operator rule (the REST API is not reachable) matches the prefix
    assert run.obs.driver_conf is None
    assert run.obs.conf.proxy_base == "/spark-ui/spark/long-test"


def test_proxybase_mismatch_evidence(scenario):
    run = scenario("proxybase-mismatch")
    f = run.finding("proxybase-mismatch")
    assert f.evidence["spark.ui.proxyBase (드라이버 REST API /environment)"] == "`/spark-ui/long-test`"
    assert (
        f.evidence["GET /spark-ui/spark/long-test/"]
        == "HTTP/1.1 302 Found; Location: /spark-ui/long-test/jobs/"
    )
    assert f.evidence["GET /spark-ui/long-test/jobs/ (Location을 따라가면)"].startswith("HTTP/1.1 404")
    assert "404" in f.evidence["CSS/JS 예"]
    broken = run.finding("static-assets-broken")
    assert "접두사" in broken.fix


def test_operator_v2_2_1_never_passed_proxybase(scenario):
    """v2.2.1 (only) set proxyBase after spark-submit: the driver has none (operator issue #2597)."""

    def unset_in_driver(doc):
        env = (
            "/spark-ui/spark/long-test/api/v1/applications/spark-7d3c2a8b1e0f4c6a9b5d2e1f0a3c4b5d/environment"
        )
        doc["http"][env]["body_file"] = "driver-environment-unset.json"
        doc["http"]["/spark-ui/spark/long-test/"]["headers"]["Location"] = "http://127.0.0.1:8080/jobs/"
        doc["http"]["/spark-ui/spark/long-test/jobs/"]["body_file"] = "jobs-unprefixed.html"

    run = scenario("healthy", mutate=unset_in_driver)
    assert run.ids == ["proxybase-mismatch", "static-assets-broken"]
    f = run.finding("proxybase-mismatch")
    assert "(설정 안 됨)" in f.title
    assert f.evidence["spark.ui.proxyBase (드라이버 REST API /environment)"] == "(설정 안 됨)"
    # the expected value (spec + operator rule) would have been right: the driver's own value decides
    assert run.obs.expected.proxy_base == "/spark-ui/spark/long-test"


def test_app_not_found(scenario):
    run = scenario("healthy", app_name="no-such-job")
    assert run.ids == ["app-not-found"]
    assert [c.what for c in run.reader.calls] == ["sparkapplications"]


def test_newest_first_and_an_older_exact_name_makes_the_suffix_a_warning(scenario):
    def add_newer_suffixed_run(doc):
        app = copy.deepcopy(next(o for o in doc["objects"] if o["kind"] == "SparkApplication"))
        app["metadata"].update(name="long-test-a1b2c3d4", creationTimestamp="2026-01-04T02:00:00Z")
        app["status"] = {"applicationState": {"state": "SUBMITTED"}}
        doc["objects"].append(app)

    run = scenario("healthy", mutate=add_newer_suffixed_run)
    assert [a.name for a in run.obs.apps] == ["long-test-a1b2c3d4", "long-test"]
    assert run.obs.app.name == "long-test-a1b2c3d4"
    assert run.ids == ["app-name-suffix", "ingress-not-found"]
    assert run.finding("app-name-suffix").status == "warning"
    assert run.finding("app-name-suffix").evidence["`long-test` 이름의 SparkApplication"] == "있음(더 오래됨)"


def _app(**kw) -> AppInfo:
    return AppInfo(name=kw.pop("name", "long-test"), namespace="spark", **kw)


def _ingress(
    path: str, annotations: dict | None = None, host: str = "", path_type: str = "ImplementationSpecific"
) -> IngressInfo:
    obj = {
        "metadata": {"name": "x-ui-ingress", "annotations": annotations or {}},
        "spec": {
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": path,
                                "pathType": path_type,
                                "backend": {"service": {"name": "x-ui-svc", "port": {"number": 4040}}},
                            }
                        ]
                    },
                }
            ]
        },
    }
    return IngressInfo.from_object(obj)


class TestExpectedConf:
    """Mirrors spark-operator's own cases (internal/controller/sparkapplication, v2.3.0+)."""

    def test_without_path_nothing_is_added(self):
        conf = expected_conf(_app(ui_ingress_address="http://test-app.ingress.example.com"), None)
        assert (conf.proxy_base, conf.proxy_redirect_uri) == (None, None)

    def test_with_path(self):
        conf = expected_conf(_app(ui_ingress_address="http://ingress.example.com/default/test-app"), None)
        assert (conf.proxy_base, conf.proxy_redirect_uri) == ("/default/test-app", "/")
        assert "v2.3+" in conf.source

    def test_existing_values_preserved(self):
        app = _app(
            ui_ingress_address="http://ingress.example.com/default/test-app",
            spark_conf={"spark.ui.proxyBase": "/custom", "spark.ui.proxyRedirectUri": "/keep"},
        )
        conf = expected_conf(app, None)
        assert (conf.proxy_base, conf.proxy_redirect_uri) == ("/custom", "/keep")

    def test_root_path_is_not_excluded(self):
        conf = expected_conf(_app(ui_ingress_address="http:///"), None)
        assert (conf.proxy_base, conf.proxy_redirect_uri) == ("/", "/")

    def test_falls_back_to_the_ingress_path(self):
        conf = expected_conf(
            _app(),
            _ingress(
                "/spark-ui/spark/long-test(/|$)(.*)", {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}
            ),
        )
        assert conf.proxy_base == "/spark-ui/spark/long-test"


class TestIngressMatching:
    REGEX = {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}

    def test_operator_regex_path(self):
        ing = _ingress("/spark-ui/spark/long-test(/|$)(.*)", self.REGEX)
        assert ing.prefix == "/spark-ui/spark/long-test/"
        assert ing.matches("/spark-ui/spark/long-test")
        assert ing.matches("/spark-ui/spark/long-test/jobs/")
        assert ing.matches("/Spark-UI/spark/long-test/")  # ingress-nginx regex locations are case-insensitive
        assert not ing.matches("/spark-ui/spark/long-test-jhcjbr18/")
        assert not ing.matches("/long-test/")

    def test_regex_path_without_rewrite_is_literal(self):
        ing = _ingress("/spark-ui/spark/long-test(/|$)(.*)")
        assert not ing.matches("/spark-ui/spark/long-test/")

    def test_prefix_and_exact(self):
        assert _ingress("/a/b", path_type="Prefix").matches("/a/b/c")
        assert not _ingress("/a/b", path_type="Prefix").matches("/a/bc")
        assert _ingress("/a/b", path_type="Exact").matches("/a/b")
        assert not _ingress("/a/b", path_type="Exact").matches("/a/b/")

    def test_host_rule(self):
        ing = _ingress("/", host="spark.homelab")
        assert ing.matches("/jobs/", "spark.homelab")
        assert not ing.matches("/jobs/", None)

    def test_describe_like_kubectl(self):
        text = describe_ingress(_ingress("/spark-ui/spark/long-test(/|$)(.*)", self.REGEX))
        assert "Name:             x-ui-ingress" in text
        assert "/spark-ui/spark/long-test(/|$)(.*) (ImplementationSpecific)   x-ui-svc:4040 (<none>)" in text
        assert "Annotations:      nginx.ingress.kubernetes.io/rewrite-target: /$2" in text


def test_host_based_ingress_sends_the_host_header(scenario):
    def with_host(doc):
        for o in doc["objects"]:
            if o["kind"] == "Ingress":
                o["spec"]["rules"][0]["host"] = "spark.homelab"
            if (
                o["kind"] == "SparkApplication"
                and (o["metadata"]["name"], o["metadata"]["namespace"]) == MAIN_APP
            ):
                o["status"]["driverInfo"]["webUIIngressAddress"] = (
                    "http://spark.homelab/spark-ui/spark/long-test"
                )

    run = scenario("healthy", mutate=with_host, url="http://spark.homelab:8080/spark-ui/spark/long-test/")
    assert run.ids == []
    assert {r.headers["host"] for r in run.recorder.requests} == {"spark.homelab"}
    assert run.recorder.hosts == {"127.0.0.1"}
    assert working_url(run.obs) == "http://spark.homelab:8080/spark-ui/spark/long-test/"
    # the same URL on 127.0.0.1 misses the host rule
    run = scenario("healthy", mutate=with_host, url="http://127.0.0.1:8080/spark-ui/spark/long-test/")
    assert run.ids == ["ingress-path-mismatch"]


def test_each_finding_only_with_its_evidence():
    """A bare observation (no HTTP, no conf problems) raises nothing beyond what the objects show."""
    ing = _ingress("/spark-ui/spark/long-test(/|$)(.*)", TestIngressMatching.REGEX)
    obs = Observations(namespace="spark", app_name="long-test", apps=[_app()], app=_app(), ingress=ing)
    assert [f.id for f in diagnose(obs)] == ["no-ready-endpoints"]  # no Service at all: nginx would 503
    from platform_kb.checks.spark_ui.model import EndpointsInfo, ServiceInfo

    obs.service = ServiceInfo("x-ui-svc")
    obs.endpoints = EndpointsInfo(("10.0.0.1:4040",))
    assert diagnose(obs) == []
    obs2 = copy.copy(obs)
    obs2.prefix = HttpResult(
        url="http://127.0.0.1:8080/spark-ui/spark/long-test/", status=302, reason="Found", location="//jobs/"
    )
    assert [f.id for f in diagnose(obs2)] == ["proxybase-root"]


def test_endpoints_fall_back_when_there_are_no_endpointslices(scenario):
    """Clusters (or API stand-ins) without EndpointSlices for the Service: core/v1 Endpoints instead."""

    def endpoints_instead_of_slices(doc):
        doc["objects"] = [o for o in doc["objects"] if o["kind"] != "EndpointSlice"]
        doc["objects"].append(
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "long-test-ui-svc", "namespace": "spark"},
                "subsets": [
                    {
                        "addresses": [{"ip": "10.244.1.23"}],
                        "ports": [{"name": "spark-driver-ui-port", "port": 4040}],
                    }
                ],
            }
        )

    run = scenario("healthy", mutate=endpoints_instead_of_slices)
    assert run.ids == []
    assert run.obs.endpoints.source == "Endpoints" and run.obs.endpoints.ready == ("10.244.1.23:4040",)
    assert [c.what for c in run.reader.calls][-2:] == ["endpointslices", "endpoints"]
    assert run.reader.calls[-1].selector == "metadata.name=long-test-ui-svc"


@pytest.mark.parametrize(
    ("given", "url", "host"),
    [
        ("", "http://127.0.0.1:8080/spark-history/", None),
        ("/history", "http://127.0.0.1:8080/history/", None),
        ("http://127.0.0.1:18080", "http://127.0.0.1:18080/", None),
        ("http://localhost:18080/x/", "http://localhost:18080/x/", None),
        ("http://history.homelab/", "http://127.0.0.1:8080/", "history.homelab"),
        ("history.homelab/spark-history", "http://127.0.0.1:8080/spark-history/", "history.homelab"),
    ],
)
def test_history_server_location_stays_on_the_tunnel(given, url, host):
    from platform_kb.checks.spark_ui.facts import history_location

    assert history_location("http://127.0.0.1:8080", given) == (url, host)
