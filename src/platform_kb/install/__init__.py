"""Install runbooks' library: one package per component, one pipeline, shared machinery.

The flow of one install runbook (``runbooks/install-*.py``, :mod:`.pipeline`)::

    Params  ──> render   (typed params -> Helm values / manifests, <component>/values.py)
            ──> check    (the project's own checks, <component>/checks.py; stop before any change)
            ──> plan     (plan.py: read facts through a runner, commands only where state differs)
            ──> apply    (each change through ``rb.action`` -> runners.py executes it)
            ──> verify   (<component>/verify.py on verify.py: pods, UIs through the tunnel, S3, smoke app)

Components: ``airflow/``, ``spark_operator/``, ``history/`` (Spark History Server), ``monitoring/``
(kube-prometheus-stack + node-exporter on the hosts, ``hosts.py``). Each holds its ``Params`` — the
runbook's single parameter schema (``params.py`` holds what they share; the connection parameters are
``runner.connection.ConnectionParams``) — its chart facts (``chart.py`` on the shared :mod:`.chart`),
rendering, checks (on :mod:`.checking`) and verification. Shared: ``spec.py`` (what a runbook wants
to exist), ``connect.py`` (runner and cluster handles), ``commands.py`` (typed commands with secret
masking), ``secrets.py`` (``env:``/``file:`` references), ``s3.py`` (a small SigV4 client), ``s3a.py``
(the Spark/S3A jar pairs), ``sparkapp.py`` (the smoke SparkApplication). The hosts' scrape job is
:mod:`platform_kb.scrape` (shared with the Prometheus diagnosis). The lab's S3 stand-in is ``platform_kb_lab.s3server``.
"""
