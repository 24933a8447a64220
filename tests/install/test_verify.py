"""Read-only verification: UI pages and their CSS/JS, pods, the operator's UI Ingress, smoke apps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace as NS

import pytest

from platform_kb.checks.pages import ui_check
from platform_kb.install import verify
from platform_kb.probes import Prober, extract_assets
from platform_kb.results import Check

PAGE = """<html><head>
<link rel="stylesheet" href="{p}/static/bootstrap.min.css" type="text/css"/>
<script src="{p}/static/jquery.min.js"></script><script src="{js}"></script>
<link rel="icon" href="{p}/static/favicon.ico"/>
</head><body>jobs</body></html>"""


class UiHandler(BaseHTTPRequestHandler):
    """A Spark-UI-like server: `/ok/` behaves, `/root/` redirects to `//jobs/`, `/rel/` links `//static`."""

    def log_message(self, *args) -> None:
        pass

    def _send(
        self, status: int, body: str = "", location: str | None = None, kind: str = "text/html"
    ) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def _asset(self) -> None:
        self._send(200, "/* asset */", kind="text/css" if self.path.endswith(".css") else "text/javascript")

    def do_GET(self) -> None:
        path = self.path
        if path == "/ok/":
            return self._send(302, location="/ok/jobs/")
        if path == "/ok/jobs/":
            return self._send(200, PAGE.format(p="/ok", js="/ok/static/app.js"))
        if path.startswith(("/ok/static/", "/static/", "/broken/static/")) and not path.endswith(
            "missing.js"
        ):
            return self._asset()
        if path == "/root/":
            return self._send(302, location="//jobs/")  # proxyBase=/ with proxyRedirectUri=/
        if path == "/rel/jobs/":
            return self._send(200, PAGE.format(p="", js="//static/app.js"))  # proxyBase=/ links
        if path == "/lost/":
            return self._send(302, location="/ok/jobs/")  # prefix lost (a working page elsewhere)
        if path == "/broken/jobs/":
            return self._send(200, PAGE.format(p="/broken", js="/broken/static/missing.js"))
        return self._send(404, "not found")


@pytest.fixture(scope="module")
def ui() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), UiHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def said(check: Check) -> str:
    """Everything a check shows about its cause: the detail and every evidence value."""
    return " ".join([check.detail, *map(str, check.evidence.values())])


def test_page_assets_are_parsed_in_order() -> None:
    refs, base = extract_assets(PAGE.format(p="/a", js="/a/x.js"))
    assert [r.ref for r in refs] == ["/a/static/bootstrap.min.css", "/a/static/jquery.min.js", "/a/x.js"]
    assert base is None


def test_ui_page_ok_follows_redirects_and_loads_assets(ui: str) -> None:
    with Prober(timeout=5) as prober:
        check = ui_check(ui, "/ok/", "ok", prefix="/ok", prober=prober)
    assert (check.id, check.status) == ("ui", "ok"), check
    assert "302 (Location: /ok/jobs/)" in said(check) and "3/3" in check.evidence["CSS/JS"]
    assert prober.requests[:2] == [f"{ui}/ok/", f"{ui}/ok/jobs/"] and len(prober.requests) == 5


@pytest.mark.parametrize(
    ("path", "prefix", "cause"),
    [
        ("/root/", "/root", "http://jobs/"),  # the redirect to protocol-relative //jobs/ leaves the tunnel
        ("/rel/jobs/", "/rel", "http://static/app.js"),  # a protocol-relative asset: host `static`
        ("/lost/", "/lost", "/ok/jobs/"),  # the redirect leaves /lost
        ("/broken/jobs/", "/broken", "/broken/static/missing.js : HTTP/1.0 404"),
        ("/nothing/", "/nothing", "404"),
    ],
)
def test_ui_page_failures_name_the_cause(ui: str, path: str, prefix: str, cause: str) -> None:
    check = ui_check(ui, path, "t", prefix=prefix)
    assert (check.id, check.status) == ("ui", "error") and cause in said(check), check


def test_ui_page_connection_refused() -> None:
    check = ui_check("http://127.0.0.1:9", "/x/", "t")
    assert check.status == "error" and "ConnectError" in said(check), check


def pod(name: str, phase: str = "Running", ready: bool = True):
    return NS(
        metadata=NS(name=name),
        status=NS(phase=phase, conditions=[NS(type="Ready", status="True" if ready else "False")]),
    )


class FakeCore:
    def __init__(self, pods):
        self.pods = pods
        self.calls = []

    def list_namespaced_pod(self, namespace, label_selector):
        self.calls.append((namespace, label_selector))
        return NS(items=self.pods)


def test_pods_ready() -> None:
    core = FakeCore([pod("scheduler-0"), pod("migrate-db", phase="Succeeded", ready=False)])
    check = verify.pods_ready(core, "airflow", "tier=airflow,release=airflow", "pods")
    assert (
        check.ok
        and check.detail == "1 pod(s) ready"
        and core.calls == [("airflow", "tier=airflow,release=airflow")]
    )
    assert (
        verify.pods_ready(FakeCore([pod("a"), pod("b", ready=False)]), "n", "s", "t").detail == "not ready: b"
    )
    assert "no pods match" in verify.pods_ready(FakeCore([]), "n", "s", "t").detail


def ingress(name: str, path: str, rewrite: str | None = "/$2"):
    annotations = {"nginx.ingress.kubernetes.io/rewrite-target": rewrite} if rewrite else {}
    return NS(metadata=NS(name=name, annotations=annotations),
              spec=NS(rules=[NS(http=NS(paths=[NS(path=path)]))]))  # fmt: skip


class FakeNet:
    def __init__(self, items):
        self.items = items
        self.selectors = []

    def list_namespaced_ingress(self, namespace, label_selector):
        self.selectors.append(label_selector)
        return NS(items=self.items)


def test_ui_ingress_found_by_label_at_the_url_format_path() -> None:
    path = verify.expected_ui_path("/spark-ui/{{$appNamespace}}/{{$appName}}", "kb-install-smoke", "spark")
    assert path == "/spark-ui/spark/kb-install-smoke"
    net = FakeNet([ingress("kb-install-smoke-ui-ingress", path + "(/|$)(.*)")])
    check = verify.ui_ingress(net, "spark", "kb-install-smoke", path, "ingress")
    assert check.ok and net.selectors == ["sparkoperator.k8s.io/app-name=kb-install-smoke"]
    wrong = verify.ui_ingress(
        FakeNet([ingress("x", "/kb-install-smoke(/|$)(.*)")]), "spark", "kb-install-smoke", path, "t"
    )
    assert not wrong.ok and "expected /spark-ui/spark/kb-install-smoke(/|$)(.*)" in wrong.detail
    assert (
        "rewrite-target"
        in verify.ui_ingress(
            FakeNet([ingress("x", path + "(/|$)(.*)", None)]), "spark", "kb-install-smoke", path, "t"
        ).detail
    )
    assert "no Ingress labelled" in verify.ui_ingress(FakeNet([]), "spark", "a", path, "t").detail


def test_smoke_application_manifests() -> None:
    app = verify.smoke_application("kb-install-smoke", "spark", "apache/spark:4.0.1", "4.0.1",
                                   "local:///opt/spark/examples/src/main/python/pi.py", ["100"],
                                   event_log_dir="s3a://datalake/logs/spark-log/", s3_endpoint="http://minio:9000",
                                   s3_secret="spark-s3")  # fmt: skip
    spec = app["spec"]
    assert spec["type"] == "Python" and spec["arguments"] == ["100"] and "mainClass" not in spec
    assert spec["sparkConf"]["spark.eventLog.dir"] == "s3a://datalake/logs/spark-log/"
    assert (
        spec["sparkConf"]["spark.jars.packages"]
        == "org.apache.hadoop:hadoop-aws:3.4.1,software.amazon.awssdk:bundle:2.24.6"
    )
    assert {e["name"] for e in spec["driver"]["env"]} == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    scala = verify.smoke_application("a", "spark", "apache/spark:3.5.5", "3.5.5",
                                     "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.5.jar", ["10"],
                                     main_class="org.apache.spark.examples.SparkPi")  # fmt: skip
    assert (
        scala["spec"]["type"] == "Scala" and scala["spec"]["mainClass"] == "org.apache.spark.examples.SparkPi"
    )
    assert scala["spec"]["sparkConf"] == {} and "env" not in scala["spec"]["driver"]


def test_poll_returns_early_and_respects_the_deadline() -> None:
    calls = []
    assert verify.poll(lambda: calls.append(1) or len(calls), lambda n: n >= 3, 5, 0.01) == 3
    import time

    started = time.monotonic()
    assert verify.poll(lambda: 0, lambda n: n > 0, 0.3, 5.0) == 0
    assert time.monotonic() - started < 1.0
