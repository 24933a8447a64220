"""Verification after apply — read-only checks, also runnable on their own.

Last step of the install flow. Each function returns a :class:`platform_kb.Check` (passed
or failed, with evidence) and never changes the cluster; the only writes are the explicit
smoke-test helpers at the end (a probe object on S3, a test SparkApplication), which the runbooks
route through ``rb.action``.

* pods of a component are Ready (``kubernetes`` client through the tunnel's API forward);
* a UI answers through the tunnel (ingress NodePort 30998) at its documented path with its CSS/JS
  (no protocol-relative ``//`` links — the #3-10 symptom of ``proxyBase=/``, upstream-facts §1):
  that is :func:`platform_kb.checks.pages.ui_check`, shared with diagnosis;
* the MinIO prefixes exist and receive objects (S3 API, ``s3.py``);
* a SparkApplication gets its UI Ingress — found by label ``sparkoperator.k8s.io/app-name``,
  never by rebuilding the name (kubeflow/spark-operator ``pkg/util/sparkapplication.go``) — at
  the path ``urlFormat`` gives, and the History Server lists it once it finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from ..results import Check
from .s3 import S3Client, S3Error

T = TypeVar("T")


def poll(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float, interval: float = 1.0) -> T:
    """Call ``fetch`` until ``done(result)`` or ``timeout`` seconds pass; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        remaining = deadline - time.monotonic()
        if done(result) or remaining <= 0:
            return result
        time.sleep(min(interval, remaining))


# --- pods --------------------------------------------------------------------------------------
def _ready(pod: Any) -> bool:
    conditions = (pod.status.conditions or []) if pod.status else []
    return any(cond.type == "Ready" and cond.status == "True" for cond in conditions)


def pods_ready(core_v1: Any, namespace: str, selector: str, title: str) -> Check:
    """Every pod matching ``selector`` that is not a finished job is Running and Ready (at least one)."""
    pods = core_v1.list_namespaced_pod(namespace, label_selector=selector).items
    live = [p for p in pods if (p.status.phase if p.status else "") not in ("Succeeded",)]
    not_ready = [p.metadata.name for p in live if not _ready(p)]
    evidence = {"namespace": namespace, "selector": selector, "pods": str(len(live))}
    if not live:
        return Check.failed("pods-ready", title, f"no pods match {selector} in {namespace}", evidence)
    if not_ready:
        return Check.failed("pods-ready", title, f"not ready: {', '.join(sorted(not_ready))}", evidence)
    return Check.passed("pods-ready", title, f"{len(live)} pod(s) ready", evidence)


def wait_pods_ready(core_v1: Any, namespace: str, selector: str, title: str, timeout: float) -> Check:
    return poll(lambda: pods_ready(core_v1, namespace, selector, title), lambda c: c.ok, timeout, 2.0)


# --- S3 -----------------------------------------------------------------------------------------------
def s3_prefix(client: S3Client, bucket: str, prefix: str, title: str, require_objects: bool = True) -> Check:
    """The bucket exists and the prefix holds objects (S3 has no folders: a prefix exists once it has one)."""
    evidence = {"endpoint": client.endpoint, "bucket": bucket, "prefix": prefix}
    try:
        if not client.head_bucket(bucket):
            return Check.failed("s3-prefix", title, f"bucket {bucket} does not exist", evidence)
        objects = client.list_objects(bucket, prefix, max_keys=1000)
    except (S3Error, httpx.HTTPError) as exc:
        return Check.failed("s3-prefix", title, str(exc), evidence)
    evidence["objects"] = str(len(objects))
    if not objects:
        severity = "error" if require_objects else "warning"
        return Check.failed(
            "s3-prefix", title, f"s3://{bucket}/{prefix} holds no objects yet", evidence, severity
        )
    newest = max(objects, key=lambda o: o.last_modified)
    evidence["newest"] = f"{newest.key} ({newest.last_modified})"
    return Check.passed("s3-prefix", title, f"{len(objects)} object(s), newest {newest.key}", evidence)


