"""The two setups #3-10 itself records, and the positive-evidence verdict (issue 13 items 1-3).

1. The likely #3-10 setup: urlFormat with a path (Ingress ``/spark-ui/spark/<app>(/|$)(.*)``,
   ``rewrite-target: /$2``) and ``spark.ui.proxyBase=/`` set by hand in the DAG's ``sparkConf``.
   spark-operator v2.3+ keeps a user-set proxyBase, so the fix is in the DAG, not the Helm values.
2. The literal fix of #3-10: ``rewrite-target: /`` plus ``x-forwarded-prefix`` on that Ingress.
   Every path is rewritten to ``/``; Spark answers ``302 …/jobs/`` forever (observed in the lab,
   ``/work/shared/reference/upstream-facts.md`` §11).

Both start from the captured ``healthy`` data and change only what the setup changes.
"""

from __future__ import annotations

from typing import Any

from platform_kb.checks import has_errors
from platform_kb.checks.spark_ui import working_url

PREFIX = "/spark-ui/spark/long-test"
XFP = "nginx.ingress.kubernetes.io/x-forwarded-prefix"
REWRITE = "nginx.ingress.kubernetes.io/rewrite-target"


def _objects(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in doc["objects"] if o["kind"] == kind and o["metadata"]["name"].startswith("long-test")]


def handset_proxybase(doc: dict[str, Any]) -> None:
    _objects(doc, "SparkApplication")[0]["spec"]["sparkConf"]["spark.ui.proxyBase"] = "/"
    http = doc["http"]
    http[PREFIX + "/"] = {"status": 302, "reason": "Found", "headers": {"Location": "//jobs/"}}
    http[PREFIX + "/jobs/"]["body_file"] = "jobs-proxybase-root.html"
    env = f"{PREFIX}/api/v1/applications/spark-7d3c2a8b1e0f4c6a9b5d2e1f0a3c4b5d/environment"
    http[env]["body_file"] = "driver-environment-root.json"


def literal_fix(doc: dict[str, Any]) -> None:
    annotations = _objects(doc, "Ingress")[0]["metadata"]["annotations"]
    annotations[REWRITE] = "/"
    annotations[XFP] = PREFIX
    # every path under the prefix reaches Spark as "/", which answers 302 <proxyBase>/jobs/
    doc["http"] = {
        PREFIX + "*": {"status": 302, "reason": "Found", "headers": {"Location": PREFIX + "/jobs/"}}
    }


def test_handset_proxybase_names_the_dags_sparkconf_not_the_helm_values(scenario):
    run = scenario("healthy", mutate=handset_proxybase)
    assert has_errors(run.findings)
    assert "proxybase-root" in run.ids
    f = run.finding("proxybase-root")
    assert "DAG" in f.title and "sparkConf" in f.fix
    assert "바꿀 필요가 없습니다" in f.fix  # the Helm value is already right
    assert [(r.kind, r.patch) for r in f.remedies] == [("spark-conf", {"unset": ["spark.ui.proxyBase"]})]
    assert f.remedies[0].target == {"namespace": "spark", "application": "long-test"}
    assert working_url(run.obs) is None
    assert run.obs.visit is not None and run.obs.visit.outcome == "left-host"


def test_proxybase_root_from_the_operator_points_at_the_helm_value(scenario):
    run = scenario("proxybase-root")
    f = run.finding("proxybase-root")
    assert "urlFormat" in f.fix
    assert [r.kind for r in f.remedies] == ["operator-values"]
    assert f.remedies[0].patch == {
        "set": {"controller.uiIngress.urlFormat": "/spark-ui/{{$appNamespace}}/{{$appName}}"}
    }


def test_literal_fix_is_a_loop_never_healthy(scenario):
    run = scenario("healthy", mutate=literal_fix)
    assert has_errors(run.findings)
    assert run.ids[0] == "rewrite-to-single-target"
    assert "x-forwarded-prefix-ignored" in run.ids
    assert run.finding("x-forwarded-prefix-ignored").severity == "warning"
    f = run.finding("rewrite-to-single-target")
    assert f.evidence["결과"].startswith("리다이렉트가 같은 주소로 되돌아옴")
    assert "/jobs/ 302" in f.evidence["브라우저처럼 열기"]
    (remedy,) = f.remedies
    assert remedy.kind == "ingress-annotations"
    assert remedy.target == {"namespace": "spark", "name": "long-test-ui-ingress", "source": "hand-edit"}
    assert remedy.patch == {"set": {REWRITE: "/$2"}}
    assert working_url(run.obs) is None
    assert "redirect-loop" not in run.ids  # the cause is named, not only the symptom


def test_x_forwarded_prefix_with_the_operators_rewrite_works_and_is_info(scenario):
    def with_xfp(doc: dict[str, Any]) -> None:
        _objects(doc, "Ingress")[0]["metadata"]["annotations"][XFP] = PREFIX

    run = scenario("healthy", mutate=with_xfp)
    assert run.ids == ["x-forwarded-prefix-ignored"]
    assert not has_errors(run.findings)
    assert run.finding("x-forwarded-prefix-ignored").severity == "info"
    assert working_url(run.obs) == "http://127.0.0.1:8080/spark-ui/spark/long-test/"


def test_a_loop_of_unknown_cause_is_its_own_finding(scenario):
    def loop(doc: dict[str, Any]) -> None:
        doc["http"][PREFIX + "/"] = {
            "status": 302,
            "reason": "Found",
            "headers": {"Location": PREFIX + "/a/"},
        }
        doc["http"][PREFIX + "/a/"] = {
            "status": 302,
            "reason": "Found",
            "headers": {"Location": PREFIX + "/"},
        }

    run = scenario("healthy", mutate=loop)
    assert "redirect-loop" in run.ids
    assert working_url(run.obs) is None


def test_stylesheets_answered_with_html_are_broken(scenario):
    """A 200 that is an HTML page (a catch-all) is not a stylesheet: positive evidence means the type too."""

    def html_assets(doc: dict[str, Any]) -> None:
        doc["http"][PREFIX + "/static/*"]["headers"] = {"Content-Type": "text/html"}

    run = scenario("healthy", mutate=html_assets)
    assert "static-assets-broken" in run.ids
    assert working_url(run.obs) is None


def test_unexplained_breakage_is_a_finding_not_healthy(scenario):
    """The page answers 500 and nothing known explains it: ui-broken-unexplained with the chain, exit 1."""

    def jobs_500(doc: dict[str, Any]) -> None:
        doc["http"][PREFIX + "/jobs/"] = {"status": 500, "reason": "Server Error", "headers": {}}

    run = scenario("healthy", mutate=jobs_500)
    assert run.ids == ["ui-broken-unexplained"]
    f = run.finding("ui-broken-unexplained")
    assert "500" in f.evidence["브라우저처럼 열기"]
    assert has_errors(run.findings)


def test_assets_follow_redirects_like_a_browser(scenario):
    """A stylesheet behind one redirect inside the tunnel still loads (Chromium follows it)."""

    def redirected(doc: dict[str, Any]) -> None:
        static = doc["http"].pop(PREFIX + "/static/*")
        doc["http"][PREFIX + "/static/real/*"] = static
        doc["http"][PREFIX + "/static/*"] = {
            "status": 302,
            "reason": "Found",
            "headers": {"Location": PREFIX + "/static/real/x.css"},
        }

    run = scenario("healthy", mutate=redirected)
    assert run.ids == []
    assert working_url(run.obs) == "http://127.0.0.1:8080/spark-ui/spark/long-test/"
