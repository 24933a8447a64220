"""The Spark Operator chart: the pinned release and the value keys the project knows.

Key lists from ``kubeflow/spark-operator`` ``charts/spark-operator-chart/values.yaml`` and the chart
``README.md`` values table (chart 2.4.0). The chart ships no values schema, so a misspelt key is
silently ignored by helm — only caught here.
"""

from __future__ import annotations

from ..chart import ChartRef, key_tree

# >= 2.3.0: the operator sets spark.ui.proxyBase/proxyRedirectUri *before* spark-submit and only where
# the app has not set them (PR #2599, v2.3.0). 2.2.1 alone set them after spark-submit (issue #2597);
# up to 2.2.0 they were set before submission but overwrote the app's own values (issue #1772).
CHART = ChartRef(
    repo_name="spark-operator",
    repo_url="https://kubeflow.github.io/spark-operator",
    chart="spark-operator",
    version="2.4.0",
    keys_confirmed_for="2.4.0",
    source="kubeflow/spark-operator charts/spark-operator-chart/values.yaml, README.md",
)
MIN_VERSION = (2, 3, 0)

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

KNOWN_KEYS = key_tree(_SPARK_OPERATOR_KEYS)
