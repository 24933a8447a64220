"""The ingress controller: ingress-nginx semantics in the model, then through a real nginx."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from platform_kb.processes import free_port, wait_until
from platform_kb_lab.config import LabSettings
from platform_kb_lab.ingress import IngressController, build_config, empty_config, render
from platform_kb_lab.kubeapi import ObjectStore
from platform_kb_lab.nginx import Nginx

from .conftest import lab_processes, pick_node

REWRITE = "nginx.ingress.kubernetes.io/rewrite-target"
PREFIX = "nginx.ingress.kubernetes.io/x-forwarded-prefix"


def ingress(
    name,
    path,
    service,
    port=80,
    *,
    host=None,
    annotations=None,
    path_type="ImplementationSpecific",
    cls=None,
    created="",
):
    rule = {
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": path_type,
                    "backend": {"service": {"name": service, "port": {"number": port}}},
                }
            ]
        }
    }
    if host:
        rule["host"] = host
    obj = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "namespace": "spark",
            "annotations": dict(annotations or {}),
            "creationTimestamp": created,
        },
        "spec": {"rules": [rule]},
    }
    if cls:
        obj["spec"]["ingressClassName"] = cls
    return obj


def service(name, port=80, target=80, port_name="http"):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "spark"},
        "spec": {"ports": [{"name": port_name, "port": port, "targetPort": target}]},
    }


def endpoints(name, host, port, port_name="http"):
    subsets = [{"addresses": [{"ip": host}], "ports": [{"name": port_name, "port": port}]}] if host else []
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": "spark"},
        "subsets": subsets,
    }


# ---------------------------------------------------------------------------- the model


def test_rewrite_on_a_host_makes_all_its_locations_regex():
    config = build_config(
        [
            ingress("ui", "/spark-ui/spark/app(/|$)(.*)", "ui", annotations={REWRITE: "/$2"}),
            ingress("plain", "/plain", "ui"),
        ],
        [service("ui")],
        [endpoints("ui", "127.0.0.9", 4040)],
    )
    server = config.server("_")
    assert server is not None and server.regex
    matches = [loc.match for loc in server.locations]
    assert matches == [
        '~* "^/spark-ui/spark/app(/|$)(.*)"',
        '~* "^/plain"',
        '~* "^/"',
    ]  # longest first, default last
    ui = server.locations[0]
    assert ui.rewrite_target == "/$2" and ui.upstream_name == "spark-ui-80" and ui.status is None
    assert config.upstreams[0].servers == (("127.0.0.9", 4040),)
    assert server.locations[-1].status == 404


def test_without_rewrite_paths_are_prefixes_and_prefix_type_is_exact_or_slash():
    config = build_config(
        [
            ingress("a", "/spark-ui/spark/app(/|$)(.*)", "ui"),
            ingress("b", "/p", "ui", path_type="Prefix"),
            ingress("c", "/e", "ui", path_type="Exact"),
        ],
        [service("ui")],
        [endpoints("ui", "127.0.0.9", 4040)],
    )
    server = config.server("_")
    assert not server.regex
    assert {loc.match for loc in server.locations} == {
        "/spark-ui/spark/app(/|$)(.*)",
        "= /p",
        "/p/",
        "= /e",
        "/",
    }


def test_x_forwarded_prefix_only_with_a_rewrite():
    with_rewrite = build_config(
        [ingress("ui", "/x(/|$)(.*)", "ui", annotations={REWRITE: "/$2", PREFIX: "/x"})],
        [service("ui")],
        [endpoints("ui", "127.0.0.9", 1)],
    )
    assert with_rewrite.server("_").locations[0].x_forwarded_prefix == "/x"
    without = build_config(
        [ingress("ui", "/x", "ui", annotations={PREFIX: "/x"})],
        [service("ui")],
        [endpoints("ui", "127.0.0.9", 1)],
    )
    assert without.server("_").locations[0].x_forwarded_prefix == ""
    text, _ = render(with_rewrite, LabSettings(root=Path("/tmp/unused"), node="127.0.0.9"))
    assert 'rewrite "(?i)/x(/|$)(.*)" /$2 break;' in text
    assert 'proxy_set_header X-Forwarded-Prefix "/x";' in text
    assert (
        "X-Forwarded-Prefix"
        not in render(without, LabSettings(root=Path("/tmp/unused"), node="127.0.0.9"))[0]
    )


def test_no_ready_endpoint_means_503_and_missing_service_too():
    config = build_config(
        [ingress("a", "/a", "empty"), ingress("b", "/b", "missing")],
        [service("empty")],
        [endpoints("empty", None, 0)],
    )
    by_path = {loc.path: loc for loc in config.server("_").locations}
    assert by_path["/a"].status == 503 and "does not have any active Endpoint" in by_path["/a"].reason
    assert by_path["/b"].status == 503
    assert any('Service "spark/empty" does not have any active Endpoint' in p for p in config.problems)


def test_host_rules_class_filter_and_invalid_paths():
    config = build_config(
        [
            ingress("h", "/", "ui", host="spark.lab"),
            ingress("other-class", "/other", "ui", cls="traefik"),
            ingress("bad", '/x";return 200 "pwned', "ui"),
            ingress("dup", "/", "ui", host="spark.lab", created="2099-01-01T00:00:00Z"),
        ],
        [service("ui")],
        [endpoints("ui", "127.0.0.9", 1)],
    )
    assert [s.host for s in config.servers] == ["_", "spark.lab"]
    assert [loc.path for loc in config.server("_").locations] == ["/"]  # only the default backend
    assert [loc.ingress_name for loc in config.server("spark.lab").locations] == ["h"]
    assert any("invalid path" in p for p in config.problems)
    assert any("already defined" in p for p in config.problems)


def test_empty_configuration_is_valid_for_nginx(tmp_path):
    settings = LabSettings(root=tmp_path, node=pick_node(120))
    nginx = Nginx(settings)
    nginx.prepare()
    text, version = render(empty_config(), settings)
    assert f"config-version: {version}" in text
    settings.nginx_conf.write_text(text)
    ok, output = nginx.test()
    assert ok, output


# ---------------------------------------------------------------------------- through a real nginx


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def real_ingress(
    tmp_path_factory,
) -> Iterator[tuple[ObjectStore, IngressController, LabSettings, tuple[str, int]]]:
    from .conftest import require_lab_prerequisites

    require_lab_prerequisites()
    root = tmp_path_factory.mktemp("ingress")
    settings = LabSettings(root=root, node=pick_node(130))
    echo = ThreadingHTTPServer((settings.node, free_port(settings.node)), Echo)
    thread = threading.Thread(target=echo.serve_forever, daemon=True)
    thread.start()
    nginx = Nginx(settings)
    nginx.start(render(empty_config(), settings)[0])
    store = ObjectStore()
    controller = IngressController(store, settings, nginx, debounce=0.01)
    controller.start()
    try:
        yield store, controller, settings, echo.server_address[:2]
    finally:
        controller.stop()
        nginx.stop()
        echo.shutdown()
        echo.server_close()
        assert not lab_processes(root)


def wait_applied(controller: IngressController, store: ObjectStore) -> None:
    """Wait until the controller has rendered the store's current state and nginx runs it."""
    expected = render(controller.current_config(), controller.settings)[1]
    assert wait_until(
        lambda: (
            controller.version == expected
            and controller.nginx.config_version() == expected
            and controller.nginx.settled()  # no worker of the previous configuration left
        ),
        10,
    )


