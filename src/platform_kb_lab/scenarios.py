"""The lab's scenarios: named configurations that reproduce the states of issues #3-10 and #3-11 from a clean lab.

Where this sits: ``kb lab up --scenario NAME`` (:mod:`platform_kb_lab.manager`) hands the
scenario's :class:`~platform_kb_lab.operator.OperatorSettings` (the operator's Helm values) to the
lab daemon, submits the DAG's application ``long-test`` in namespace ``spark`` the way Airflow's
``SparkKubernetesOperator`` would (with or without the random suffix, with the scenario's extra
``sparkConf``), applies the scenario's hand edit of the UI Ingress if it has one, and waits for
``ready`` (the driver running, or ended and listed by the History Server). It then brings the lab
hosts' node-exporters to the scenario's state (``exporters_down``: not running, while Prometheus
still scrapes them, :mod:`platform_kb_lab.monitoring`). Everything here is data; ``docs/lab.md``
describes the same scenarios in Korean.

Path-style ``urlFormat`` has no host, so its Ingress rule matches any ``Host`` header (what the
homelab's ``ssh -L 8080:<node>:30998`` tunnel sends is ``localhost:8080``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from platform_kb.errors import UsageProblem

from .operator.model import OperatorSettings
from .operator.naming import REWRITE_TARGET

X_FORWARDED_PREFIX = "nginx.ingress.kubernetes.io/x-forwarded-prefix"

APP_NAME = "long-test"
NAMESPACE = "spark"
URL_FORMAT_WITH_PATH = "/spark-ui/{{$appNamespace}}/{{$appName}}"
URL_FORMAT_ROOT = "/"
RUNNING_DURATION = 3600.0  # seconds: "long" enough; `kb lab down` or a scenario switch stops it
FINISHED_DURATION = 4.0


def _operator(url_format: str) -> OperatorSettings:
    return OperatorSettings(
        url_format=url_format, ingress_class_name="nginx", ui_service_enable=True, version="2.3.0"
    )


@dataclass(frozen=True)
class Scenario:
    """One reproducible lab state."""

    name: str
    summary: str
    operator: OperatorSettings
    suffix: bool = False  # submit with Airflow's random suffix (`long-test-xxxxxxxx`)
    spark_conf: dict[str, str] = field(default_factory=dict)
    remove_ingress_annotations: tuple[str, ...] = ()  # a hand edit of the UI Ingress after creation
    set_ingress_annotations: tuple[tuple[str, str], ...] = ()  # annotations set by hand after creation
    writeup: str = "3-10"  # the issue write-up this state comes from
    duration: float = RUNNING_DURATION
    ready: str = "running"  # "running": driver UI up; "finished": driver ended, History Server lists it
    symptom: str = ""
    app_name: str = APP_NAME
    namespace: str = NAMESPACE
    exporters_down: tuple[str, ...] = ()  # lab hosts whose node-exporter does not run (still scraped)

    def spark_part(self) -> tuple[object, ...]:
        """Everything that decides the Spark side; two scenarios equal here differ only in monitoring."""
        return (
            self.operator,
            self.suffix,
            tuple(sorted(self.spark_conf.items())),
            self.remove_ingress_annotations,
            self.set_ingress_annotations,
            self.duration,
            self.ready,
            self.app_name,
            self.namespace,
        )

    @property
    def hand_edits_ingress(self) -> bool:
        return bool(self.remove_ingress_annotations or self.set_ingress_annotations)

    @property
    def ingress_path(self) -> str:
        """Where the user looks for the UI: the path-style prefix of the DAG's fixed name."""
        return f"/spark-ui/{self.namespace}/{self.app_name}"


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="healthy",
            summary="urlFormat with a path, submitted without suffix: the UI works through the ingress.",
            operator=_operator(URL_FORMAT_WITH_PATH),
            symptom="GET /spark-ui/spark/long-test/ → 302 /spark-ui/spark/long-test/jobs/; the jobs page and all its CSS/JS → 200.",
        ),
        Scenario(
            name="suffix-mismatch",
            summary="Submitted with Airflow's random suffix: `long-test` names nothing that runs.",
            operator=_operator(URL_FORMAT_WITH_PATH),
            suffix=True,
            symptom="GET /spark-ui/spark/long-test/ → 404; the UI is at /spark-ui/spark/long-test-<8 chars>/.",
        ),
        Scenario(
            name="proxybase-root",
            summary="urlFormat without a path: the operator sets proxyBase=/ and proxyRedirectUri=/.",
            operator=_operator(URL_FORMAT_ROOT),
            symptom="GET /spark-ui/spark/long-test/ → 302 Location: //jobs/; links //static/... (host `static`): CSS/JS broken.",
        ),
        Scenario(
            name="driver-finished",
            summary="The driver has ended: the Service has no endpoint, the History Server lists the app.",
            operator=_operator(URL_FORMAT_WITH_PATH),
            duration=FINISHED_DURATION,
            ready="finished",
            symptom="GET /spark-ui/spark/long-test/ → 503; /spark-history/ lists the application.",
        ),
        Scenario(
            name="missing-rewrite",
            summary="The UI Ingress keeps the prefix path but its rewrite-target annotation was removed.",
            operator=_operator(URL_FORMAT_WITH_PATH),
            remove_ingress_annotations=(REWRITE_TARGET,),
            symptom="the driver gets the prefixed path: every page → 302 to /spark-ui/spark/long-test/jobs/ (a redirect loop).",
        ),
        Scenario(
            name="proxybase-mismatch",
            summary="spark.ui.proxyBase set by hand to another prefix (/long-test); the operator keeps it.",
            operator=_operator(URL_FORMAT_WITH_PATH),
            spark_conf={"spark.ui.proxyBase": "/long-test"},
            symptom="GET /spark-ui/spark/long-test/ → 302 /long-test/jobs/ (404); jobs page links /long-test/static/... → 404.",
        ),
        Scenario(
            name="handset-proxybase",
            summary="urlFormat with a path, but the DAG's sparkConf sets spark.ui.proxyBase=/ by hand; v2.3+ keeps it.",
            operator=_operator(URL_FORMAT_WITH_PATH),
            spark_conf={"spark.ui.proxyBase": "/"},
            symptom="GET /spark-ui/spark/long-test/ → 302 Location: //jobs/; links //static/... — the fix is in the DAG, not the Helm values.",
        ),
        Scenario(
            name="literal-fix",
            summary="#3-10's literal fix on the UI Ingress: rewrite-target / plus x-forwarded-prefix (a hand edit).",
            operator=_operator(URL_FORMAT_WITH_PATH),
            set_ingress_annotations=(
                (REWRITE_TARGET, "/"),
                (X_FORWARDED_PREFIX, "/spark-ui/spark/long-test"),
            ),
            symptom="every path under the prefix reaches Spark as /: …/jobs/ → 302 …/jobs/ forever; every CSS/JS → 302.",
        ),
        Scenario(
            name="exporter-down",
            summary="Spark as in healthy; host desktop's node-exporter is not running but is still scraped.",
            operator=_operator(URL_FORMAT_WITH_PATH),
            exporters_down=("desktop",),
            writeup="3-11",
            symptom='Prometheus target job="hosts", host="desktop" → health "down" (connection refused); the others up.',
        ),
    )
}

DEFAULT_SCENARIO = "healthy"


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; UsageProblem listing the known ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageProblem(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
