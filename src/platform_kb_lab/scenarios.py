"""The lab's scenarios: named configurations that reproduce the states of issues #3-10 and #3-11 from a clean lab.

Where this sits: ``kb lab up --scenario NAME`` (:mod:`platform_kb_lab.manager`) hands the
scenario's :class:`~platform_kb_lab.operator.model.OperatorSettings` (the operator's Helm values) to the
lab daemon, submits the DAG's application ``long-test`` in namespace ``spark`` the way Airflow's
``SparkKubernetesOperator`` would (with or without the random suffix, with the scenario's extra
``sparkConf``), applies the scenario's hand edit of the UI Ingress if it has one, and waits for
``ready`` (the driver running, or ended and listed by the History Server). It then brings the lab
hosts' node-exporters to the scenario's state (``exporters_down``: not running, while Prometheus
still scrapes them, :mod:`platform_kb_lab.monitoring`). The scenarios are data, in
``scenarios.yaml`` next to this module (each the healthy lab plus what it lists); ``docs/lab.md``
describes the same scenarios in Korean.

Path-style ``urlFormat`` has no host, so its Ingress rule matches any ``Host`` header (what the
homelab's ``ssh -L 8080:<node>:30998`` tunnel sends is ``localhost:8080``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml

from platform_kb.errors import UsageProblem

from .operator.model import OperatorSettings

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


URL_FORMATS = {"path": URL_FORMAT_WITH_PATH, "root": URL_FORMAT_ROOT}
_KEYS = {
    "summary", "symptom", "url_format", "suffix", "spark_conf", "remove_ingress_annotations",
    "set_ingress_annotations", "ready", "exporters_down", "writeup",
}  # fmt: skip


def _scenario(name: str, entry: dict[str, Any]) -> Scenario:
    """One entry of ``scenarios.yaml``: the healthy lab plus what the entry lists."""
    unknown = set(entry) - _KEYS
    if unknown:
        raise ValueError(f"scenarios.yaml: {name}: unknown key(s) {', '.join(sorted(unknown))}")
    ready = str(entry.get("ready", "running"))
    return Scenario(
        name=name,
        summary=str(entry["summary"]),
        operator=_operator(URL_FORMATS[entry.get("url_format", "path")]),
        suffix=bool(entry.get("suffix", False)),
        spark_conf={str(k): str(v) for k, v in (entry.get("spark_conf") or {}).items()},
        remove_ingress_annotations=tuple(entry.get("remove_ingress_annotations") or ()),
        set_ingress_annotations=tuple((entry.get("set_ingress_annotations") or {}).items()),
        writeup=str(entry.get("writeup", "3-10")),
        duration=FINISHED_DURATION if ready == "finished" else RUNNING_DURATION,
        ready=ready,
        symptom=str(entry.get("symptom", "")),
        exporters_down=tuple(entry.get("exporters_down") or ()),
    )


def load_scenarios(text: str) -> dict[str, Scenario]:
    """The scenarios of a ``scenarios.yaml`` text, in file order."""
    return {
        str(name): _scenario(str(name), dict(entry)) for name, entry in (yaml.safe_load(text) or {}).items()
    }


SCENARIOS: dict[str, Scenario] = load_scenarios(
    files("platform_kb_lab").joinpath("scenarios.yaml").read_text()
)

DEFAULT_SCENARIO = "healthy"


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; UsageProblem listing the known ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageProblem(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
