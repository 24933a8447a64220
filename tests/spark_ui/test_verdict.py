"""Issue 13: the verdict comes from the browser-grade page probe, and fixes name where the value comes from.

Cases from #3-10 itself, as captured scenario data (``data/scenarios/handset-proxybase.yaml``,
``literal-fix.yaml``) answered by the same fakes as every other scenario test:

(a) urlFormat with a path + ``spark.ui.proxyBase=/`` set by hand in the DAG's sparkConf: exit 1, the
    fix (and its remedy ``spark-conf``) is in the DAG, not in the Helm value ``urlFormat``;
(b) ``rewrite-target: /`` + ``x-forwarded-prefix`` (the write-up's literal fix): a redirect loop, exit
    1 with ``rewrite-to-single-target`` — never "healthy".
"""

from __future__ import annotations

import pytest

from platform_kb.checks.spark_ui import verdict, working_url
from platform_kb.remedies import REMEDY_KINDS
from platform_kb.results import has_errors

PREFIX = "/spark-ui/spark/long-test"
ENV = f"{PREFIX}/api/v1/applications/spark-7d3c2a8b1e0f4c6a9b5d2e1f0a3c4b5d/environment"
SCENARIOS = (
    "healthy",
    "suffix-mismatch",
    "proxybase-root",
    "driver-finished",
    "missing-rewrite",
    "proxybase-mismatch",
    "handset-proxybase",
    "literal-fix",
)


def test_a_handset_proxybase_is_fixed_in_the_dags_sparkconf(scenario):
    run = scenario("handset-proxybase")
    assert run.ids == ["proxybase-root", "static-assets-broken"]
    assert has_errors(run.findings)  # kb run exits 1
    f = run.finding("proxybase-root")
    kinds = [r.kind for r in f.remedies]
    assert kinds == ["spark-conf"]
    remedy = f.remedies[0]
    assert remedy.target == {"namespace": "spark", "application": "long-test"}
    assert remedy.patch == {"set": {}, "unset": ["spark.ui.proxyBase"]}
    assert "DAG의 sparkConf" in f.fix and "spark.ui.proxyBase" in f.fix
    assert "urlFormat" not in f.fix  # the Helm value is already right: changing it changes nothing
    assert f.evidence["DAG의 sparkConf `spark.ui.proxyBase`"] == "`/`"
    assert f.evidence["spark.ui.proxyBase (드라이버 REST API /environment)"] == "`/`"
    v = verdict(run.obs, run.findings)
    assert not v.healthy and v.working_url is None


def test_proxybase_root_from_a_pathless_urlformat_is_still_the_helm_value(scenario):
    f = scenario("proxybase-root").finding("proxybase-root")
    assert [r.kind for r in f.remedies] == ["operator-values"]
    assert f.remedies[0].patch == {
        "set": {"controller.uiIngress.urlFormat": "/spark-ui/{{$appNamespace}}/{{$appName}}"}
    }
    assert "controller.uiIngress.urlFormat" in f.fix and "DAG의 sparkConf에서" not in f.fix


def test_b_literal_fix_loops_and_is_never_healthy(scenario):
    run = scenario("literal-fix")
    assert run.ids == ["rewrite-to-single-target", "x-forwarded-prefix-ignored"]
    assert has_errors(run.findings)
    assert run.obs.page is not None and run.obs.page.navigation.outcome == "loop"
    assert run.obs.page.navigation.repeated == f"http://127.0.0.1:8080{PREFIX}/jobs/"
    f = run.finding("rewrite-to-single-target")
    assert f.status == "error"
    assert f.evidence["nginx.ingress.kubernetes.io/rewrite-target"] == "/"
    assert "무한 리다이렉트" in f.evidence["브라우저처럼 따라간 경로"]
    assert f.evidence[f"GET {PREFIX}/jobs/"].endswith("(자기 자신으로 리다이렉트: 무한 반복)")
    (remedy,) = f.remedies
    assert remedy.kind == "ingress-annotations"
    assert remedy.target == {"namespace": "spark", "name": "long-test-ui-ingress", "source": "hand-edit"}
    assert remedy.patch == {"set": {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}, "unset": []}
    xfp = run.finding("x-forwarded-prefix-ignored")
    assert xfp.status == "warning"
    assert xfp.remedies[0].patch == {"set": {}, "unset": ["nginx.ingress.kubernetes.io/x-forwarded-prefix"]}
    v = verdict(run.obs, run.findings)
    assert not v.healthy and v.working_url is None
    assert not any("정상" in line for line in v.lines())
    # the loop was detected without chasing redirects forever
    assert len(run.recorder.requests) < 40


def test_x_forwarded_prefix_on_a_working_ui_is_info_only(scenario):
    def add_xfp(doc):
        ing = next(o for o in doc["objects"] if o["kind"] == "Ingress")
        ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/x-forwarded-prefix"] = PREFIX

    run = scenario("healthy", mutate=add_xfp)
    assert run.ids == ["x-forwarded-prefix-ignored"]
    f = run.finding("x-forwarded-prefix-ignored")
    assert f.status == "info" and "X-Forwarded-Context" in f.detail
    assert not has_errors(run.findings)
    v = verdict(run.obs, run.findings)
    assert v.healthy and v.working_url == f"http://127.0.0.1:8080{PREFIX}/"


