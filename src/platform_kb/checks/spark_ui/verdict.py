"""The Spark UI diagnosis's conclusion: the URL that works now, the URL once fixed, healthy or not.

All three come from the same browser-grade page probe (``Observations.page``), so the verdict and
the findings' "address that works now" never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...results import Check, has_errors
from .model import Observations


def working_url(obs: Observations) -> str | None:
    """The URL verified to work now through the tunnel: the live UI, else the History Server's UI."""
    if obs.ui_works():
        return obs.browser_url()
    if obs.history and obs.history.ui_ok and obs.history.ui_url:
        return obs.history.ui_url
    return None


def fixed_url(obs: Observations) -> str:
    """The URL that will work once the findings are fixed (same prefix rule as the operator)."""
    if obs.ingress and obs.ingress.has_prefix:
        return obs.browser_url()
    app = obs.app.name if obs.app else obs.app_name
    return obs.ui_url(f"/spark-ui/{obs.namespace}/{app}/")


def now_or_none(obs: Observations) -> str:
    url = working_url(obs)
    if url:
        return f"지금 터널로 동작하는 주소: {url}"
    return f"지금은 터널로 온전히 동작하는 주소가 없습니다. 고친 뒤 주소: {fixed_url(obs)}"


@dataclass(frozen=True)
class Verdict:
    """The runbook's conclusion, from the same page probe as the findings' "address that works now"."""

    healthy: bool
    working_url: str | None
    fixed_url: str

    def lines(self) -> list[str]:
        if self.working_url:
            lines = [f"**지금 동작하는 주소:** {self.working_url}"]
        else:
            lines = [f"**지금은 터널로 온전히 동작하는 주소가 없습니다.** 고친 뒤 주소: {self.fixed_url}"]
        if self.healthy:
            lines.append(
                "Spark UI가 인그레스 뒤에서 정상입니다: 브라우저처럼 따라간 페이지와 CSS/JS가 모두 로드됐습니다."
            )
        return lines


def verdict(obs: Observations, findings: list[Check]) -> Verdict:
    """Healthy only when the page probe saw the live UI work and no finding is an error."""
    return Verdict(
        healthy=obs.ui_works() and not has_errors(findings),
        working_url=working_url(obs),
        fixed_url=fixed_url(obs),
    )
