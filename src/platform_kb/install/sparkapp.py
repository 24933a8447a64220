"""The smoke SparkApplication the Spark Operator and History Server verifications submit and watch.

Its parameters (``smoke_*``, declared here once, taken into each component's ``Params``), the
manifest (``verify.smoke_application``), its submission through ``rb.action`` (a change: under
``--plan`` it is only listed) and the wait for a state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..runner.params import param
from . import verify
from .connect import Cluster


# --- parameters ------------------------------------------------------------------------------------
def smoke_app() -> Any:
    return param("kb-install-smoke", "검증용 SparkApplication 이름")


def smoke_image() -> Any:
    return param("apache/spark:4.0.1", "검증 앱 이미지")


def smoke_spark_version() -> Any:
    return param("4.0.1", "검증 앱의 Spark 버전")


def smoke_main_file() -> Any:
    return param("local:///opt/spark/examples/src/main/python/pi.py", "검증 앱의 mainApplicationFile")


def smoke_main_class() -> Any:
    return param("", "Scala/Java 앱일 때 mainClass")


def smoke_arguments(default: str) -> Any:
    return param(default, "검증 앱 인자 (공백으로 구분)")


def smoke_service_account(description: str = "드라이버 서비스 계정") -> Any:
    return param("spark-operator-spark", description)


def smoke_timeout() -> Any:
    return param(600.0, "검증 앱을 기다릴 최대 시간(초)", low=1)


def smoke_manifest(p: Any, namespace: str, event_log_dir: str | None = None, s3_endpoint: str = "",
                   s3_secret: str | None = None, fetch_jars: bool = True) -> dict[str, Any]:  # fmt: skip
    """The smoke application of a component whose ``Params`` has the ``smoke_*`` fields."""
    return verify.smoke_application(
        name=p.smoke_app,
        namespace=namespace,
        image=p.smoke_image,
        spark_version=p.smoke_spark_version,
        main_file=p.smoke_main_file,
        arguments=p.smoke_arguments.split(),
        main_class=p.smoke_main_class,
        event_log_dir=event_log_dir,
        s3_endpoint=s3_endpoint,
        s3_secret=s3_secret,
        service_account=p.smoke_service_account,
        fetch_jars=fetch_jars,
    )


# --- submit and wait --------------------------------------------------------------------------------
def submit(rb: Any, c: Cluster, manifest: dict[str, Any]) -> bool:
    """Create (or re-create) the smoke SparkApplication through rb.action; False under --plan."""
    meta = manifest["metadata"]

    def create() -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        try:
            c.custom.delete_namespaced_custom_object(
                verify.SPARK_GROUP, verify.SPARK_VERSION, meta["namespace"], verify.SPARK_PLURAL, meta["name"]
            )
            verify.poll(lambda: _exists(c, meta), lambda e: not e, 60, 0.5)
        except ApiException as exc:
            if exc.status != 404:
                raise
        return c.custom.create_namespaced_custom_object(
            verify.SPARK_GROUP, verify.SPARK_VERSION, meta["namespace"], verify.SPARK_PLURAL, manifest
        )

    return (
        rb.action(
            f"검증용 SparkApplication {meta['namespace']}/{meta['name']} 제출",
            manifest=manifest,
            apply=create,
        )
        is not None
    )


def _exists(c: Cluster, meta: Mapping[str, Any]) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        c.custom.get_namespaced_custom_object(
            verify.SPARK_GROUP, verify.SPARK_VERSION, meta["namespace"], verify.SPARK_PLURAL, meta["name"]
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def wait(c: Cluster, namespace: str, name: str, states: tuple[str, ...], timeout: float) -> dict[str, Any]:
    return verify.poll(
        lambda: _status(c, namespace, name), lambda s: verify.app_state(s) in states, timeout, 1.0
    )


def _status(c: Cluster, namespace: str, name: str) -> dict[str, Any]:
    try:
        return verify.app_status(c.custom, namespace, name)
    except Exception:  # noqa: BLE001 - a transient API error while polling is retried by poll()
        return {}
