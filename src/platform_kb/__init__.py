"""platform-kb: a knowledge base for a homelab data platform whose recorded fixes are runbooks.

Public surface: the ``kb`` command (:mod:`platform_kb.cli`), the runbook API
(:mod:`platform_kb.runbook`), the bastion tunnel (:mod:`platform_kb.tunnel`) and the local lab
(:mod:`platform_kb.lab`).
"""

__version__ = "0.1.0"
