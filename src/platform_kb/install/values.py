"""Render Helm values and Kubernetes manifests from typed parameters (plain dicts -> YAML).

First step of the install flow: a runbook's flat parameters become one of
:class:`AirflowParams`, :class:`SparkOperatorParams`, :class:`HistoryServerParams`; ``render_*``
turns them into an :class:`InstallSpec` — the chart release with its values, plus the objects the
runbook itself creates (namespaces, Secrets built from ``env:``/``file:`` references, the
History Server's manifests). Nothing here talks to a cluster; ``checks.py`` checks the result
and ``plan.py`` compares it with what is running.

Upstream behaviour reproduced here is cited where it is used (Airflow chart ``chart/values.yaml``,
Airflow connection JSON format, spark-operator ``urlFormat``, Spark ``UIUtils.uiRoot``,
``SparkClassCommandBuilder`` for ``SPARK_DAEMON_CLASSPATH``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlparse

import yaml

from ..errors import UsageProblem
from ..inventory import Inventory, load_inventory
from . import charts
from .charts import ChartRef
from .secrets import Resolver, try_resolve

MANAGED_BY = {"app.kubernetes.io/managed-by": "platform-kb"}
DATALAKE_BUCKET = "datalake"
AIRFLOW_LOG_PREFIX = "logs/airflow-logs/"
SPARK_LOG_PREFIX = "logs/spark-log/"
DEFAULT_URL_FORMAT = "/spark-ui/{{$appNamespace}}/{{$appName}}"


# --- records ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesiredSecret:
    """A Secret built at plan time from credential references (never from literals)."""

    name: str
    namespace: str
    refs: Mapping[str, str]  # parameter name -> "env:X" / "file:/p"
    compose: Callable[[dict[str, str]], dict[str, str]] = field(repr=False, compare=False)
    purpose: str = ""

    def placeholder_manifest(self) -> dict[str, Any]:
        return self._manifest(dict.fromkeys(self.compose(dict.fromkeys(self.refs, "***")), "***"))

    def _manifest(self, string_data: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": dict(MANAGED_BY)},
            "type": "Opaque",
            "stringData": string_data,
        }

    def materialize(self, resolver: Resolver) -> tuple[dict[str, Any], tuple[str, ...]] | None:
        """(manifest, secret values) with every reference resolved; None if one cannot be resolved here."""
        values: dict[str, str] = {}
        for param, ref in self.refs.items():
            value = try_resolve(ref, resolver, param)
            if value is None:
                return None
            values[param] = value
        data = self.compose(values)
        resolved = tuple(v for v in values.values() if v)
        # a composed value that carries a resolved secret (a connection string) is masked whole;
        # a plain value next to them (a user name) is not, or every occurrence of it would be masked
        composed = tuple(
            d for d in data.values() if d and d not in resolved and any(v in d for v in resolved)
        )
        secrets = resolved + composed
        return self._manifest(data), secrets


@dataclass(frozen=True)
class Release:
    """One Helm release: chart, name, namespace and the values the runbook rendered."""

    name: str
    namespace: str
    chart: ChartRef
    values: dict[str, Any]
    values_file: str

    @property
    def values_yaml(self) -> str:
        return to_yaml(self.values)


@dataclass(frozen=True)
class InstallSpec:
    """Everything one runbook wants to exist, in apply order: objects first, then the release."""

    component: str
    objects: tuple[dict[str, Any] | DesiredSecret, ...]
    release: Release | None = None
    notes: tuple[str, ...] = ()

    def manifests_shown(self) -> list[dict[str, Any]]:
        """The objects as they may be shown (Secrets with ``***`` values)."""
        return [o.placeholder_manifest() if isinstance(o, DesiredSecret) else o for o in self.objects]


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` merged over ``base`` (mappings recursively, everything else replaced)."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_extra_values(
    text: str | Mapping[str, Any] | None, parameter: str = "extra_values"
) -> dict[str, Any]:
    """A YAML/JSON mapping given as a parameter (``""`` -> ``{}``)."""
    if not text:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    try:
        data = yaml.safe_load(str(text))
    except yaml.YAMLError as exc:
        raise UsageProblem(f"{parameter}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageProblem(f"{parameter}: expected a mapping of Helm values, got {type(data).__name__}")
    return data


def _ns_manifest(name: str) -> dict[str, Any]:
    # no labels: a namespace such as `spark` may be shared, and an existing one must count as "matches"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def from_parameters(cls: type, params: Mapping[str, Any]):
    """Build a params dataclass from a runbook's flat parameters (unknown names ignored, types coerced)."""
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in params:
            continue
        value = params[f.name]
        default = f.default
        if isinstance(default, bool) and not isinstance(value, bool):
            value = str(value).strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int) and not isinstance(default, bool) and not isinstance(value, int):
            try:
                value = int(value)
            except (TypeError, ValueError) as exc:
                raise UsageProblem(f"{f.name}: expected an integer, got {value!r}") from exc
        elif isinstance(default, str) and value is None:
            value = ""
        kwargs[f.name] = value
    return cls(**kwargs)