def test_real_nginx_rewrite_headers_503_404(real_ingress):
    store, controller, settings, (echo_host, echo_port) = real_ingress
    base = f"http://{settings.node}:{settings.ingress_port}"
    store.create("services", "spark", service("ui", 4040, 4040, "spark-driver-ui-port"))
    store.create("endpoints", "spark", endpoints("ui", echo_host, echo_port, "spark-driver-ui-port"))
    store.create(
        "ingresses",
        "spark",
        ingress(
            "ui",
            "/spark-ui/spark/app(/|$)(.*)",
            "ui",
            4040,
            annotations={REWRITE: "/$2", PREFIX: "/spark-ui/spark/app"},
        ),
    )
    store.create("services", "spark", service("gone"))
    store.create("endpoints", "spark", endpoints("gone", None, 0))
    store.create(
        "ingresses", "spark", ingress("gone", "/gone(/|$)(.*)", "gone", annotations={REWRITE: "/$2"})
    )
    store.create(
        "ingresses",
        "spark",
        ingress(
            "host", "/plain", "ui", 4040, host="spark.lab", path_type="Prefix", annotations={PREFIX: "/p"}
        ),
    )
    wait_applied(controller, store)

    def echoed(path: str, **kw) -> dict:
        response = httpx.get(base + path, trust_env=False, follow_redirects=False, **kw)
        assert response.status_code == 200, (path, response.status_code)
        return response.json()

    assert echoed("/spark-ui/spark/app/jobs/?id=1")["path"] == "/jobs/?id=1"
    assert echoed("/spark-ui/spark/app")["path"] == "/"
    assert echoed("/spark-ui/spark/app/")["path"] == "/"
    assert echoed("/SPARK-UI/Spark/App/stages/")["path"] == "/stages/"  # ~* : case-insensitive
    headers = echoed("/spark-ui/spark/app/", headers={"Host": "localhost:8080"})["headers"]
    assert headers["host"] == "localhost:8080"
    assert headers["x-forwarded-host"] == "localhost:8080"
    assert headers["x-forwarded-port"] == str(settings.ingress_port)
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-for"] == "127.0.0.1" or headers["x-forwarded-for"].startswith("127.")
    assert headers["x-forwarded-prefix"] == "/spark-ui/spark/app"

    plain = echoed("/plain/x", headers={"Host": "spark.lab"})
    assert plain["path"] == "/plain/x" and "x-forwarded-prefix" not in plain["headers"]
    assert httpx.get(base + "/plainx", headers={"Host": "spark.lab"}, trust_env=False).status_code == 404
    assert httpx.get(base + "/plain/x", trust_env=False).status_code == 404  # other host: the default server

    gone = httpx.get(base + "/gone/", trust_env=False)
    assert gone.status_code == 503 and "Service Temporarily Unavailable" in gone.text
    assert httpx.get(base + "/nothing-here", trust_env=False).status_code == 404

    # removing the only rewrite of host "_"... is not possible here (gone keeps one), so drop both:
    store.patch("ingresses", "spark", "ui", {"metadata": {"annotations": {REWRITE: None}}})
    store.delete("ingresses", "spark", "gone")
    wait_applied(controller, store)
    # no rewrite left on the host: the path is a literal prefix again, so nothing matches
    assert httpx.get(base + "/spark-ui/spark/app/jobs/", trust_env=False).status_code == 404
    assert controller.reloads >= 2
