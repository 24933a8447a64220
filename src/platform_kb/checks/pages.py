"""A UI page check as a :class:`~platform_kb.results.Check`: the page and every CSS/JS it loads.

One home for "does this UI open through the tunnel": install verification (Airflow, Spark Operator,
History Server, Prometheus, Grafana) and diagnosis share :meth:`platform_kb.probes.Prober.check_page`,
which follows redirects as a browser does, resolves assets against the page (``<base href>``
honoured) and says "works" only when the page is ``200`` HTML inside the prefix and every
stylesheet and script it references loads as one.
"""

from __future__ import annotations

from contextlib import nullcontext

from ..probes import PageCheck, Prober
from ..results import Check


def page_result(page: PageCheck, check_id: str, title: str) -> Check:
    """``page`` as a check result: passed only when the page and all its CSS/JS loaded."""
    evidence = {"url": page.navigation.start, **page.evidence()}
    if page.works:
        return Check.passed(check_id, title, f"200, CSS/JS {len(page.assets)}개 로드됨", evidence)
    return Check.failed(check_id, title, page.problem or "", evidence)


def ui_check(
    base_url: str,
    path: str,
    title: str,
    prefix: str | None = None,
    host: str | None = None,
    check_id: str = "ui",
    prober: Prober | None = None,
) -> Check:
    """GET ``base_url + path`` through the tunnel; the page and its CSS/JS must stay under ``prefix``
    (default: ``path`` without its trailing slash; ``""`` allows any path)."""
    inside = (prefix if prefix is not None else path.rstrip("/")) or "/"
    url = base_url.rstrip("/") + path
    with nullcontext(prober) if prober is not None else Prober() as probe:
        return page_result(probe.check_page(url, host=host, inside=inside), check_id, title)
