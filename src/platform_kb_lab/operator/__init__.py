"""Spark operator emulation: kubeflow/spark-operator v2.3+ as small handlers over the lab store.

Where this sits: the lab daemon builds an :class:`ObjectStore` (``platform_kb_lab.kubeapi``), a
:class:`SparkOperator` with :class:`OperatorSettings` (the Helm values of the scenario) and a driver
launcher (``platform_kb_lab.driver``), and starts it. The operator subscribes to the store, so a
SparkApplication created by anyone through the lab API (``kb lab submit``, a runbook, kubectl) is
handled; handlers run one at a time on the operator's own thread, kopf style: each is a frozen
:class:`Handler` record in a :class:`HandlerRegistry` that tests can replace.

Modules: ``model`` (the Helm values, application states, a driver in flight), ``naming`` (names,
labels, ports, the ingress URL and proxy conf, as upstream derives them), ``resources`` (the UI
Service, UI Ingress and driver pod it renders), ``context`` (what handlers get, the registry),
``handlers`` (submission, cleanup, driver start and end), ``endpoints`` (the endpoints controller
stand-in), ``controller`` (:class:`SparkOperator`, the loop). Upstream paths are cited next to the
code that reproduces them.

What is reproduced from upstream (kubeflow/spark-operator):

* names ``<app>-ui-svc`` / ``<app>-ui-ingress`` with the >63-character rule
  (``pkg/util/sparkapplication.go``: ``generateName``, ``GetDefaultUIServiceName``,
  ``GetDefaultUIIngressName``), the driver pod name (``GetDriverPodName``) and labels
  (``GetResourceLabels``, ``pkg/common`` label constants);
* the UI Service (``internal/controller/sparkapplication/web_ui.go`` ports and port name,
  ``driveringress.go`` ``createDriverIngressService``: selector, labels, type) and the UI Ingress
  (``driveringress.go`` ``createDriverIngressV1``: ``<path>(/|$)(.*)``, ``rewrite-target: /$2``,
  ``pathType: ImplementationSpecific``, host from the URL) from ``urlFormat``
  (``getDriverIngressURL``: ``{{$appName}}``, ``{{$appNamespace}}``, ``{{$appId}}``, ``http://``
  prepended when there is no scheme);
* ``spark.ui.proxyBase`` / ``spark.ui.proxyRedirectUri`` from a ``urlFormat`` with a path (exactly
  ``/`` counts; no path at all injects nothing): v2.3.0+ sets them before submission only where the
  application does not set them (``configWebUI``, PR #2599); v2.2.1 alone set them after
  spark-submit, so they never reach the driver (the regression of issue #2597); up to v2.2.0 (and
  v1.x) they were set before submission over the application's own values (issue #1772);
* status: ``applicationState.state`` SUBMITTED → RUNNING → SUCCEEDING/FAILING → COMPLETED/FAILED,
  ``driverInfo`` web UI fields, ``submissionID``, ``sparkApplicationId``, ``terminationTime``
  (``controller.go`` ``submitSparkApplication``, ``updateDriverState``, ``GetDriverState``);
* on deletion the driver pod, UI Service and UI Ingress are deleted (``deleteSparkResources``).

Lab stand-ins (said so in ``docs/lab.md``): the driver is a local ``local[1]`` pyspark process on the
node address instead of a pod; an endpoints-controller handler fills ``Endpoints`` and
``EndpointSlice`` of every selector Service from Running+Ready pods; because every lab "pod" shares
the node address, a pod's annotation ``lab.platform-kb/ports`` maps its container ports to the real
ports on the node (the Spark UI port is picked free per driver).
"""

from platform_kb_lab.operator.context import Handler, HandlerRegistry, OperatorContext
from platform_kb_lab.operator.controller import SparkOperator
from platform_kb_lab.operator.handlers import default_registry
from platform_kb_lab.operator.model import OperatorSettings
from platform_kb_lab.operator.naming import REWRITE_TARGET

__all__ = [
    "REWRITE_TARGET",
    "Handler",
    "HandlerRegistry",
    "OperatorContext",
    "OperatorSettings",
    "SparkOperator",
    "default_registry",
]
