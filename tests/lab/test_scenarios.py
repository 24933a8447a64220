"""Each scenario of issue #3-10, seen through an SSH tunnel to the lab bastion, as a browser sees it.

One lab for the module (the bastion, nginx and the History Server keep running; each scenario
switch restarts only the lab daemon and its driver), one tunnel through the lab's real sshd.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from kubernetes import client

from platform_kb.kube import api_client
from platform_kb_lab.manager import LabManager

from .conftest import OpenTunnel, get, open_tunnel, page_resources, same_origin

pytestmark = [pytest.mark.lab, pytest.mark.slow]

UP_SECONDS: dict[str, float] = {}


def up(lab: LabManager, scenario: str):
    started = time.monotonic()
    status = lab.up(scenario)
    key = scenario if scenario not in UP_SECONDS else f"{scenario} (again, a no-op)"
    UP_SECONDS[key] = round(time.monotonic() - started, 1)
    print(f"\nkb lab up --scenario {scenario}: {UP_SECONDS[key]}s")
    assert status.running and status.scenario == scenario
    return status


@pytest.fixture(scope="module")
def tunnel(lab: LabManager) -> Iterator[OpenTunnel]:
    up(lab, "healthy")  # the bastion must run before the tunnel opens; it stays up across scenarios
    for opened in open_tunnel(lab.settings):
        print(f"\ntunnel: {opened.how}, ingress {opened.base}")
        yield opened
    print(f"\nup seconds per scenario: {UP_SECONDS}")


def kube(lab: LabManager, tunnel: OpenTunnel) -> client.ApiClient:
    """The official client through the tunnel's API forward, with the lab's kubeconfig."""
    return api_client(lab.settings.kubeconfig, server=tunnel.api)


def test_healthy_serves_jobs_page_and_every_css_js(lab, tunnel):
    status = up(lab, "healthy")
    assert status.app["name"] == "long-test" and status.app["state"] == "RUNNING"
    root = get(f"{tunnel.base}/spark-ui/spark/long-test/")
    assert root.status_code == 302
    assert root.headers["location"] == "/spark-ui/spark/long-test/jobs/"
    page_url = f"{tunnel.base}/spark-ui/spark/long-test/jobs/"
    page = get(page_url)
    assert page.status_code == 200 and "Spark Jobs" in page.text
    resources = page_resources(page.text, page_url)
    assert len(resources) >= 5
    for url in resources:
        assert same_origin(url, tunnel.base), url
        assert get(url).status_code == 200, url
    # through the tunnel, the kubeconfig of the profile reaches the lab API
    api = kube(lab, tunnel)
    app = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "sparkoperator.k8s.io", "v1beta2", "spark", "sparkapplications", "long-test"
    )
    assert app["status"]["driverInfo"]["webUIIngressName"] == "long-test-ui-ingress"
    endpoints = client.CoreV1Api(api).read_namespaced_endpoints("long-test-ui-svc", "spark")
    assert endpoints.subsets and endpoints.subsets[0].addresses[0].ip == lab.settings.node


def test_proxybase_mismatch_links_and_redirects_leave_the_ingress_path(lab, tunnel):
    up(lab, "proxybase-mismatch")
    root = get(f"{tunnel.base}/spark-ui/spark/long-test/")
    assert root.status_code == 302 and root.headers["location"] == "/long-test/jobs/"
    assert get(f"{tunnel.base}/long-test/jobs/").status_code == 404
    page_url = f"{tunnel.base}/spark-ui/spark/long-test/jobs/"
    page = get(page_url)
    assert page.status_code == 200
    resources = page_resources(page.text, page_url)
    assert resources and all("/long-test/static/" in u and "/spark-ui/" not in u for u in resources)
    assert {get(u).status_code for u in resources} == {404}


def test_missing_rewrite_sends_the_prefix_to_the_driver(lab, tunnel):
    up(lab, "missing-rewrite")
    api = kube(lab, tunnel)
    ingress = client.NetworkingV1Api(api).read_namespaced_ingress("long-test-ui-ingress", "spark")
    assert "nginx.ingress.kubernetes.io/rewrite-target" not in (ingress.metadata.annotations or {})
    assert ingress.spec.rules[0].http.paths[0].path == "/spark-ui/spark/long-test(/|$)(.*)"
    jobs = get(f"{tunnel.base}/spark-ui/spark/long-test/jobs/")
    assert (
        jobs.status_code == 302 and jobs.headers["location"] == "/spark-ui/spark/long-test/jobs/"
    )  # a redirect loop
    css = get(f"{tunnel.base}/spark-ui/spark/long-test/static/webui.css")
    assert css.status_code == 302  # the stylesheet never arrives


def test_suffix_mismatch_long_test_names_nothing(lab, tunnel):
    status = up(lab, "suffix-mismatch")
    name = status.app["name"]
    assert re.fullmatch(r"long-test-[a-z0-9]{8}", name)
    assert get(f"{tunnel.base}/spark-ui/spark/long-test/").status_code == 404
    real = get(f"{tunnel.base}/spark-ui/spark/{name}/")
    assert real.status_code == 302 and real.headers["location"] == f"/spark-ui/spark/{name}/jobs/"
    api = client.CustomObjectsApi(kube(lab, tunnel))
    names = [
        a["metadata"]["name"]
        for a in api.list_namespaced_custom_object(
            "sparkoperator.k8s.io", "v1beta2", "spark", "sparkapplications"
        )["items"]
    ]
    assert names == [name]


def test_proxybase_root_redirects_to_protocol_relative_jobs(lab, tunnel):
    up(lab, "proxybase-root")
    for path in ("/spark-ui/spark/long-test/", "/"):
        response = get(f"{tunnel.base}{path}")
        assert response.status_code == 302 and response.headers["location"] == "//jobs/", path
    page_url = f"{tunnel.base}/jobs/"
    page = get(page_url)
    assert page.status_code == 200
    resources = page_resources(page.text, page_url)
    assert resources and all(
        not same_origin(u, tunnel.base) for u in resources
    )  # //static/... names host "static"
    assert {re.match(r"http://([^/:]+)", u).group(1) for u in resources} == {"static"}
    ingress = client.NetworkingV1Api(kube(lab, tunnel)).read_namespaced_ingress(
        "long-test-ui-ingress", "spark"
    )
    assert ingress.spec.rules[0].http.paths[0].path == "/"


def test_driver_finished_gives_503_and_history_lists_the_app(lab, tunnel):
    status = up(lab, "driver-finished")
    assert status.app["state"] == "COMPLETED"
    app_id = status.app["applicationId"]
    ui = get(f"{tunnel.base}/spark-ui/spark/long-test/")
    assert ui.status_code == 503
    listed = get(f"{tunnel.base}/spark-history/api/v1/applications")
    assert listed.status_code == 200
    apps = {a["id"]: a for a in listed.json()}
    assert app_id in apps and apps[app_id]["name"] == "long-test"
    assert apps[app_id]["attempts"][-1]["completed"] is True
    index = get(f"{tunnel.base}/spark-history/")
    assert index.status_code == 200 and "/spark-history/static/" in index.text
    # the application's page in the History Server, through the same ingress (it loads, then redirects)
    url = f"{tunnel.base}/spark-history/history/{app_id}/jobs/"
    for _ in range(3):
        response = get(url)
        if response.status_code != 302:
            break
        url = tunnel.base + response.headers["location"]
    assert response.status_code == 200 and "Spark Jobs" in response.text
    endpoints = client.CoreV1Api(kube(lab, tunnel)).read_namespaced_endpoints("long-test-ui-svc", "spark")
    assert not endpoints.subsets