def s3_new_objects(
    client: S3Client, bucket: str, prefix: str, before: set[str], title: str, timeout: float
) -> Check:
    """Wait until an object not in ``before`` appears under ``prefix`` (the prefix *receives* objects)."""

    def fetch() -> list[str]:
        try:
            return [o.key for o in client.list_objects(bucket, prefix)]
        except (S3Error, httpx.HTTPError):
            return []

    keys = poll(fetch, lambda ks: bool(set(ks) - before), timeout, 2.0)
    new = sorted(set(keys) - before)
    evidence = {"bucket": bucket, "prefix": prefix, "new": ", ".join(new[:5])}
    if new:
        return Check.passed("s3-receives", title, f"{len(new)} new object(s): {new[0]}", evidence)
    return Check.failed(
        "s3-receives",
        title,
        f"no new object under s3://{bucket}/{prefix} within {timeout:.0f}s",
        evidence,
    )


def s3_probe_write(client: S3Client, bucket: str, prefix: str, title: str) -> Check:
    """Write, read back and delete one small object under ``prefix`` (proves the credentials can write there)."""
    key = f"{prefix.rstrip('/')}/.platform-kb-probe-{int(time.time())}"
    body = b"platform-kb install verification\n"
    try:
        client.put_object(bucket, key, body)
        ok = client.get_object(bucket, key) == body
        client.delete_object(bucket, key)
    except (S3Error, httpx.HTTPError) as exc:
        return Check.failed("s3-write", title, str(exc), {"bucket": bucket, "key": key})
    return Check.judged(
        ok,
        "s3-write",
        title,
        "write/read/delete ok" if ok else "read back differs",
        {"bucket": bucket, "key": key},
    )


# --- Spark applications -------------------------------------------------------------------------------
SPARK_GROUP, SPARK_VERSION, SPARK_PLURAL = "sparkoperator.k8s.io", "v1beta2", "sparkapplications"
APP_LABEL = "sparkoperator.k8s.io/app-name"


def url_format_path(url_format: str) -> str:
    """The path the operator derives from ``urlFormat`` (``http://`` prepended when there is no scheme)."""
    text = url_format if "://" in url_format else "http://" + url_format
    return urlsplit(text).path


def expected_ui_path(url_format: str, app: str, namespace: str, app_id: str = "") -> str:
    """The path the operator derives from ``urlFormat`` for one application (no trailing slash)."""
    path = url_format_path(url_format)
    return (
        path.replace("{{$appName}}", app)
        .replace("{{$appNamespace}}", namespace)
        .replace("{{$appId}}", app_id)
        .rstrip("/")
    )


def ui_ingress(net_v1: Any, namespace: str, app: str, expected_path: str, title: str) -> Check:
    """The operator's UI Ingress for ``app`` (found by label) routes ``expected_path`` with the rewrite."""
    items = net_v1.list_namespaced_ingress(namespace, label_selector=f"{APP_LABEL}={app}").items
    evidence = {"namespace": namespace, "selector": f"{APP_LABEL}={app}", "expected": expected_path}
    if not items:
        return Check.failed(
            "ui-ingress", title, f"no Ingress labelled {APP_LABEL}={app} in {namespace}", evidence
        )
    ing = items[0]
    paths = [
        p.path for rule in (ing.spec.rules or []) for p in ((rule.http.paths if rule.http else None) or [])
    ]
    annotations = ing.metadata.annotations or {}
    evidence.update({"ingress": ing.metadata.name, "paths": ", ".join(map(str, paths))})
    wanted = f"{expected_path}(/|$)(.*)"
    if wanted not in paths:
        return Check.failed(
            "ui-ingress",
            title,
            f"Ingress {ing.metadata.name} routes {paths}, expected {wanted}",
            evidence,
        )
    if annotations.get("nginx.ingress.kubernetes.io/rewrite-target") != "/$2":
        return Check.failed("ui-ingress", title, "rewrite-target annotation is not /$2", evidence)
    return Check.passed("ui-ingress", title, f"{ing.metadata.name}: {wanted}", evidence)


