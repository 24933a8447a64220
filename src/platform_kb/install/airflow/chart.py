"""The Airflow chart: the pinned release and the value keys the project knows.

Key lists were confirmed against ``apache/airflow`` ``chart/values.yaml`` and ``chart/values.schema.json``
(draft-07 with ``additionalProperties: false`` on nested objects such as ``dags.gitSync``, so helm itself
rejects a mistyped key there; the root is open, so a misspelt top-level key is only caught here). The
``[logging]`` option names come from ``airflow-core/src/airflow/config_templates/config.yml`` — the chart
does *not* validate ``config.*``, so a misspelt Airflow option is only caught here.
``tests/install/test_airflow_schema.py`` checks every key below against the official schema.
"""

from __future__ import annotations

from ..chart import ChartRef, key_tree

# Airflow chart 1.18.0 was the current release when #3-10 was installed (2026-01; 1.19.0 followed in 2026-02).
CHART = ChartRef(
    repo_name="apache-airflow",
    repo_url="https://airflow.apache.org",
    chart="airflow",
    version="1.18.0",
    keys_confirmed_for="1.18.x",
    # read at apache/airflow commit 002e5532 (defaultAirflowTag 3.0.5, between charts 1.18.0 and 1.19.0)
    source="apache/airflow chart/values.yaml, chart/values.schema.json",
)

# --- Airflow chart (apache/airflow chart/values.yaml) -------------------------------------------
# Top level: closed here, each subtree open (values.schema.json leaves the root open, so helm accepts
# a misspelt top-level key; this list does not).
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

KNOWN_KEYS = key_tree(_AIRFLOW_TOP_OPEN + _AIRFLOW_CLOSED)
