"""The local lab: a twin of the homelab platform on loopback addresses.

Real OpenSSH ``sshd`` as the bastion, real nginx as ingress-nginx on NodePort 30998, real Spark
drivers and History Server from pyspark, and lab stand-ins (named as such) for the Kubernetes
API server and the Spark operator. ``kb lab up|status|down`` drive it.
"""