def app_status(custom: Any, namespace: str, name: str) -> dict[str, Any]:
    obj = custom.get_namespaced_custom_object(SPARK_GROUP, SPARK_VERSION, namespace, SPARK_PLURAL, name)
    return obj.get("status") or {}


def app_state(status: dict[str, Any]) -> str:
    return str((status.get("applicationState") or {}).get("state") or "")


FINISHED_STATES = ("COMPLETED", "FAILED", "SUCCEEDING", "FAILING")


def history_lists(
    http: httpx.Client, base_url: str, ui_path: str, app_id: str, title: str, timeout: float
) -> Check:
    """The History Server (through the ingress) lists ``app_id`` in /api/v1/applications."""
    url = f"{base_url.rstrip('/')}{ui_path.rstrip('/')}/api/v1/applications"

    def fetch() -> list[dict[str, Any]]:
        try:
            response = http.get(url, follow_redirects=True)
            return response.json() if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            return []

    apps = poll(fetch, lambda items: any(a.get("id") == app_id for a in items), timeout, 2.0)
    evidence = {"url": url, "app_id": app_id, "listed": str(len(apps))}
    if any(a.get("id") == app_id for a in apps):
        return Check.passed("history-lists", title, f"{app_id} listed", evidence)
    return Check.failed("history-lists", title, f"{app_id} not listed within {timeout:.0f}s", evidence)


def smoke_application(
    name: str,
    namespace: str,
    image: str,
    spark_version: str,
    main_file: str,
    arguments: list[str] | tuple[str, ...] = (),
    main_class: str = "",
    event_log_dir: str | None = None,
    s3_endpoint: str = "",
    s3_secret: str | None = None,
    service_account: str = "spark-operator-spark",
    fetch_jars: bool = True,
) -> dict[str, Any]:
    """A small SparkApplication for verification (Python when ``main_file`` ends in ``.py``).

    With ``event_log_dir`` it writes its event log there through S3A (path-style, the same
    hadoop-aws / SDK pair as the History Server, fetched with ``spark.jars.packages`` unless
    ``fetch_jars`` is off — for images that already carry them) with the keys of Secret ``s3_secret``
    (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) as environment variables.
    """
    from .s3a import s3a_jars_for

    python = main_file.endswith(".py")
    conf: dict[str, str] = {}
    env: list[dict[str, Any]] = []
    if event_log_dir:
        jars = s3a_jars_for(spark_version)
        conf = {
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": event_log_dir,
            "spark.hadoop.fs.s3a.endpoint": s3_endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
        }
        if fetch_jars:
            conf["spark.jars.packages"] = (
                f"org.apache.hadoop:hadoop-aws:{jars.hadoop_aws},{jars.sdk_group}:{jars.sdk_artifact}:{jars.sdk_version}"
            )
            conf["spark.jars.ivy"] = "/tmp/.ivy2"
        if s3_secret:
            env = [
                {"name": key, "valueFrom": {"secretKeyRef": {"name": s3_secret, "key": key}}}
                for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            ]
    spec: dict[str, Any] = {
        "type": "Python" if python else "Scala",
        "mode": "cluster",
        "image": image,
        "mainApplicationFile": main_file,
        "arguments": [str(a) for a in arguments],
        "sparkVersion": spark_version,
        "sparkConf": conf,
        "driver": {
            "cores": 1,
            "memory": "512m",
            "serviceAccount": service_account,
            **({"env": env} if env else {}),
        },
        "executor": {"instances": 1, "cores": 1, "memory": "512m", **({"env": env} if env else {})},
    }
    if python:
        spec["pythonVersion"] = "3"
    elif main_class:
        spec["mainClass"] = main_class
    return {
        "apiVersion": f"{SPARK_GROUP}/{SPARK_VERSION}",
        "kind": "SparkApplication",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "platform-kb"},
        },
        "spec": spec,
    }
