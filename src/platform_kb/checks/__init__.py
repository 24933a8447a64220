"""Diagnosis checks: pure detection logic that runbooks call and record.

Where this sits in the flow: a runbook cell *collects* observations (kube API, HTTP probes through
the tunnel), a check module under this package turns them into :class:`platform_kb.results.Check`
results with pure functions (unit-tested on captured API objects and HTTP responses), and the cell
hands each problem to ``rb.finding(**check.as_finding())`` so it lands in ``summary.json``.

Modules: :mod:`platform_kb.checks.spark_ui` (the #3-10 Spark UI behind ingress-nginx),
:mod:`platform_kb.checks.grafana` (Grafana at a sub-path, #3-11), :mod:`platform_kb.checks.prometheus`
(the Prometheus targets and UI), :mod:`platform_kb.checks.pages` (the one UI page check).
"""
