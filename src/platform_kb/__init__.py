"""platform-kb: a knowledge base for a homelab data platform whose recorded fixes are runbooks.

Public surface: the ``kb`` command (:mod:`platform_kb.cli`), the runbook API
(:mod:`platform_kb.runbook`) and the bastion tunnel (:mod:`platform_kb.tunnel`). The local lab is
a separate package, :mod:`platform_kb_lab`, that depends on this one and never the reverse.
"""

__version__ = "0.1.0"
