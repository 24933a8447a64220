"""Install runbooks' library: Helm values, checks, typed commands, runners, plan/apply, verification.

The flow of one install runbook (``runbooks/install-*.py``)::

    parameters ──> values.py (typed params -> Helm values / manifests)
               ──> checks.py (the project's own checks; stop before any change)
               ──> plan.py   (read facts through a runner, yield commands only where state differs)
               ──> apply     (each change through ``rb.action`` -> runners.py executes it)
               ──> verify.py (read-only checks: pods, UIs through the tunnel, S3 prefixes, smoke app)

``charts.py`` holds the pinned chart facts, ``commands.py`` the typed commands with secret masking,
``secrets.py`` the ``env:``/``file:`` references, ``s3.py`` a small SigV4 S3 client and
``steps.py`` is the thin glue the runbooks call.
"""
