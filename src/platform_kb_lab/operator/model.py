"""The operator's model: its Helm values and the application states.

Where this sits: :class:`OperatorSettings` is what a scenario (:mod:`platform_kb_lab.scenarios`)
and the lab daemon's config give the operator; the state names are kubeflow/spark-operator's
``api/v1beta2`` ``ApplicationStateType`` values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# v1beta2 ApplicationStateType values
NEW, SUBMITTED, RUNNING, SUCCEEDING, COMPLETED = "", "SUBMITTED", "RUNNING", "SUCCEEDING", "COMPLETED"
FAILING, FAILED, SUBMISSION_FAILED = "FAILING", "FAILED", "SUBMISSION_FAILED"
TERMINAL_STATES = (COMPLETED, FAILED)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class OperatorSettings:
    """The operator's Helm values that matter here (``charts/spark-operator-chart/values.yaml``).

    ``url_format`` is ``controller.uiIngress.urlFormat`` (the ingress is created only when it is
    set), ``ingress_class_name`` ``controller.uiIngress.ingressClassName``, ``ingress_annotations``
    ``controller.uiIngress.annotations`` (v2.3.0+), ``ui_service_enable``
    ``controller.uiService.enable``. ``version`` selects the behaviour that differs between
    releases (:attr:`proxy_conf_mode`): in 2.2.1 only the operator-set ``spark.ui.proxyBase``/
    ``proxyRedirectUri`` never reach the driver; before it they overwrite the application's values.
    """

    url_format: str = ""
    ingress_class_name: str = ""
    ingress_annotations: Mapping[str, str] = field(default_factory=dict)
    ui_service_enable: bool = True
    version: str = "2.3.0"

    @property
    def proxy_conf_mode(self) -> str:
        """How the operator's proxyBase/proxyRedirectUri meet the app's own: ``keep-user`` (v2.3.0+,
        PR #2599), ``lost`` (v2.2.1, issue #2597), ``overwrite`` (v2.2.0 and older, issue #1772)."""
        version = version_tuple(self.version)
        if version >= (2, 3):
            return "keep-user"
        return "lost" if version >= (2, 2, 1) else "overwrite"

    @property
    def proxy_conf_reaches_driver(self) -> bool:
        return self.proxy_conf_mode != "lost"

    def to_json(self) -> dict[str, Any]:
        return {
            "url_format": self.url_format,
            "ingress_class_name": self.ingress_class_name,
            "ingress_annotations": dict(self.ingress_annotations),
            "ui_service_enable": self.ui_service_enable,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OperatorSettings:
        return cls(
            url_format=str(data.get("url_format", "")),
            ingress_class_name=str(data.get("ingress_class_name", "")),
            ingress_annotations=dict(data.get("ingress_annotations") or {}),
            ui_service_enable=bool(data.get("ui_service_enable", True)),
            version=str(data.get("version", "2.3.0")),
        )


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.lstrip("v").split("."):
        digits = re.match(r"\d+", piece)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts)
