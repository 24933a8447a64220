"""Korean labels for run records on the site, shared by the write-up and runbook pages.

Text only (no emoji): a closed-network reader may have no emoji font.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymdownx.slugs import slugify

STATUS_LABEL = {
    "passed": "통과",
    "failed": "실패(점검)",
    "error": "오류(셀 예외)",
    "running": "진행 중",
    "interrupted": "중단됨(신호)",
}
SEVERITY_LABEL = {"error": "오류", "warning": "경고", "info": "정보"}

# The record section of a runbook page, and its anchor as mkdocs.yml's toc slugify makes it.
RECORD_HEADING = "공개된 실행 기록"
RECORD_ANCHOR = slugify(case="lower")(RECORD_HEADING, "-")


def status_label(status: Any) -> str:
    return STATUS_LABEL.get(str(status), str(status))


def record_environment(summary: Mapping[str, Any]) -> str:
    """Where a run ran: the lab scenario for a lab profile, else the profile's name."""
    context = summary.get("context") or {}
    if context.get("lab_scenario"):
        return f"로컬 랩, `{context['lab_scenario']}` 시나리오"
    if context.get("profile"):
        return f"프로필 `{context['profile']}`"
    return "—"
