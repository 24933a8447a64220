"""Temporary: the two names ``platform_kb.lab.monitoring`` imports from the old ``install.values``.

The install code is cut by component now (``install/monitoring/``); this helper may not edit
``src/platform_kb/lab/``. Delete this module when the lab (issue 16, moved by the lead) imports
``platform_kb.install.monitoring.Params`` and ``platform_kb.install.monitoring.render``.
"""

from __future__ import annotations

from .monitoring.params import Params as MonitoringParams
from .monitoring.values import render as render_monitoring

__all__ = ["MonitoringParams", "render_monitoring"]