@dataclass(frozen=True)
class S3Params:
    """Where the data lake lives, as the cluster sees it."""

    s3_endpoint: str = "http://minio.minio.svc.cluster.local:9000"
    s3_region: str = "us-east-1"
    bucket: str = DATALAKE_BUCKET
    s3_access_key_ref: str = "env:MINIO_ACCESS_KEY"
    s3_secret_key_ref: str = "env:MINIO_SECRET_KEY"


# --- Airflow ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AirflowParams:
    release: str = "airflow"
    namespace: str = "airflow"
    chart_repo_name: str = charts.AIRFLOW.repo_name
    chart_repo_url: str = charts.AIRFLOW.repo_url
    chart_version: str = charts.AIRFLOW.version
    s3_endpoint: str = S3Params.s3_endpoint
    s3_region: str = S3Params.s3_region
    bucket: str = DATALAKE_BUCKET
    log_prefix: str = AIRFLOW_LOG_PREFIX
    s3_access_key_ref: str = S3Params.s3_access_key_ref
    s3_secret_key_ref: str = S3Params.s3_secret_key_ref
    log_conn_id: str = "minio_s3"
    connection_secret: str = "airflow-minio-connection"
    # required, no default: the record names the repository (data-platform-core) but not its URL
    git_repo: str = ""
    git_branch: str = "main"
    git_subpath: str = "dags"
    git_period: str = "60s"
    git_username_ref: str = ""
    git_password_ref: str = ""
    git_ssh_key_ref: str = ""
    git_known_hosts: str = ""
    git_secret: str = "airflow-git-credentials"
    ingress_class: str = "nginx"
    ui_path: str = "/"
    extra_values: Any = ""

    @property
    def chart(self) -> ChartRef:
        return charts.AIRFLOW.with_repo(self.chart_repo_name, self.chart_repo_url).with_version(
            self.chart_version
        )

    @property
    def remote_base_log_folder(self) -> str:
        return f"s3://{self.bucket}/{self.log_prefix.strip('/')}"

    @property
    def conn_env_name(self) -> str:
        # Airflow reads connection <conn_id> from env AIRFLOW_CONN_<CONN_ID upper-cased>
        # (apache/airflow airflow-core/src/airflow/secrets/environment_variables.py).
        return "AIRFLOW_CONN_" + self.log_conn_id.upper()

    @property
    def git_uses_ssh(self) -> bool:
        return self.git_repo.startswith(("git@", "ssh://"))


def minio_connection_json(endpoint: str, region: str, access_key: str, secret_key: str) -> str:
    """An ``aws`` connection for MinIO in Airflow's JSON connection format (Airflow >= 2.3).

    ``endpoint_url`` points the Amazon provider at MinIO; ``config_kwargs.s3.addressing_style``
    forces path-style requests (MinIO without wildcard DNS). Note: Airflow's "Test connection"
    fails on MinIO (no STS) even when the credentials are right.
    """
    conn = {
        "conn_type": "aws",
        "login": access_key,
        "password": secret_key,
        "extra": {
            "endpoint_url": endpoint,
            "region_name": region,
            "config_kwargs": {"s3": {"addressing_style": "path"}},
        },
    }
    return json.dumps(conn, separators=(",", ":"))


