"""The History Server's manifests (no official chart exists): ConfigMap, Secret, Deployment, Service, Ingress.

Upstream behaviour reproduced here is cited where it is used (Spark ``UIUtils.uiRoot``,
``SparkClassCommandBuilder`` for ``SPARK_DAEMON_CLASSPATH``, hadoop-aws credentials, ingress-nginx rewrites).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..s3a import s3a_jars_for
from ..spec import DesiredSecret, InstallSpec, ns_manifest
from .params import Params

HISTORY_PORT = 18080
JARS_DIR = "/opt/spark/extra-jars"
CONF_DIR = "/opt/spark/conf-kb"


def spark_defaults(p: Params) -> str:
    """``spark-defaults.conf`` of the History Server: event logs on MinIO through S3A (path-style)."""
    secure = p.s3_endpoint.startswith("https://")
    lines = {
        "spark.history.fs.logDirectory": p.log_directory,
        "spark.history.ui.port": str(HISTORY_PORT),
        "spark.history.fs.update.interval": p.update_interval,
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": p.s3_endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": p.s3_region,
        "spark.hadoop.fs.s3a.path.style.access": "true" if p.s3_path_style else "false",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "true" if secure else "false",
    }
    return "".join(f"{k} {v}\n" for k, v in lines.items())


def render(p: Params) -> InstallSpec:
    """Plain manifests (no official chart exists): ConfigMap, Secret, Deployment, Service, Ingress."""
    jars = s3a_jars_for(p.spark_version)
    conf = spark_defaults(p)
    urls = [f"{p.maven_repo.rstrip('/')}/{path}" for path in jars.maven_paths()]
    fetch = "set -e; cd /jars; " + "; ".join(
        f"curl -fsSL -o {name} {url}" for name, url in zip(jars.jar_names(), urls, strict=True)
    )
    conf_name = f"{p.name}-conf"
    # a change of the configuration restarts the pod (the annotation is part of the pod template)
    checksum = hashlib.sha256((conf + fetch + p.image).encode()).hexdigest()[:16]
    selector = {"app.kubernetes.io/name": p.name}

    def env_secret(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": p.s3_secret, "key": key}}}

    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": conf_name, "namespace": p.namespace, "labels": p.labels},
        "data": {"spark-defaults.conf": conf},
    }
    secret = DesiredSecret(
        p.s3_secret, p.namespace,
        {"s3_access_key_ref": p.s3_access_key_ref, "s3_secret_key_ref": p.s3_secret_key_ref},
        # S3A's default credential chain reads these variables (hadoop-aws docs, "Authenticating via
        # the AWS Environment Variables"), so the keys never appear in the pod spec or the ConfigMap.
        lambda v: {"AWS_ACCESS_KEY_ID": v["s3_access_key_ref"], "AWS_SECRET_ACCESS_KEY": v["s3_secret_key_ref"]},
        purpose="S3A credentials of the History Server",
    )  # fmt: skip
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": p.name, "namespace": p.namespace, "labels": p.labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": p.labels, "annotations": {"platform-kb/config-checksum": checksum}},
                "spec": {
                    "initContainers": [
                        {
                            "name": "fetch-s3a-jars",
                            "image": p.jar_fetch_image,
                            "command": ["sh", "-c", fetch],
                            "volumeMounts": [{"name": "jars", "mountPath": "/jars"}],
                        }
                    ],
                    "containers": [
                        {
                            "name": "history-server",
                            "image": p.image,
                            "command": [
                                "/opt/spark/bin/spark-class",
                                "org.apache.spark.deploy.history.HistoryServer",
                            ],
                            "env": [
                                {"name": "SPARK_CONF_DIR", "value": CONF_DIR},
                                # spark-class adds SPARK_DAEMON_CLASSPATH for the HistoryServer class
                                # (launcher/.../SparkClassCommandBuilder.java)
                                {"name": "SPARK_DAEMON_CLASSPATH", "value": f"{JARS_DIR}/*"},
                                # UIUtils.uiRoot reads the *system property* spark.ui.proxyBase: links
                                # and redirects then carry the ingress prefix
                                {
                                    "name": "SPARK_HISTORY_OPTS",
                                    "value": f"-Dspark.ui.proxyBase={p.ui_path.rstrip('/')}",
                                },
                                env_secret("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
                                env_secret("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
                            ],
                            "ports": [{"name": "http", "containerPort": HISTORY_PORT}],
                            "readinessProbe": {
                                "httpGet": {"path": "/api/v1/version", "port": "http"},
                                "periodSeconds": 10,
                            },
                            "volumeMounts": [
                                {"name": "conf", "mountPath": CONF_DIR},
                                {"name": "jars", "mountPath": JARS_DIR},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "conf", "configMap": {"name": conf_name}},
                        {"name": "jars", "emptyDir": {}},
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": p.name, "namespace": p.namespace, "labels": p.labels},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": HISTORY_PORT, "targetPort": "http"}],
        },
    }
    prefix = p.ui_path.rstrip("/")
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": p.name,
            "namespace": p.namespace,
            "labels": p.labels,
            # the same rewrite the operator uses for driver UIs (ingress-nginx capture groups, >= 0.22)
            "annotations": {
                "nginx.ingress.kubernetes.io/rewrite-target": "/$2",
                "nginx.ingress.kubernetes.io/use-regex": "true",
            },
        },
        "spec": {
            "ingressClassName": p.ingress_class,
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": f"{prefix}(/|$)(.*)",
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": p.name, "port": {"number": HISTORY_PORT}}},
                            }
                        ]
                    }
                }
            ],
        },
    }
    objects = (ns_manifest(p.namespace), secret, configmap, deployment, service, ingress)
    notes = (
        f"jars: hadoop-aws {jars.hadoop_aws} + {jars.sdk_artifact} {jars.sdk_version} (Spark {jars.spark_line})",
    )
    return InstallSpec("spark-history-server", objects, None, notes)
