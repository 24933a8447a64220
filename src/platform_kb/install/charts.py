"""Pinned chart facts: repositories, chart names, versions and the value keys each chart knows.

Sits at the bottom of the install flow: ``values.py`` renders values for these charts,
``checks.py`` walks the rendered values against :data:`KNOWN_KEYS` to catch misspelt keys
before anything is applied, and ``plan.py`` builds the ``helm`` command lines from
:class:`ChartRef`.

Key lists were confirmed against the upstream chart sources:

* Airflow: ``apache/airflow`` ``chart/values.yaml`` and ``chart/values.schema.json``
  (the schema is draft-07 with ``additionalProperties: false`` on nested objects, so helm
  itself rejects a mistyped key under e.g. ``dags.gitSync``); the ``[logging]`` option names
  come from ``airflow-core/src/airflow/config_templates/config.yml`` — the chart does *not*
  validate ``config.*``, so a misspelt Airflow option is only caught here.
* Spark Operator: ``kubeflow/spark-operator`` ``charts/spark-operator-chart/values.yaml`` and
  the chart ``README.md`` values table (chart 2.4.0). The chart ships no values schema, so a
  misspelt key is silently ignored by helm — only caught here.
* Spark History Server: no official chart exists; the runbook renders its own manifests
  (see ``values.py``), so only the Spark/S3A jar pairing lives here (upstream-facts §5).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageProblem

OPEN = "*"  # a subtree whose keys are free-form (annotations, resources, env lists, ...)


@dataclass(frozen=True)
class ChartRef:
    """One pinned Helm chart: ``helm repo add <repo_name> <repo_url>``, ``<repo_name>/<chart>@<version>``."""

    repo_name: str
    repo_url: str
    chart: str
    version: str
    keys_confirmed_for: str  # the chart version whose values.yaml the known keys were read from
    source: str  # upstream path the key list was read from

    @property
    def ref(self) -> str:
        return f"{self.repo_name}/{self.chart}"

    def with_version(self, version: str) -> ChartRef:
        return ChartRef(
            self.repo_name, self.repo_url, self.chart, version, self.keys_confirmed_for, self.source
        )

    def with_repo(self, repo_name: str, repo_url: str) -> ChartRef:
        return ChartRef(repo_name, repo_url, self.chart, self.version, self.keys_confirmed_for, self.source)


# Airflow chart 1.18.0 was the current release when #3-10 was installed (2026-01; 1.19.0 followed in 2026-02).
AIRFLOW = ChartRef(
    repo_name="apache-airflow",
    repo_url="https://airflow.apache.org",
    chart="airflow",
    version="1.18.0",
    keys_confirmed_for="1.18.x",
    # read at apache/airflow commit 002e5532 (defaultAirflowTag 3.0.5, between charts 1.18.0 and 1.19.0)
    source="apache/airflow chart/values.yaml, chart/values.schema.json",
)

# >= 2.3.0: the operator sets spark.ui.proxyBase/proxyRedirectUri *before* spark-submit and only where
# the app has not set them (PR #2599, v2.3.0). 2.2.1 alone set them after spark-submit (issue #2597);
# up to 2.2.0 they were set before submission but overwrote the app's own values (issue #1772).
SPARK_OPERATOR = ChartRef(
    repo_name="spark-operator",
    repo_url="https://kubeflow.github.io/spark-operator",
    chart="spark-operator",
    version="2.4.0",
    keys_confirmed_for="2.4.0",
    source="kubeflow/spark-operator charts/spark-operator-chart/values.yaml, README.md",
)
SPARK_OPERATOR_MIN_VERSION = (2, 3, 0)


@dataclass(frozen=True)
class S3AJars:
    """The hadoop-aws jar and the AWS SDK bundle that match one Spark line (never mix Hadoop versions)."""

    spark_line: str
    hadoop_aws: str  # org.apache.hadoop:hadoop-aws:<v>
    sdk_group: str
    sdk_artifact: str
    sdk_version: str

    def maven_paths(self) -> tuple[str, str]:
        """Paths under a Maven repository root (``https://repo1.maven.org/maven2``)."""
        hadoop = f"org/apache/hadoop/hadoop-aws/{self.hadoop_aws}/hadoop-aws-{self.hadoop_aws}.jar"
        group = self.sdk_group.replace(".", "/")
        sdk = f"{group}/{self.sdk_artifact}/{self.sdk_version}/{self.sdk_artifact}-{self.sdk_version}.jar"
        return hadoop, sdk

    def jar_names(self) -> tuple[str, str]:
        return (f"hadoop-aws-{self.hadoop_aws}.jar", f"{self.sdk_artifact}-{self.sdk_version}.jar")


# Spark 3.5 ships Hadoop 3.3.4 (AWS SDK v1), Spark 4.0 ships Hadoop 3.4.1 (AWS SDK v2).
# hadoop-aws must equal the Hadoop version of the Spark distribution; the SDK bundle is the one
# that hadoop-aws release was built against (hadoop-project/pom.xml of that Hadoop tag).
S3A_JARS: dict[str, S3AJars] = {
    "3.5": S3AJars("3.5", "3.3.4", "com.amazonaws", "aws-java-sdk-bundle", "1.12.262"),
    "4.0": S3AJars("4.0", "3.4.1", "software.amazon.awssdk", "bundle", "2.24.6"),
}


def s3a_jars_for(spark_version: str) -> S3AJars:
    """The jar pair for ``spark_version`` (``"4.0.1"`` -> the 4.0 line); a UsageProblem for an unknown line."""
    parts = spark_version.strip().split(".")
    line = ".".join(parts[:2])
    if len(parts) < 2 or line not in S3A_JARS:
        known = ", ".join(sorted(S3A_JARS))
        raise UsageProblem(
            f"spark_version {spark_version!r}: no known hadoop-aws / AWS SDK pairing for this Spark line "
            f"(known: {known}); add one to platform_kb.install.charts.S3A_JARS"
        )
    return S3A_JARS[line]


def parse_version(text: str) -> tuple[int, int, int]:
    """``"2.3.0"`` / ``"v2.3.0"`` / ``"2.3"`` -> (2, 3, 0); a UsageProblem for anything else."""
    raw = text.strip().lstrip("v").split("-", 1)[0].split("+", 1)[0]
    parts = raw.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise UsageProblem(f"chart version {text!r} is not a version like 2.3.0")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return numbers[0], numbers[1], numbers[2]


def _tree(paths: list[str]) -> dict:
    """Dotted key paths -> nested dict of known keys.

    A dict node is closed (only its keys are known); :data:`OPEN` marks a free-form subtree
    (``annotations.*``); ``None`` marks a scalar leaf.
    """
    root: dict = {}
    for path in paths:
        parts = path.split(".")
        is_open = parts[-1] == OPEN
        if is_open:
            parts = parts[:-1]
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        leaf = parts[-1]
        if is_open:
            node[leaf] = OPEN
        elif leaf not in node:
            node[leaf] = None
    return root


# --- Airflow chart (apache/airflow chart/values.yaml) -------------------------------------------
# Top level: closed (values.schema.json has additionalProperties false at the root).
_AIRFLOW_TOP_OPEN = [
    "fullnameOverride",
    "nameOverride",
    "useStandardNaming",
    "revisionHistoryLimit",
    "devMode.*",
    "uid",
    "gid",
    "securityContext.*",
    "securityContexts.*",
    "containerLifecycleHooks.*",
    "airflowHome",
    "defaultAirflowRepository",
    "defaultAirflowTag",
    "defaultAirflowDigest",
    "airflowVersion",
    "images.*",
    "nodeSelector.*",
    "affinity.*",
    "tolerations.*",
    "topologySpreadConstraints.*",
    "schedulerName",
    "labels.*",
    "networkPolicies.*",
    "airflowPodAnnotations.*",
    "airflowConfigAnnotations.*",
    "airflowLocalSettings",
    "rbac.*",
    "executor",
    "allowPodLaunching",
    "allowJobLaunching",
    "env.*",
    "volumes.*",
    "volumeMounts.*",
    "secret.*",
    "enableBuiltInSecretEnvVars.*",
    "priorityClasses.*",
    "extraSecrets.*",
    "extraConfigMaps.*",
    "extraEnv",
    "extraEnvFrom",
    "data.*",
    "fernetKey",
    "fernetKeySecretName",
    "fernetKeySecretAnnotations.*",
    "apiSecretKey",
    "apiSecretAnnotations.*",
    "apiSecretKeySecretName",
    "jwtSecret",
    "jwtSecretAnnotations.*",
    "jwtSecretName",
    "webserverSecretKey",
    "webserverSecretAnnotations.*",
    "webserverSecretKeySecretName",
    "kerberos.*",
    "workers.*",
    "scheduler.*",
    "createUserJob.*",
    "migrateDatabaseJob.*",
    "apiServer.*",
    "webserver.*",
    "triggerer.*",
    "dagProcessor.*",
    "flower.*",
    "statsd.*",
    "pgbouncer.*",
    "redis.*",
    "registry.*",
    "elasticsearch.*",
    "opensearch.*",
    "ports.*",
    "quotas.*",
    "limits.*",
    "cleanup.*",
    "postgresql.*",
    "multiNamespaceMode",
    "podTemplate",
    "logs.*",
]
# The subtrees the runbook renders are closed, key by key.
_AIRFLOW_CLOSED = [
    "ingress.enabled",
    *[
        f"ingress.{part}.{key}"
        for part in ("apiServer", "web")
        for key in (
            "enabled",
            "annotations.*",
            "path",
            "pathType",
            "host",
            "hosts.*",
            "ingressClassName",
            "tls.*",
            "precedingPaths.*",
            "succeedingPaths.*",
        )
    ],
    "ingress.flower.*",
    "ingress.statsd.*",
    "ingress.pgbouncer.*",
    "dags.mountPath",
    "dags.persistence.*",
    *[
        f"dags.gitSync.{key}"
        for key in (
            "enabled",
            "repo",
            "branch",
            "rev",
            "ref",
            "depth",
            "maxFailures",
            "subPath",
            "credentialsSecret",
            "sshKeySecret",
            "sshKey",
            "knownHosts",
            "period",
            "wait",
            "envFrom",
            "containerName",
            "uid",
            "securityContext.*",
            "securityContexts.*",
            "containerLifecycleHooks.*",
            "readinessProbe.*",
            "livenessProbe.*",
            "extraVolumeMounts.*",
            "env.*",
            "emptyDirConfig.*",
            "resources.*",
        )
    ],
    # config: sections are free-form (the chart does not validate them), [logging] is closed
    # with the option names of airflow-core/src/airflow/config_templates/config.yml.
    *[
        f"config.{section}.*"
        for section in (
            "core",
            "database",
            "metrics",
            "secrets",
            "api",
            "api_auth",
            "workers",
            "webserver",
            "fab",
            "email",
            "smtp",
            "sentry",
            "scheduler",
            "triggerer",
            "dag_processor",
            "celery",
            "celery_kubernetes_executor",
            "celery_broker_transport_options",
            "kubernetes",
            "kubernetes_executor",
            "elasticsearch",
            "elasticsearch_configs",
            "opensearch",
            "kerberos",
            "sensors",
            "operators",
            "lineage",
            "traces",
            "aws",
            "execution_api",
        )
    ],
    *[
        f"config.logging.{opt}"
        for opt in (
            "base_log_folder",
            "remote_logging",
            "remote_log_conn_id",
            "delete_local_logs",
            "google_key_path",
            "remote_base_log_folder",
            "remote_task_handler_kwargs",
            "encrypt_s3_logs",
            "logging_level",
            "celery_logging_level",
            "fab_logging_level",
            "logging_config_class",
            "colored_console_log",
            "colored_log_format",
            "colored_formatter_class",
            "log_format",
            "simple_log_format",
            "dag_processor_log_target",
            "dag_processor_log_format",
            "dag_processor_child_process_log_directory",
            "log_formatter_class",
            "secret_mask_adapter",
            "min_length_masked_secret",
            "task_log_prefix_template",
            "log_filename_template",
            "task_log_reader",
            "extra_logger_names",
            "worker_log_server_port",
            "trigger_log_server_port",
            "interleave_timestamp_parser",
            "file_task_handler_new_folder_permissions",
            "file_task_handler_new_file_permissions",
            "celery_stdout_stderr_separation",
            "color_log_error_keywords",
            "color_log_warning_keywords",
        )
    ],
]

# --- Spark Operator chart 2.4.0 (charts/spark-operator-chart/README.md values table) ------------
_SPARK_OPERATOR_KEYS = [
    "nameOverride",
    "fullnameOverride",
    "commonLabels.*",
    "image.*",
    "hook.*",
    "controller.replicas",
    "controller.revisionHistoryLimit",
    "controller.leaderElection.*",
    "controller.workers",
    "controller.logLevel",
    "controller.logEncoder",
    "controller.driverPodCreationGracePeriod",
    "controller.maxTrackedExecutorPerApp",
    "controller.uiService.enable",
    "controller.uiIngress.enable",
    "controller.uiIngress.urlFormat",
    "controller.uiIngress.ingressClassName",
    "controller.uiIngress.tls.*",
    "controller.uiIngress.annotations.*",
    "controller.batchScheduler.*",
    "controller.serviceAccount.*",
    "controller.rbac.*",
    "controller.labels.*",
    "controller.annotations.*",
    "controller.volumes.*",
    "controller.nodeSelector.*",
    "controller.affinity.*",
    "controller.tolerations.*",
    "controller.priorityClassName",
    "controller.podSecurityContext.*",
    "controller.topologySpreadConstraints.*",
    "controller.env.*",
    "controller.envFrom.*",
    "controller.volumeMounts.*",
    "controller.resources.*",
    "controller.securityContext.*",
    "controller.sidecars.*",
    "controller.podDisruptionBudget.*",
    "controller.pprof.*",
    "controller.workqueueRateLimiter.*",
    "webhook.enable",
    "webhook.replicas",
    "webhook.revisionHistoryLimit",
    "webhook.leaderElection.*",
    "webhook.logLevel",
    "webhook.logEncoder",
    "webhook.port",
    "webhook.portName",
    "webhook.failurePolicy",
    "webhook.timeoutSeconds",
    "webhook.resourceQuotaEnforcement.*",
    "webhook.serviceAccount.*",
    "webhook.rbac.*",
    "webhook.labels.*",
    "webhook.annotations.*",
    "webhook.sidecars.*",
    "webhook.volumes.*",
    "webhook.nodeSelector.*",
    "webhook.affinity.*",
    "webhook.tolerations.*",
    "webhook.priorityClassName",
    "webhook.podSecurityContext.*",
    "webhook.topologySpreadConstraints.*",
    "webhook.env.*",
    "webhook.envFrom.*",
    "webhook.volumeMounts.*",
    "webhook.resources.*",
    "webhook.securityContext.*",
    "webhook.podDisruptionBudget.*",
    "spark.jobNamespaces.*",
    "spark.serviceAccount.*",
    "spark.rbac.*",
    "prometheus.*",
    "certManager.*",
]

KNOWN_KEYS: dict[str, dict] = {
    "airflow": _tree(_AIRFLOW_TOP_OPEN + _AIRFLOW_CLOSED),
    "spark-operator": _tree(_SPARK_OPERATOR_KEYS),
}


# --- kube-prometheus-stack (prometheus-community/helm-charts charts/kube-prometheus-stack) ---------
# 81.4.5 (prometheus-operator v0.88.0, kubeVersion >=1.25) read from charts/kube-prometheus-stack/Chart.yaml
# at commit 48793177 (released 2026-02, between 81.4.2 of 2026-01-29 and 81.6.2 of 2026-02-11); its
# dependencies: grafana 10.5.12 (grafana/helm-charts), prometheus-node-exporter 4.51.0, kube-state-metrics 7.1.0.
KUBE_PROMETHEUS_STACK = ChartRef(
    repo_name="prometheus-community",
    repo_url="https://prometheus-community.github.io/helm-charts",
    chart="kube-prometheus-stack",
    version="81.4.5",
    keys_confirmed_for="81.x",
    # values.yaml read at commit 001f3a6d (Prometheus v3.5.0 defaults); the subtrees rendered here are
    # unchanged up to 81.x; grafana subchart keys from grafana/helm-charts charts/grafana/values.yaml
    source="prometheus-community/helm-charts charts/kube-prometheus-stack/values.yaml, Chart.yaml; "
    "grafana/helm-charts charts/grafana/values.yaml",
)

# Top level: the chart ships no values.schema.json, so helm silently ignores a misspelt key.
_KPS_TOP_OPEN = [
    "nameOverride", "namespaceOverride", "kubeTargetVersionOverride", "kubeVersionOverride",
    "fullnameOverride", "commonLabels.*", "crds.*", "customRules.*", "defaultRules.*",
    "additionalPrometheusRules.*", "additionalPrometheusRulesMap.*", "global.*", "windowsMonitoring.*",
    "prometheus-windows-exporter.*", "alertmanager.*", "kubernetesServiceMonitors.*", "kubeApiServer.*",
    "kubelet.*", "kubeControllerManager.*", "coreDns.*", "kubeDns.*", "kubeEtcd.*", "kubeScheduler.*",
    "kubeProxy.*", "kubeStateMetrics.*", "kube-state-metrics.*", "prometheus-node-exporter.*",
    "prometheusOperator.*", "thanosRuler.*", "cleanPrometheusOperatorObjectNames", "extraManifests.*",
    "nodeExporter.operatingSystems.*", "nodeExporter.forceDeployDashboards",
]  # fmt: skip
# `grafana` (the subchart) is partly open: the keys below are closed, every other key is free.
_INGRESS_KEYS = ("enabled", "ingressClassName", "annotations.*", "labels.*", "hosts.*", "tls.*")
_KPS_CLOSED = [
    "nodeExporter.enabled",
    # grafana/helm-charts charts/grafana/values.yaml: ingress.path (one path) + pathType + extraPaths
    *[f"grafana.ingress.{k}" for k in (*_INGRESS_KEYS, "path", "pathType", "extraPaths.*")],
    "grafana.admin.existingSecret",
    "grafana.admin.userKey",
    "grafana.admin.passwordKey",
    # kube-prometheus-stack values.yaml grafana.serviceMonitor ("Might be different if server.root_url is set")
    *[
        f"grafana.serviceMonitor.{k}"
        for k in (
            "enabled",
            "path",
            "namespace",
            "labels.*",
            "interval",
            "scheme",
            "tlsConfig.*",
            "scrapeTimeout",
            "relabelings.*",
            "metricRelabelings.*",
            "targetLabels.*",
        )
    ],  # fmt: skip
    # kube-prometheus-stack values.yaml prometheus.ingress: `paths` (one should match routePrefix)
    *[f"prometheus.ingress.{k}" for k in (*_INGRESS_KEYS, "servicePort", "paths.*", "pathType")],
    *[
        f"prometheus.{k}.*"
        for k in (
            "agentMode",
            "annotations",
            "additionalLabels",
            "networkPolicy",
            "serviceAccount",
            "thanosService",
            "thanosServiceMonitor",
            "thanosServiceExternal",
            "service",
            "servicePerReplica",
            "podDisruptionBudget",
            "thanosIngress",
            "extraSecret",
            "route",
            "ingressPerReplica",
            "serviceMonitor",
            "additionalRulesForClusterRole",
            "additionalServiceMonitors",
            "additionalPodMonitors",
        )
    ],  # fmt: skip
    "prometheus.enabled",
    # prometheus.prometheusSpec: closed, every key of values.yaml (mostly the Prometheus CRD's spec)
    *[
        f"prometheus.prometheusSpec.{k}"
        for k in (
            "persistentVolumeClaimRetentionPolicy.*",
            "disableCompaction",
            "automountServiceAccountToken",
            "apiserverConfig.*",
            "additionalArgs.*",
            "scrapeFailureLogFile",
            "scrapeInterval",
            "scrapeTimeout",
            "scrapeClasses.*",
            "podTargetLabels.*",
            "evaluationInterval",
            "listenLocal",
            "enableOTLPReceiver",
            "enableAdminAPI",
            "version",
            "web.*",
            "exemplars.*",
            "enableFeatures.*",
            "otlp.*",
            "serviceName",
            "image.*",
            "tolerations.*",
            "topologySpreadConstraints.*",
            "alertingEndpoints.*",
            "externalLabels.*",
            "enableRemoteWriteReceiver",
            "replicaExternalLabelName",
            "replicaExternalLabelNameClear",
            "prometheusExternalLabelName",
            "prometheusExternalLabelNameClear",
            "externalUrl",
            "nodeSelector.*",
            "secrets.*",
            "configMaps.*",
            "query.*",
            "ruleNamespaceSelector.*",
            "ruleSelectorNilUsesHelmValues",
            "ruleSelector.*",
            "serviceMonitorSelectorNilUsesHelmValues",
            "serviceMonitorSelector.*",
            "serviceMonitorNamespaceSelector.*",
            "podMonitorSelectorNilUsesHelmValues",
            "podMonitorSelector.*",
            "podMonitorNamespaceSelector.*",
            "probeSelectorNilUsesHelmValues",
            "probeSelector.*",
            "probeNamespaceSelector.*",
            "scrapeConfigSelectorNilUsesHelmValues",
            "scrapeConfigSelector.*",
            "scrapeConfigNamespaceSelector.*",
            "retention",
            "retentionSize",
            "tsdb.*",
            "walCompression",
            "paused",
            "replicas",
            "shards",
            "logLevel",
            "logFormat",
            "routePrefix",
            "podMetadata.*",
            "podAntiAffinity",
            "podAntiAffinityTopologyKey",
            "affinity.*",
            "remoteRead.*",
            "additionalRemoteRead.*",
            "remoteWrite.*",
            "additionalRemoteWrite.*",
            "remoteWriteDashboards",
            "resources.*",
            "volumes.*",
            "volumeMounts.*",
            "additionalScrapeConfigs.*",
            "additionalScrapeConfigsSecret.*",
            "additionalPrometheusSecretsAnnotations.*",
            "additionalAlertManagerConfigs.*",
            "additionalAlertManagerConfigsSecret.*",
            "additionalAlertRelabelConfigs.*",
            "additionalAlertRelabelConfigsSecret.*",
            "securityContext.*",
            "priorityClassName",
            "thanos.*",
            "containers.*",
            "initContainers.*",
            "portName",
            "arbitraryFSAccessThroughSMs",
            "overrideHonorLabels",
            "overrideHonorTimestamps",
            "ignoreNamespaceSelectors",
            "enforcedNamespaceLabel",
            "prometheusRulesExcludedFromEnforce.*",
            "excludedFromEnforcement.*",
            "queryLogFile",
            "sampleLimit",
            "enforcedKeepDroppedTargets",
            "enforcedSampleLimit",
            "enforcedTargetLimit",
            "enforcedLabelLimit",
            "enforcedLabelNameLengthLimit",
            "enforcedLabelValueLengthLimit",
            "allowOverlappingBlocks",
            "nameValidationScheme",
            "minReadySeconds",
            "hostNetwork",
            "hostAliases.*",
            "tracingConfig.*",
            "serviceDiscoveryRole",
            "additionalConfig.*",
            "additionalConfigString",
            "maximumStartupDurationSeconds",
            "scrapeProtocols.*",
            # StorageSpec of the Prometheus CRD (prometheus-operator Documentation/platform/storage.md)
            "storageSpec.emptyDir.*",
            "storageSpec.ephemeral.*",
            "storageSpec.volumeClaimTemplate.*",
            "storageSpec.disableMountSubPath",
        )
    ],  # fmt: skip
]
# Grafana's [server] options (grafana/grafana conf/defaults.ini); other grafana.ini sections are free-form.
GRAFANA_SERVER_OPTIONS = (
    "protocol", "min_tls_version", "http_addr", "http_port", "domain", "enforce_domain", "root_url",
    "serve_from_sub_path", "router_logging", "static_root_path", "enable_gzip", "cert_file", "cert_key",
    "cert_pass", "socket_gid", "socket_mode", "socket", "cdn_url", "read_timeout",
)  # fmt: skip


def _partly_open(tree: dict, *path: str) -> None:
    """Mark the dict node at ``path`` as partly open: its listed keys are closed, any other key is free."""
    node = tree
    for part in path:
        node = node.setdefault(part, {})
    node[OPEN] = OPEN


def _kube_prometheus_stack_keys() -> dict:
    tree = _tree(_KPS_TOP_OPEN + _KPS_CLOSED)
    _partly_open(tree, "grafana")
    # "grafana.ini" holds a dot, so it cannot go through _tree's dotted paths
    ini = tree["grafana"].setdefault("grafana.ini", {})
    ini["server"] = dict.fromkeys(GRAFANA_SERVER_OPTIONS)
    ini[OPEN] = OPEN
    return tree


KNOWN_KEYS["kube-prometheus-stack"] = _kube_prometheus_stack_keys()
