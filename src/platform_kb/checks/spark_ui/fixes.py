"""The Spark UI diagnosis's fixes as data: :class:`~platform_kb.remedies.Remedy` builders the causes share.

Each remedy names where the value comes from (the DAG's sparkConf, the operator's Helm values, an
Ingress annotation), so ``kb lab apply-fix`` can apply it and the Korean ``fix`` text can name it.
"""

from __future__ import annotations

from typing import Any

from ...remedies import Remedy
from .model import (
    CAPTURE_SUFFIX,
    OPERATOR_RELEASE,
    REWRITE_ANNOTATION,
    SUGGESTED_URL_PATH,
    URL_FORMAT_VALUE,
    Observations,
)


def app_target(obs: Observations) -> dict[str, str]:
    """A remedy's target for the SparkApplication the DAG submits (its name without Airflow's suffix)."""
    return {"namespace": obs.namespace, "application": obs.app_name}


def conf_remedy(
    obs: Observations, summary: str, set_: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> Remedy:
    return Remedy("spark-conf", app_target(obs), {"set": dict(set_ or {}), "unset": list(unset)}, summary)


def url_format_remedy(obs: Observations) -> Remedy:
    host = obs.ingress.host if obs.ingress else ""
    return Remedy(
        "operator-values",
        dict(OPERATOR_RELEASE),
        {"set": {URL_FORMAT_VALUE: (host + SUGGESTED_URL_PATH) if host else SUGGESTED_URL_PATH}},
        "a urlFormat with a path (the operator then sets proxyBase to it), then resubmit",
    )


def annotation_source(obs: Observations, key: str) -> str:
    """Where an Ingress annotation is written: the app's ``sparkUIOptions.ingressAnnotations``, else by hand.

    (``controller.uiIngress.annotations`` of the operator's values cannot be told apart from a hand
    edit through the API; the Korean fix names both.)
    """
    return "application" if obs.app and key in obs.app.ingress_annotations else "hand-edit"


def ingress_target(obs: Observations, key: str) -> dict[str, str]:
    name = obs.ingress.name if obs.ingress else ""
    return {"namespace": obs.namespace, "name": name, "source": annotation_source(obs, key)}


def rewrite_remedy(obs: Observations, summary: str) -> Remedy:
    """``rewrite-target: /$2`` on the Ingress; ``patch["path"]`` too when the path lacks the capture groups."""
    ingress = obs.ingress
    patch: dict[str, Any] = {"set": {REWRITE_ANNOTATION: "/$2"}, "unset": []}
    if ingress is not None and ingress.has_prefix and not ingress.path.endswith(CAPTURE_SUFFIX):
        patch["path"] = ingress.url_path + CAPTURE_SUFFIX  # /$2 needs the capture groups in the path
    return Remedy("ingress-annotations", ingress_target(obs, REWRITE_ANNOTATION), patch, summary)