def render_airflow(p: AirflowParams) -> InstallSpec:
    """Values for apache/airflow ``chart/`` (KubernetesExecutor, git-sync, S3 remote logs on MinIO)."""
    git_sync: dict[str, Any] = {
        "enabled": True,
        "repo": p.git_repo,
        "branch": p.git_branch,
        "ref": p.git_branch,  # git-sync v4 reads `ref`, v3 `branch` (chart/values.yaml dags.gitSync)
        "rev": "HEAD",
        "depth": 1,
        "subPath": p.git_subpath,
        "period": p.git_period,
    }
    objects: list[dict[str, Any] | DesiredSecret] = [_ns_manifest(p.namespace)]
    if p.git_ssh_key_ref:
        git_sync["sshKeySecret"] = p.git_secret  # the chart expects the key under `gitSshKey`
        if p.git_known_hosts:
            git_sync["knownHosts"] = p.git_known_hosts
        objects.append(
            DesiredSecret(
                p.git_secret, p.namespace, {"git_ssh_key_ref": p.git_ssh_key_ref},
                lambda v: {"gitSshKey": v["git_ssh_key_ref"] + "\n"},
                purpose="git-sync SSH key",
            )
        )  # fmt: skip
    elif p.git_username_ref or p.git_password_ref:
        git_sync["credentialsSecret"] = p.git_secret
        objects.append(
            DesiredSecret(
                p.git_secret, p.namespace,
                {"git_username_ref": p.git_username_ref, "git_password_ref": p.git_password_ref},
                # git-sync v4 reads GITSYNC_*, v3 GIT_SYNC_* (chart/values.yaml comments)
                lambda v: {
                    "GITSYNC_USERNAME": v["git_username_ref"], "GITSYNC_PASSWORD": v["git_password_ref"],
                    "GIT_SYNC_USERNAME": v["git_username_ref"], "GIT_SYNC_PASSWORD": v["git_password_ref"],
                },
                purpose="git-sync HTTPS credentials",
            )
        )  # fmt: skip
    env_name = p.conn_env_name
    endpoint, region = p.s3_endpoint, p.s3_region
    objects.append(
        DesiredSecret(
            p.connection_secret, p.namespace,
            {"s3_access_key_ref": p.s3_access_key_ref, "s3_secret_key_ref": p.s3_secret_key_ref},
            lambda v: {env_name: minio_connection_json(endpoint, region, v["s3_access_key_ref"], v["s3_secret_key_ref"])},
            purpose=f"Airflow connection {p.log_conn_id} (aws, MinIO endpoint_url)",
        )
    )  # fmt: skip
    values: dict[str, Any] = {
        "executor": "KubernetesExecutor",
        "dags": {"gitSync": git_sync},
        "config": {
            "logging": {
                "remote_logging": "True",
                "remote_base_log_folder": p.remote_base_log_folder,
                "remote_log_conn_id": p.log_conn_id,
            }
        },
        # `secret` puts the connection into every Airflow container, KubernetesExecutor pods included
        "secret": [{"envName": env_name, "secretName": p.connection_secret, "secretKey": env_name}],
        "ingress": {
            "apiServer": {
                "enabled": True,
                "ingressClassName": p.ingress_class,
                "path": p.ui_path,
                "pathType": "Prefix",
            }
        },
    }
    values = deep_merge(values, parse_extra_values(p.extra_values))
    release = Release(p.release, p.namespace, p.chart, values, f"{p.release}-values.yaml")
    return InstallSpec("airflow", tuple(objects), release)


# --- Spark Operator ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SparkOperatorParams:
    release: str = "spark-operator"
    namespace: str = "spark-operator"
    chart_repo_name: str = charts.SPARK_OPERATOR.repo_name
    chart_repo_url: str = charts.SPARK_OPERATOR.repo_url
    chart_version: str = charts.SPARK_OPERATOR.version
    job_namespaces: str = "spark"
    url_format: str = DEFAULT_URL_FORMAT
    ingress_class: str = "nginx"
    webhook_enable: bool = True
    extra_values: Any = ""

    @property
    def chart(self) -> ChartRef:
        return charts.SPARK_OPERATOR.with_repo(self.chart_repo_name, self.chart_repo_url).with_version(
            self.chart_version
        )

    @property
    def namespaces(self) -> list[str]:
        return [n.strip() for n in str(self.job_namespaces).split(",") if n.strip()]


