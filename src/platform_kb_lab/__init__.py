"""The local lab: a twin of the homelab platform on loopback addresses.

Real OpenSSH ``sshd`` as the bastion, real nginx as ingress-nginx on NodePort 30998, real Spark
drivers and History Server from pyspark, and lab stand-ins (named as such) for the Kubernetes
API server, the Spark operator, MinIO (``s3server``) and Grafana. ``kb lab up|status|down`` drive it
(the command is registered through the ``platform_kb.commands`` entry point, see ``cli``).

This package depends on :mod:`platform_kb` and never the reverse (checked by import-linter in
``scripts/test``).
"""
