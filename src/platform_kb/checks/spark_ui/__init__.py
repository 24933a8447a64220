"""Spark UI behind ingress-nginx (#3-10): collect what is there, diagnose, and say which URL works.

The ``spark-ui-ingress`` runbook's steps, in order (each module's docstring says more):

* :mod:`.model` — the records (:class:`Observations` and the API objects reduced to what the UI needs);
* :mod:`.facts` — reading the cluster (one LIST of SparkApplications, then the app's UI objects by
  label) and HTTP through the tunnel (the driver's conf, the browser-grade page probe, the History
  Server);
* :mod:`.diagnose` — pure: observations -> findings with stable ids, the causes by topic in
  :mod:`.routing`, :mod:`.proxybase`, :mod:`.rewrite` (their remedies built in :mod:`.fixes`);
* :mod:`.verdict` — the URL that works now and whether the UI is healthy;
* :mod:`.present` — the Korean table rows the runbook records.

This package exports the runbook's flow (the calls its cells make); everything else is imported
from its module.
"""

from __future__ import annotations

from .diagnose import collect_and_diagnose, diagnose
from .facts import (
    KubeReader,
    api_client_through,
    collect_backends,
    collect_kube,
    collect_ui_objects,
    find_applications,
    lookup_history,
    probe_ui,
    read_driver_conf,
)
from .model import Observations
from .present import (
    api_call_rows,
    app_rows,
    asset_rows,
    assets_title,
    conf_rows,
    describe_ingress,
    driver_rows,
    endpoint_rows,
    forward_rows,
    history_rows,
    ingress_rows,
    page_rows,
    probe_rows,
    service_rows,
)
from .verdict import verdict, working_url

__all__ = [
    "KubeReader",
    "Observations",
    "api_call_rows",
    "api_client_through",
    "app_rows",
    "asset_rows",
    "assets_title",
    "collect_and_diagnose",
    "collect_backends",
    "collect_kube",
    "collect_ui_objects",
    "conf_rows",
    "describe_ingress",
    "diagnose",
    "driver_rows",
    "endpoint_rows",
    "find_applications",
    "forward_rows",
    "history_rows",
    "ingress_rows",
    "lookup_history",
    "page_rows",
    "probe_rows",
    "probe_ui",
    "read_driver_conf",
    "service_rows",
    "verdict",
    "working_url",
]