def render_spark_operator(p: SparkOperatorParams) -> InstallSpec:
    """Values for kubeflow/spark-operator ``charts/spark-operator-chart`` with the UI Ingress on."""
    values: dict[str, Any] = {
        "controller": {
            "uiService": {"enable": True},  # required for uiIngress (chart README)
            "uiIngress": {
                "enable": True,
                "urlFormat": p.url_format,
                "ingressClassName": p.ingress_class,
            },
        },
        "spark": {"jobNamespaces": p.namespaces},
        "webhook": {"enable": bool(p.webhook_enable)},
    }
    values = deep_merge(values, parse_extra_values(p.extra_values))
    # spark.jobNamespaces "must already exist" (chart values.yaml); the runbook creates them
    objects = tuple(_ns_manifest(ns) for ns in p.namespaces)
    release = Release(p.release, p.namespace, p.chart, values, f"{p.release}-values.yaml")
    return InstallSpec("spark-operator", objects, release)


# --- Spark History Server --------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryServerParams:
    namespace: str = "spark-history"
    name: str = "spark-history-server"
    spark_version: str = "4.0.1"
    image: str = "apache/spark:4.0.1"
    s3_endpoint: str = S3Params.s3_endpoint
    s3_region: str = S3Params.s3_region
    bucket: str = DATALAKE_BUCKET
    log_prefix: str = SPARK_LOG_PREFIX
    s3_access_key_ref: str = S3Params.s3_access_key_ref
    s3_secret_key_ref: str = S3Params.s3_secret_key_ref
    s3_path_style: bool = True
    s3_secret: str = "spark-history-s3"
    ingress_class: str = "nginx"
    ui_path: str = "/spark-history"
    update_interval: str = "10s"
    maven_repo: str = "https://repo1.maven.org/maven2"
    jar_fetch_image: str = "curlimages/curl:8.11.1"

    @property
    def log_directory(self) -> str:
        return f"s3a://{self.bucket}/{self.log_prefix.strip('/')}/"

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, **MANAGED_BY}


HISTORY_PORT = 18080
JARS_DIR = "/opt/spark/extra-jars"
CONF_DIR = "/opt/spark/conf-kb"


def history_spark_defaults(p: HistoryServerParams) -> str:
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


def render_history_server(p: HistoryServerParams) -> InstallSpec:
    """Plain manifests (no official chart exists): ConfigMap, Secret, Deployment, Service, Ingress."""
    jars = charts.s3a_jars_for(p.spark_version)
    conf = history_spark_defaults(p)
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
    objects = (_ns_manifest(p.namespace), secret, configmap, deployment, service, ingress)
    notes = (
        f"jars: hadoop-aws {jars.hadoop_aws} + {jars.sdk_artifact} {jars.sdk_version} (Spark {jars.spark_line})",
    )
    return InstallSpec("spark-history-server", objects, None, notes)


# --- monitoring: kube-prometheus-stack + node-exporter on the inventory's hosts -------------------
GRAFANA_ADMIN_USER_KEY = "admin-user"  # grafana/helm-charts charts/grafana/values.yaml admin.userKey default
GRAFANA_ADMIN_PASSWORD_KEY = "admin-password"  # ... admin.passwordKey default


