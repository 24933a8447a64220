"""A generated matrix of Spark UI configurations, for testing verdicts against a real browser.

Each :class:`MatrixConfig` is one configuration a user could have: the operator's ``urlFormat``
(none, ``/``, a path, a host only), ``spark.ui.proxyBase`` and ``spark.ui.proxyRedirectUri`` set by
hand in the DAG's ``sparkConf``, the driver running or finished, Airflow's name suffix, and the UI
Ingress' ``rewrite-target`` and ``x-forwarded-prefix`` annotations. Configurations that share the
Spark side (:attr:`MatrixConfig.scenario`) share one lab driver; their Ingress side is applied in
place (:meth:`platform_kb_lab.manager.LabManager.annotate_ui_ingress`), so the matrix needs one
lab switch per group, not per configuration.

Used by ``tests/spark_ui/test_browser_matrix.py`` (the runbook's verdict against headless
Chromium) and ``bench/spark_ui_ingress.py`` (diagnosis time per configuration). Data only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .operator.model import OperatorSettings
from .operator.naming import REWRITE_TARGET
from .scenarios import (
    APP_NAME,
    FINISHED_DURATION,
    NAMESPACE,
    URL_FORMAT_ROOT,
    URL_FORMAT_WITH_PATH,
    X_FORWARDED_PREFIX,
    Scenario,
)

URL_FORMAT_HOST = "{{$appName}}.spark.example.internal"  # a host-only urlFormat: no path at all
PREFIX = f"/spark-ui/{NAMESPACE}/{APP_NAME}"
OTHER_PREFIX = f"/{APP_NAME}"

URL_FORMATS = {"none": "", "root": URL_FORMAT_ROOT, "path": URL_FORMAT_WITH_PATH, "host": URL_FORMAT_HOST}
PROXY_BASES = {
    "unset": None,
    "root": "/",
    "prefix": PREFIX,
    "prefix-slash": PREFIX + "/",
    "other": OTHER_PREFIX,
}
REDIRECT_URIS = {"unset": None, "root": "/"}
DEFAULT = "default"  # the rewrite-target the operator wrote (``/$2`` with a path, none otherwise)
NO_REWRITE = "none"


@dataclass(frozen=True)
class SparkSide:
    url_format: str  # a key of URL_FORMATS
    proxy_base: str = "unset"  # a key of PROXY_BASES
    redirect_uri: str = "unset"  # a key of REDIRECT_URIS
    finished: bool = False
    suffix: bool = False

    @property
    def name(self) -> str:
        parts = [
            f"urlFormat={self.url_format}",
            f"proxyBase={self.proxy_base}",
            f"redirectUri={self.redirect_uri}",
            "finished" if self.finished else "running",
            "suffix" if self.suffix else "no-suffix",
        ]
        return " ".join(parts)

    def scenario(self) -> Scenario:
        conf: dict[str, str] = {}
        if PROXY_BASES[self.proxy_base] is not None:
            conf["spark.ui.proxyBase"] = str(PROXY_BASES[self.proxy_base])
        if REDIRECT_URIS[self.redirect_uri] is not None:
            conf["spark.ui.proxyRedirectUri"] = str(REDIRECT_URIS[self.redirect_uri])
        base = Scenario(
            name="matrix-" + self.name.replace(" ", "-").replace("=", "-").lower(),
            summary=self.name,
            operator=OperatorSettings(
                url_format=URL_FORMATS[self.url_format],
                ingress_class_name="nginx",
                ui_service_enable=True,
                version="2.3.0",
            ),
            suffix=self.suffix,
            spark_conf=conf,
        )
        if self.finished:
            return replace(base, duration=FINISHED_DURATION, ready="finished")
        return base


@dataclass(frozen=True)
class IngressSide:
    rewrite: str = DEFAULT  # DEFAULT, NO_REWRITE, or an explicit value ("/", "/$2")
    x_forwarded_prefix: bool = False

    @property
    def name(self) -> str:
        return f"rewrite={self.rewrite} xfp={'yes' if self.x_forwarded_prefix else 'no'}"

    def edit(self, operator_rewrite: str | None) -> tuple[dict[str, str], tuple[str, ...]]:
        """The annotations to set and to remove, relative to what the operator wrote."""
        rewrite = (
            operator_rewrite
            if self.rewrite == DEFAULT
            else None
            if self.rewrite == NO_REWRITE
            else self.rewrite
        )
        set_: dict[str, str] = {}
        remove: list[str] = []
        if rewrite is None:
            remove.append(REWRITE_TARGET)
        else:
            set_[REWRITE_TARGET] = rewrite
        if self.x_forwarded_prefix:
            set_[X_FORWARDED_PREFIX] = PREFIX
        else:
            remove.append(X_FORWARDED_PREFIX)
        return set_, tuple(remove)


@dataclass(frozen=True)
class MatrixConfig:
    spark: SparkSide
    ingress: IngressSide

    @property
    def name(self) -> str:
        return f"{self.spark.name} {self.ingress.name}"

    def user_url(self, base_url: str) -> str:
        """The address a user would open for the DAG's name (no suffix): where this KB says the UI is."""
        fmt = self.spark.url_format
        if fmt == "root":
            return base_url.rstrip("/") + "/"
        if fmt == "host":
            port = base_url.rsplit(":", 1)[1].rstrip("/")
            return f"http://{APP_NAME}.spark.example.internal:{port}/"
        return base_url.rstrip("/") + PREFIX + "/"


def _group(spark: SparkSide, *ingress: tuple[str, bool]) -> list[MatrixConfig]:
    return [MatrixConfig(spark, IngressSide(rewrite, xfp)) for rewrite, xfp in ingress]


def configurations() -> list[MatrixConfig]:
    """The matrix, grouped by Spark side (consecutive configurations share one lab driver)."""
    d, n = DEFAULT, NO_REWRITE
    groups = [
        _group(SparkSide("path"), (d, False), (d, True), (n, False), (n, True), ("/", True), ("/", False)),
        _group(SparkSide("path", "root"), (d, False), (d, True), ("/", True), ("/", False), (n, False)),
        _group(SparkSide("path", "prefix", "root"), (d, False), (d, True), (n, False), ("/", False)),
        _group(SparkSide("path", "prefix-slash"), (d, False), (d, True), ("/", True)),
        _group(SparkSide("path", "other"), (d, False), (d, True), (n, False)),
        _group(SparkSide("path", suffix=True), (d, False), (d, True), ("/", False)),
        _group(SparkSide("path", "root", "root", suffix=True), (d, False)),
        _group(SparkSide("path", finished=True), (d, False)),
        _group(SparkSide("path", finished=True, suffix=True), (d, False)),
        _group(SparkSide("root"), (d, False), (d, True), ("/", False)),
        _group(SparkSide("root", "prefix", "root"), (d, False), (d, True)),
        _group(SparkSide("root", redirect_uri="root", finished=True), (d, False)),
        _group(SparkSide("none"), (d, False)),
        _group(SparkSide("none", "prefix", "root"), (d, False)),
        _group(SparkSide("host"), (d, False), (d, True), ("/", False)),
        _group(SparkSide("host", "root"), (d, False), (d, True)),
        _group(SparkSide("host", "prefix", "root"), (d, False)),
    ]
    return [config for group in groups for config in group]


def grouped(configs: list[MatrixConfig]) -> list[tuple[SparkSide, list[MatrixConfig]]]:
    out: list[tuple[SparkSide, list[MatrixConfig]]] = []
    for config in configs:
        if out and out[-1][0] == config.spark:
            out[-1][1].append(config)
        else:
            out.append((config.spark, [config]))
    return out