def test_an_unknown_breakage_is_never_no_findings(scenario):
    """The jobs page answers 500: no known cause holds, so the run says so instead of "healthy"."""

    def jobs_500(doc):
        doc["http"][f"{PREFIX}/jobs/"] = {
            "status": 500,
            "reason": "Server Error",
            "headers": {"Content-Type": "text/html"},
        }

    run = scenario("healthy", mutate=jobs_500)
    assert run.ids == ["ui-broken-unexplained"]
    f = run.finding("ui-broken-unexplained")
    assert f.status == "error"
    assert "500" in f.evidence["판정"] and "500" in f.evidence["마지막 응답"]
    assert working_url(run.obs) is None and not verdict(run.obs, run.findings).healthy


def test_html_instead_of_css_is_broken(scenario):
    """A fallback that answers every asset with the HTML page (200 text/html) does not style anything."""

    def assets_html(doc):
        doc["http"][f"{PREFIX}/static/*"]["headers"]["Content-Type"] = "text/html;charset=utf-8"

    run = scenario("healthy", mutate=assets_html)
    assert "static-assets-broken" in run.ids
    assert not run.obs.ui_works() and working_url(run.obs) is None
    assert all("HTML" in (a.problem or "") for a in run.obs.page.assets)


def test_a_loop_no_known_cause_explains_is_a_redirect_loop(scenario):
    def ping_pong(doc):
        doc["http"][f"{PREFIX}/"]["headers"]["Location"] = f"{PREFIX}/jobs/"
        doc["http"][f"{PREFIX}/jobs/"] = {
            "status": 302,
            "reason": "Found",
            "headers": {"Location": f"{PREFIX}/"},
        }

    run = scenario("healthy", mutate=ping_pong)
    assert run.ids == ["redirect-loop"]
    f = run.finding("redirect-loop")
    assert f.evidence["다시 나온 주소"] == f"http://127.0.0.1:8080{PREFIX}/"
    assert not verdict(run.obs, run.findings).healthy


def test_operator_2_2_1_remedy_sets_proxybase_in_the_dag(scenario):
    """v2.2.1 (only) set proxyBase after spark-submit: the DAG's sparkConf is where it can be set."""

    def unset_in_driver(doc):
        doc["http"][ENV]["body_file"] = "driver-environment-unset.json"
        doc["http"][f"{PREFIX}/"]["headers"]["Location"] = "http://127.0.0.1:8080/jobs/"
        doc["http"][f"{PREFIX}/jobs/"]["body_file"] = "jobs-unprefixed.html"

    f = scenario("healthy", mutate=unset_in_driver).finding("proxybase-mismatch")
    assert "v2.2.1" in f.fix and "DAG의 sparkConf" in f.fix
    assert f.remedies[0].kind == "spark-conf"
    assert f.remedies[0].patch["set"] == {"spark.ui.proxyBase": PREFIX, "spark.ui.proxyRedirectUri": "/"}


def test_handset_other_prefix_is_dropped_from_the_dag(scenario):
    f = scenario("proxybase-mismatch").finding("proxybase-mismatch")
    assert "DAG의 sparkConf" in f.fix
    assert [(r.kind, r.patch) for r in f.remedies] == [
        ("spark-conf", {"set": {}, "unset": ["spark.ui.proxyBase"]})
    ]


def test_suffix_fix_names_the_provider_version(scenario):
    f = scenario("suffix-mismatch").finding("app-name-suffix")
    assert "10.0.0" in f.detail and "PR #43847" in f.detail
    assert [(r.kind, r.patch) for r in f.remedies] == [
        ("dag-operator-args", {"set": {"random_name_suffix": False}})
    ]


@pytest.mark.parametrize("name", SCENARIOS)
def test_verdict_and_working_url_come_from_the_same_probe(scenario, name):
    run = scenario(name)
    v = verdict(run.obs, run.findings)
    assert v.healthy == (run.obs.ui_works() and not has_errors(run.findings))
    # the user's own address is the working one exactly when the probe saw it work
    assert (v.working_url == run.obs.browser_url()) is run.obs.ui_works()
    # healthy exactly when the live page probe worked; never with an error finding
    assert v.healthy == (name in ("healthy", "suffix-mismatch") and not has_errors(run.findings))
    for f in run.findings:
        for r in f.remedies:
            assert r.kind in REMEDY_KINDS and r.summary


def test_missing_rewrite_remedy_carries_the_path_when_it_lacks_the_capture_groups(scenario):
    (remedy,) = scenario("missing-rewrite").finding("missing-rewrite").remedies
    assert remedy.kind == "ingress-annotations" and remedy.target["source"] == "hand-edit"
    assert remedy.patch == {
        "set": {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"},
        "unset": [],
        "path": f"{PREFIX}(/|$)(.*)",
    }