@dataclass(frozen=True)
class MonitoringParams:
    release: str = "kube-prometheus-stack"
    namespace: str = "monitoring"
    chart_repo_name: str = charts.KUBE_PROMETHEUS_STACK.repo_name
    chart_repo_url: str = charts.KUBE_PROMETHEUS_STACK.repo_url
    chart_version: str = charts.KUBE_PROMETHEUS_STACK.version
    ingress_class: str = "nginx"
    prometheus_path: str = "/prometheus"
    grafana_path: str = "/grafana"
    external_url_base: str = "http://localhost:8080"  # the browser's origin through the tunnel
    # empty: the browser's address through the tunnel, external_url_base + grafana_path + "/" (root_url)
    grafana_root_url: str = ""
    serve_from_sub_path: bool = True
    retention: str = "15d"
    retention_size: str = ""  # e.g. 40GB (Prometheus units B, KB, MB, GB, TB, PB, EB)
    storage_class: str = ""  # empty with storage_size empty: emptyDir (data lost on restart)
    storage_size: str = ""  # e.g. 50Gi
    grafana_admin_user: str = "admin"  # not a secret: stored next to the password in the Secret
    grafana_admin_password_ref: str = "env:GRAFANA_ADMIN_PASSWORD"
    grafana_admin_secret: str = "grafana-admin"
    cluster_node_exporter: bool = True  # nodeExporter.enabled: the DaemonSet on the cluster's nodes
    inventory: str = ""  # host inventory YAML (platform_kb.inventory); the profile's `inventory:`
    hosts: str = ""  # comma-separated inventory host names to include (empty: every host)
    hosts_job: str = "hosts"  # Prometheus job of the hosts' node-exporters
    hosts_scrape_interval: str = ""  # empty: Prometheus's global scrape interval
    extra_values: Any = ""

    @property
    def chart(self) -> ChartRef:
        return charts.KUBE_PROMETHEUS_STACK.with_repo(self.chart_repo_name, self.chart_repo_url).with_version(
            self.chart_version
        )

    @property
    def host_names(self) -> list[str]:
        return [n.strip() for n in str(self.hosts).split(",") if n.strip()]

    @property
    def prometheus_prefix(self) -> str:
        return "/" + self.prometheus_path.strip("/")

    @property
    def grafana_prefix(self) -> str:
        return "/" + self.grafana_path.strip("/")

    @property
    def root_url(self) -> str:
        """Grafana's ``[server] root_url``: the address the browser uses, proxy host and port included.

        Grafana builds absolute URLs (some redirects, alert and share links) from ``root_url``; behind a
        proxy it must be the proxy's address, not Grafana's own ``%(http_port)s`` (3000): grafana/grafana
        issues #15497 and #10007 (maintainers: "root_url should be the URL the browser uses"). The
        tutorial's ``%(protocol)s://%(domain)s:%(http_port)s/grafana/`` expands to ``localhost:3000`` and
        so leaves the tunnel at ``localhost:8080``.
        """
        if str(self.grafana_root_url or "").strip():
            return str(self.grafana_root_url)
        return self.external_url_base.rstrip("/") + self.grafana_prefix + "/"

    @property
    def external_url(self) -> str:
        """``prometheusSpec.externalUrl``: the browser's origin + the route prefix (links, redirects, alerts)."""
        return self.external_url_base.rstrip("/") + self.prometheus_prefix


def load_monitoring_inventory(p: MonitoringParams) -> Inventory | None:
    """The inventory named by ``p.inventory`` narrowed to ``p.hosts``; None when no inventory is given."""
    if not str(p.inventory or "").strip():
        if p.host_names:
            raise UsageProblem("hosts names inventory hosts but no inventory is given (-p inventory PATH)")
        return None
    inventory = load_inventory(p.inventory)
    return inventory.select(p.host_names) if p.host_names else inventory


def grafana_ini_filled(root_url: str) -> str:
    """Grafana's ``root_url`` with its ``%(protocol)s``-style placeholders filled in with Grafana's
    defaults (``conf/defaults.ini``: protocol http, domain localhost, http_port 3000)."""
    filled = root_url.replace("%(protocol)s", "http").replace("%(domain)s", "localhost")
    return filled.replace("%(http_port)s", "3000")


def grafana_ini_path(root_url: str) -> str:
    """The path of Grafana's ``root_url`` with its placeholders filled in."""
    return urlparse(grafana_ini_filled(root_url)).path


def grafana_ini_origin(root_url: str) -> str:
    """``scheme://host:port`` of Grafana's ``root_url`` with its placeholders filled in."""
    parsed = urlparse(grafana_ini_filled(root_url))
    return f"{parsed.scheme}://{parsed.netloc}"


