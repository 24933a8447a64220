"""The kube-prometheus-stack chart: the pinned release and the value keys the project knows.

The chart ships no values.schema.json, so helm silently ignores a misspelt key: only caught here.
"""

from __future__ import annotations

from ..chart import OPEN, ChartRef, key_tree, partly_open

# --- kube-prometheus-stack (prometheus-community/helm-charts charts/kube-prometheus-stack) ---------
# 81.4.5 (prometheus-operator v0.88.0, kubeVersion >=1.25) read from charts/kube-prometheus-stack/Chart.yaml
# at commit 48793177 (released 2026-02, between 81.4.2 of 2026-01-29 and 81.6.2 of 2026-02-11); its
# dependencies: grafana 10.5.12 (grafana/helm-charts), prometheus-node-exporter 4.51.0, kube-state-metrics 7.1.0.
CHART = ChartRef(
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


def _kube_prometheus_stack_keys() -> dict:
    tree = key_tree(_KPS_TOP_OPEN + _KPS_CLOSED)
    partly_open(tree, "grafana")
    # "grafana.ini" holds a dot, so it cannot go through _tree's dotted paths
    ini = tree["grafana"].setdefault("grafana.ini", {})
    ini["server"] = dict.fromkeys(GRAFANA_SERVER_OPTIONS)
    ini[OPEN] = OPEN
    return tree


KNOWN_KEYS = _kube_prometheus_stack_keys()
