"""Submitting a SparkApplication to the lab the way Airflow's ``SparkKubernetesOperator`` does.

Where this sits: ``kb lab submit NAME`` and ``kb lab up`` (for the scenario's ``long-test``) call
:func:`submit`, which builds a ``sparkoperator.k8s.io/v1beta2`` SparkApplication running the lab
job ``long_test.py`` and creates it through the lab API with the official ``kubernetes`` client
(``CustomObjectsApi.create_namespaced_custom_object``, as the Airflow provider's hook does).

The name gets Airflow's random suffix unless told otherwise: apache/airflow
``providers/cncf/kubernetes/src/airflow/providers/cncf/kubernetes/kubernetes_helper_functions.py``
``add_unique_suffix`` — ``"-"`` + 8 characters of ``[a-z0-9]``, the base cut to ``63 - 9``
characters and stripped of ``-`` and ``.``; ``SparkKubernetesOperator(random_name_suffix=True)``
(``operators/spark_kubernetes.py``, honoured since provider 10.0.0).
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

from platform_kb.errors import KbError, UsageProblem

from .config import LabSettings

ALPHANUM_LOWER = string.ascii_lowercase + string.digits
POD_NAME_MAX_LENGTH = 63
EVENT_LOG_DIR = "s3a://datalake/logs/spark-log/"  # the homelab's bucket; the lab maps it to .lab/spark-events
JOB_FILE = "local:///opt/spark/work-dir/long_test.py"
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def rand_str(length: int) -> str:
    return "".join(secrets.choice(ALPHANUM_LOWER) for _ in range(length))


def add_unique_suffix(
    name: str, rand_len: int = 8, max_len: int = POD_NAME_MAX_LENGTH, suffix: str | None = None
) -> str:
    """``name[: max_len - len(suffix)].strip("-.") + suffix`` with ``suffix = "-" + rand_str(rand_len)``."""
    suffix = suffix if suffix is not None else "-" + rand_str(rand_len)
    return name[: max_len - len(suffix)].strip("-.") + suffix


def check_name(name: str) -> str:
    if not name or len(name) > 253 or not _NAME_RE.match(name):
        raise UsageProblem(
            f"invalid application name {name!r}: use lowercase letters, digits, '-' and '.' (an RFC 1123 subdomain)"
        )
    return name


def parse_conf(items: Iterable[str]) -> dict[str, str]:
    """``key=value`` strings → dict; UsageProblem naming the bad one."""
    conf: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageProblem(f"--conf expects key=value, got {item!r}")
        conf[key.strip()] = value
    return conf


def build_application(
    name: str,
    namespace: str = "spark",
    duration: float = 60.0,
    conf: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A SparkApplication like the homelab DAG's: Python, cluster mode, event log on the datalake bucket."""
    spark_conf = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": EVENT_LOG_DIR,
        **dict(conf or {}),
    }
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": {
            "type": "Python",
            "pythonVersion": "3",
            "mode": "cluster",
            "image": "spark:4.3.0",
            "imagePullPolicy": "IfNotPresent",
            "mainApplicationFile": JOB_FILE,
            "arguments": ["--duration", f"{duration:g}"],
            "sparkVersion": "4.3.0",
            "sparkConf": spark_conf,
            "restartPolicy": {"type": "Never"},
            "driver": {
                "cores": 1,
                "memory": "512m",
                "serviceAccount": "spark",
                "labels": {"version": "4.3.0"},
            },
            "executor": {"cores": 1, "instances": 1, "memory": "512m", "labels": {"version": "4.3.0"}},
        },
    }


def custom_objects_api(settings: LabSettings) -> Any:
    """The official client's CustomObjectsApi for the lab API (direct, no tunnel needed on this machine)."""
    from kubernetes import client

    from platform_kb.kube import api_client

    return client.CustomObjectsApi(api_client(settings.kubeconfig, server=settings.api_url))


def submit(
    settings: LabSettings,
    name: str,
    namespace: str = "spark",
    *,
    suffix: bool = True,
    duration: float = 60.0,
    conf: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Create the SparkApplication through the lab API; returns the created object."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    check_name(name)
    if duration < 0:
        raise UsageProblem("--duration must be >= 0 seconds")
    if not settings.kubeconfig.exists():
        raise UsageProblem("the lab is not running (no .lab/kubeconfig): run `kb lab up` first")
    final = add_unique_suffix(name) if suffix else name
    body = build_application(final, namespace, duration, conf)
    api = custom_objects_api(settings)
    try:
        return api.create_namespaced_custom_object(
            "sparkoperator.k8s.io", "v1beta2", namespace, "sparkapplications", body
        )
    except ApiException as exc:
        raise KbError(
            f"the lab API refused SparkApplication {namespace}/{final}: {exc.status} {exc.reason}: {exc.body}"
        ) from exc
    except (OSError, HTTPError) as exc:
        raise KbError(f"the lab API at {settings.api_url} does not answer ({exc}): is the lab up?") from exc