def render_monitoring(p: MonitoringParams, inventory: Inventory | None = None) -> InstallSpec:
    """Values for kube-prometheus-stack: Grafana under ``grafana_path``, Prometheus under ``prometheus_path``,
    retention/storage, admin credentials from a Secret, and one scrape job for the inventory's hosts.

    ``inventory`` defaults to the file named by ``p.inventory`` (the runbook passes it when it has loaded it).
    Upstream: prometheus-community/helm-charts ``charts/kube-prometheus-stack/values.yaml`` (prometheus.ingress
    ``paths`` default to ``prometheusSpec.routePrefix``; ``grafana.serviceMonitor.path`` must follow a
    sub-path ``root_url``, PR #364); grafana/helm-charts ``charts/grafana/values.yaml`` (``admin.existingSecret``).
    """
    from .scrape import host_scrape_configs

    inventory = inventory if inventory is not None else load_monitoring_inventory(p)
    grafana_prefix, prom_prefix = p.grafana_prefix, p.prometheus_prefix
    admin_user = p.grafana_admin_user
    secret = DesiredSecret(
        p.grafana_admin_secret, p.namespace,
        {"grafana_admin_password_ref": p.grafana_admin_password_ref},
        lambda v: {GRAFANA_ADMIN_USER_KEY: admin_user,
                   GRAFANA_ADMIN_PASSWORD_KEY: v["grafana_admin_password_ref"]},
        purpose="Grafana admin credentials (grafana.admin.existingSecret)",
    )  # fmt: skip
    grafana: dict[str, Any] = {
        # the chart reads the admin user/password from this Secret; adminPassword is then ignored
        "admin": {
            "existingSecret": p.grafana_admin_secret,
            "userKey": GRAFANA_ADMIN_USER_KEY,
            "passwordKey": GRAFANA_ADMIN_PASSWORD_KEY,
        },
        "ingress": {
            "enabled": True,
            "ingressClassName": p.ingress_class,
            "hosts": [],  # no host: the rule matches whatever Host the tunnel sends
            "path": grafana_prefix,
            "pathType": "Prefix",
        },
        "grafana.ini": {
            "server": {"root_url": p.root_url, "serve_from_sub_path": bool(p.serve_from_sub_path)}
        },
    }
    if p.serve_from_sub_path:
        grafana["serviceMonitor"] = {"path": f"{grafana_prefix}/metrics"}
    spec: dict[str, Any] = {
        "routePrefix": prom_prefix,
        "externalUrl": p.external_url,
        "retention": p.retention,
    }
    if p.retention_size:
        spec["retentionSize"] = p.retention_size
    if p.storage_size:
        claim: dict[str, Any] = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": p.storage_size}},
        }
        if p.storage_class:
            claim["storageClassName"] = p.storage_class
        spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
    if inventory is not None and inventory.hosts:
        spec["additionalScrapeConfigs"] = host_scrape_configs(
            inventory, p.hosts_job, p.hosts_scrape_interval or None
        )
    values: dict[str, Any] = {
        "grafana": grafana,
        "prometheus": {
            "ingress": {
                "enabled": True,
                "ingressClassName": p.ingress_class,
                "hosts": [],
                "paths": [prom_prefix],
                "pathType": "Prefix",
            },
            "prometheusSpec": spec,
        },
        "nodeExporter": {"enabled": bool(p.cluster_node_exporter)},
    }
    values = deep_merge(values, parse_extra_values(p.extra_values))
    notes = [
        f"Grafana: {p.external_url_base.rstrip('/')}{grafana_prefix}/ (root_url {p.root_url}, "
        f"serve_from_sub_path {str(bool(p.serve_from_sub_path)).lower()})",
        f"Prometheus: {p.external_url}/ (routePrefix {prom_prefix}), 보존 {p.retention}"
        + (f" / {p.retention_size}" if p.retention_size else ""),
    ]
    if inventory is not None and inventory.hosts:
        notes.append(
            f"스크레이프 잡 `{p.hosts_job}`: " + ", ".join(f"{h.name} ({h.target})" for h in inventory.hosts)
        )
    else:
        notes.append("호스트 인벤토리가 없어 클러스터 밖 호스트는 스크레이프하지 않습니다.")
    release = Release(p.release, p.namespace, p.chart, values, f"{p.release}-values.yaml")
    return InstallSpec("kube-prometheus-stack", (_ns_manifest(p.namespace), secret), release, tuple(notes))
