"""Grafana behind ingress-nginx at a sub-path (#3-11): probe through the tunnel, diagnose the setting.

Where this sits in the flow: after kube-prometheus-stack is applied, :func:`check_grafana_subpath`
walks ``<prefix>/`` through the tunnel's ingress URL (redirects followed by hand), loads the page's
CSS/JS the way a browser does (against ``<base href>``) and reads ``<prefix>/api/health``
(:func:`observe`); :func:`diagnose` — pure — turns those observations into
:class:`~platform_kb.results.Check` results with stable ids and a Korean ``fix`` naming the
kube-prometheus-stack values to change.

Upstream behaviour the diagnosis relies on (grafana/grafana; details and the lab stand-in that
reproduces it in :mod:`platform_kb_lab.grafana`):

* ``pkg/setting/setting.go`` ``parseAppUrlAndSubUrl``: ``root_url``'s path is ``AppSubURL``;
  ``conf/defaults.ini``: ``root_url = %(protocol)s://%(domain)s:%(http_port)s/`` (no sub-path) and
  ``serve_from_sub_path = false``.
* ``pkg/middleware/auth.go`` ``notAuthorized``: an unauthenticated page redirects (302) to
  ``AppSubURL + "/login"`` — to ``/login`` when ``root_url`` lacks the sub-path, i.e. out of the
  ingress prefix (``grafana-root-url``).
* ``public/views/index.html``: ``<base href="[[.AppSubUrl]]/">`` with relative ``public/build/...``
  assets — with no sub-path in ``root_url`` the browser loads ``/public/build/...``
  (``grafana-root-url``). The walk here resolves them as a browser does, against ``<base href>``
  (:func:`platform_kb.probes.extract_assets` and :func:`~platform_kb.probes.resolve`, the same as
  :func:`platform_kb.checks.pages.ui_check`); it keeps its own redirect walk because its verdicts
  name *where* a redirect goes (out of the prefix, a loop under it, back to the path just asked).
* ``pkg/api/http_server.go`` + ``pkg/web/macaron.go``: only with ``serve_from_sub_path=true`` does
  Grafana strip ``AppSubURL`` before routing. With it false and an ingress that passes
  ``/grafana/...`` unchanged, no route matches and ``NotFound(ReqSignedIn)`` redirects to
  ``/grafana/login`` — again unmatched: a redirect loop under the prefix, and ``/grafana/api/health``
  redirects to the login page instead of answering JSON (``grafana-subpath-not-served``).
* ``pkg/middleware/subpath_redirect.go`` (Grafana ≥ 10): with ``serve_from_sub_path=true``, a
  request *without* the sub-path gets 301 to ``AppURL + path`` — seen through an ingress that strips
  the prefix (``rewrite-target``) as a 301 back to the very path requested, possibly on the
  ``root_url`` host (``grafana-prefix-stripped``; grafana/grafana issue #71182).
* ``http_server.go`` ``apiHealthHandler``: ``/api/health`` answers ``{"database": "ok", ...}`` (503 and
  ``"failing"`` when the database is unreachable).

Chart values (grafana-community/helm-charts and grafana/helm-charts ``charts/grafana/values.yaml``,
the ``grafana`` sub-chart of kube-prometheus-stack): ``ingress.path`` (default ``/``),
``ingress.pathType`` (``Prefix``), ``ingress.hosts`` (default ``[chart-example.local]``); the
chart's ``templates/ingress.yaml`` renders a rule without ``host`` when ``hosts`` is empty, which is
what a tunnel to ``127.0.0.1:8080`` needs (checked in a grafana/helm-charts version of the template).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ..probes import extract_assets, resolve
from ..results import Check

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
MAX_HOPS = 10
MAX_ASSETS = 20
HEALTH_PATH = "/api/health"

# root_url must be the address the browser uses, the proxy's (tunnel's) host and port included: Grafana
# builds absolute URLs from it (grafana/grafana issues #15497 and #10007). The tutorial's
# ``%(protocol)s://%(domain)s:%(http_port)s/grafana/`` expands to localhost:3000, outside the tunnel.
ROOT_URL_VALUE = "{origin}{prefix}/"


def origin_of(url: str) -> str:
    """``scheme://host:port`` of the URL the check walked (the tunnel's local end)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_VALUES_ROOT_URL = 'grafana."grafana.ini".server.root_url'
_VALUES_SUB_PATH = 'grafana."grafana.ini".server.serve_from_sub_path'


def fix_root_url(prefix: str, origin: str) -> str:
    return (
        f"kube-prometheus-stack 값에서 `{_VALUES_ROOT_URL}: "
        f'"{ROOT_URL_VALUE.format(origin=origin, prefix=prefix)}"`로 root_url을 브라우저가 터널로 여는 주소(하위 경로 포함)로 두고 '
        f"`{_VALUES_SUB_PATH}: true`, `grafana.ingress.path: {prefix}`로 맞춘 뒤 helm upgrade 하세요."
    )


def fix_sub_path(prefix: str, origin: str) -> str:
    return (
        f"ingress가 {prefix}를 떼지 않고 그대로 넘기므로 Grafana가 하위 경로를 직접 처리해야 합니다: "
        f"`{_VALUES_SUB_PATH}: true`로 두고 (`{_VALUES_ROOT_URL}`은 "
        f'"{ROOT_URL_VALUE.format(origin=origin, prefix=prefix)}" 유지) helm upgrade 하세요.'
    )


def fix_prefix_stripped(prefix: str) -> str:
    return (
        f"ingress가 {prefix}를 떼어내는데 serve_from_sub_path가 켜져 있어 Grafana가 다시 {prefix}로 "
        "돌려보냅니다: `grafana.ingress.annotations`에서 `nginx.ingress.kubernetes.io/rewrite-target`을 "
        f"지우고 `grafana.ingress.path: {prefix}` (pathType Prefix)로 두세요 "
        f"(`{_VALUES_SUB_PATH}: true` 유지)."
    )


def fix_ingress(prefix: str) -> str:
    return (
        f"ingress-nginx에 {prefix} 규칙이 없습니다: `grafana.ingress.enabled: true`, "
        f"`grafana.ingress.ingressClassName: nginx`, `grafana.ingress.path: {prefix}`, "
        "`grafana.ingress.hosts: []` (터널의 127.0.0.1:8080으로 들어오므로 host 없는 규칙)로 설정하세요."
    )


FIX_UNREACHABLE = "터널이 떠 있는지(`kb tunnel up --profile NAME`)와 ingress-nginx가 NodePort 30998에서 응답하는지 확인하세요."
FIX_NO_ENDPOINTS = (
    "Grafana 서비스에 준비된 엔드포인트가 없습니다: `kubectl -n monitoring get pods,endpoints`로 "
    "grafana 파드가 Ready인지 확인하세요."
)
FIX_DATABASE = (
    "Grafana가 데이터베이스에 접근하지 못합니다: grafana 파드 로그와 PVC(`grafana.persistence`)를 확인하세요."
)


# --- observations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hop:
    """One answer on the way: the URL asked, its status and ``Location`` (empty if not a redirect)."""

    url: str
    status: int
    location: str = ""

    @property
    def target(self) -> str:
        return urljoin(self.url, self.location) if self.location else ""

    def text(self) -> str:
        return f"{urlsplit(self.url).path} -> {self.status} {self.location}".rstrip()


@dataclass(frozen=True)
class AssetResult:
    ref: str
    url: str
    status: int | None = None  # None: not fetched (outside the prefix) or transport error
    error: str = ""


@dataclass(frozen=True)
class PageWalk:
    """``<prefix>/`` followed by hand until a page, a loop, a hop out of the prefix or an error."""

    start: str
    hops: tuple[Hop, ...] = ()
    stop: str = "page"  # page | loop | left-prefix | left-host | too-many | error
    error: str = ""
    html: str = ""
    base_href: str | None = None
    assets: tuple[AssetResult, ...] = ()

    @property
    def last(self) -> Hop | None:
        return self.hops[-1] if self.hops else None

    @property
    def redirects(self) -> tuple[Hop, ...]:
        return tuple(h for h in self.hops if h.status in REDIRECT_CODES)

    def trail(self) -> str:
        return " ; ".join(h.text() for h in self.hops) or "none"


@dataclass(frozen=True)
class HealthProbe:
    url: str
    status: int | None = None
    location: str = ""
    body: dict[str, Any] | None = None  # parsed JSON object, None if not JSON
    error: str = ""


@dataclass(frozen=True)
class Observations:
    base_url: str
    prefix: str
    page: PageWalk
    health: HealthProbe
    notes: tuple[str, ...] = field(default_factory=tuple)


def base_href(html: str) -> str | None:
    """The first ``<base href>`` of a page, or None."""
    return extract_assets(html)[1]


def under(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` or below it (``/grafana``, ``/grafana/...``; not ``/grafanax``)."""
    base = prefix.rstrip("/")
    return not base or path == base or path.startswith(base + "/")


def _same_origin(a: str, b: str) -> bool:
    sa, sb = urlsplit(a), urlsplit(b)
    return (sa.scheme, sa.netloc) == (sb.scheme, sb.netloc)


def _fetch_assets(http: httpx.Client, page_url: str, html: str, prefix: str) -> tuple[AssetResult, ...]:
    refs, href = extract_assets(html)
    results = []
    for ref in (r.ref for r in refs[:MAX_ASSETS]):
        url = resolve(page_url, ref, href)
        if not _same_origin(url, page_url):
            continue  # an external CDN asset is not this check's business
        if not under(urlsplit(url).path, prefix):
            results.append(AssetResult(ref, url))
            continue
        try:
            status = http.get(url, follow_redirects=False).status_code
        except httpx.HTTPError as exc:
            results.append(AssetResult(ref, url, None, type(exc).__name__))
            continue
        results.append(AssetResult(ref, url, status))
    return tuple(results)


def walk_page(http: httpx.Client, base_url: str, prefix: str) -> PageWalk:
    """GET ``<prefix>/``, following redirects only while they stay on the host and under ``prefix``."""
    start = base_url.rstrip("/") + prefix.rstrip("/") + "/"
    hops: list[Hop] = []
    seen: set[str] = set()
    url = start
    try:
        for _ in range(MAX_HOPS):
            seen.add(urlsplit(url).path)
            response = http.get(url, follow_redirects=False)
            hop = Hop(str(response.url), response.status_code, response.headers.get("location", ""))
            hops.append(hop)
            if hop.status not in REDIRECT_CODES or not hop.location:
                break
            target = hop.target
            if not _same_origin(target, start):
                return PageWalk(start, tuple(hops), "left-host")
            if not under(urlsplit(target).path, prefix):
                return PageWalk(start, tuple(hops), "left-prefix")
            if urlsplit(target).path in seen:
                return PageWalk(start, tuple(hops), "loop")
            url = target
        else:
            return PageWalk(start, tuple(hops), "too-many")
        if response.status_code != 200:
            return PageWalk(start, tuple(hops), "page")
        html = response.text
        assets = _fetch_assets(http, str(response.url), html, prefix)
    except httpx.HTTPError as exc:
        return PageWalk(start, tuple(hops), "error", f"{type(exc).__name__}: {exc}")
    return PageWalk(start, tuple(hops), "page", "", html, base_href(html), assets)


def probe_health(http: httpx.Client, base_url: str, prefix: str) -> HealthProbe:
    url = base_url.rstrip("/") + prefix.rstrip("/") + HEALTH_PATH
    try:
        response = http.get(url, follow_redirects=False)
    except httpx.HTTPError as exc:
        return HealthProbe(url, error=f"{type(exc).__name__}: {exc}")
    body: dict[str, Any] | None = None
    try:
        data = response.json()
        body = data if isinstance(data, dict) else None
    except ValueError:
        body = None
    return HealthProbe(url, response.status_code, response.headers.get("location", ""), body)


def observe(http: httpx.Client, base_url: str, prefix: str = "/grafana") -> Observations:
    prefix = "/" + prefix.strip("/")
    return Observations(
        base_url, prefix, walk_page(http, base_url, prefix), probe_health(http, base_url, prefix)
    )


# --- diagnosis (pure) ----------------------------------------------------------------------------

UI_TITLE = "Grafana UI ({prefix}) — 리다이렉트·CSS/JS가 하위 경로 안에 머무름"
HEALTH_TITLE = "Grafana /api/health ({prefix}) — JSON, database ok"


def _stripped_redirect(hop: Hop) -> bool:
    """SubPathRedirect seen through a stripping proxy: 301 back to the path just requested."""
    return hop.status == 301 and bool(hop.location) and urlsplit(hop.target).path == urlsplit(hop.url).path


def _outside(prefix: str, page: PageWalk) -> list[str]:
    """Where the page sends the browser outside ``prefix``: a redirect, ``<base href>``, CSS/JS."""
    found = []
    last = page.last
    if page.stop == "left-prefix" and last is not None:
        found.append(f"redirect {last.text()}")
    if (
        page.stop == "page"
        and page.base_href is not None
        and not under(urlsplit(urljoin(page.start, page.base_href)).path, prefix)
    ):
        found.append(f'<base href="{page.base_href}">')
    found += [f"{a.ref} -> {urlsplit(a.url).path}" for a in page.assets if a.status is None and not a.error]
    return found


def diagnose_ui(obs: Observations) -> Check:
    prefix, page = obs.prefix, obs.page
    title = UI_TITLE.format(prefix=prefix)
    evidence = {"url": page.start, "redirects": page.trail()}
    last = page.last
    if page.stop == "error":
        return Check.failed("grafana-unreachable", title, page.error, evidence, fix=FIX_UNREACHABLE)
    stripped = next((h for h in page.redirects if _stripped_redirect(h)), None)
    if stripped is not None:
        detail = f"{stripped.text()}: Grafana가 {prefix} 없이 요청을 받고 자기 하위 경로로 되돌려 보냄"
        return Check.failed(
            "grafana-prefix-stripped", title, detail, evidence, fix=fix_prefix_stripped(prefix)
        )
    outside = _outside(prefix, page)
    if outside:
        detail = f"{prefix} 밖을 가리킴: " + "; ".join(outside[:4]) + " — root_url에 하위 경로가 없음"
        return Check.failed(
            "grafana-root-url",
            title,
            detail,
            evidence,
            fix=fix_root_url(prefix, origin_of(page.start)),
        )
    if page.stop in ("loop", "too-many"):
        detail = f"{prefix} 아래에서 리다이렉트가 끝나지 않음 (로그인 페이지도 라우팅되지 않음)"
        return Check.failed(
            "grafana-subpath-not-served",
            title,
            detail,
            evidence,
            fix=fix_sub_path(prefix, origin_of(page.start)),
        )
    if page.stop == "left-host" and last is not None:
        detail = f"리다이렉트가 다른 호스트로 나감: {last.location} (root_url이 브라우저가 터널로 여는 주소가 아님)"
        return Check.failed(
            "grafana-root-url",
            title,
            detail,
            evidence,
            fix=fix_root_url(prefix, origin_of(page.start)),
        )
    if last is not None and not page.redirects and last.status == 503:
        return Check.failed(
            "grafana-no-endpoints", title, f"{page.start} -> 503", evidence, fix=FIX_NO_ENDPOINTS
        )
    if last is not None and not page.redirects and last.status == 404:
        detail = f"{page.start} -> 404 (ingress-nginx에 {prefix} 규칙 없음)"
        return Check.failed("grafana-ingress-path", title, detail, evidence, fix=fix_ingress(prefix))
    if last is None or last.status != 200:
        status = last.status if last is not None else "?"
        return Check.failed(
            "grafana-ui", title, f"{page.start} 최종 응답 {status}", evidence, fix=FIX_UNREACHABLE
        )
    evidence.update({"base_href": str(page.base_href), "assets": str(len(page.assets))})
    failing = [f"{a.ref}: {a.status or a.error}" for a in page.assets if a.status != 200]
    if failing:
        return Check.failed(
            "grafana-assets",
            title,
            "; ".join(failing[:5]),
            evidence,
            fix=fix_root_url(prefix, origin_of(page.start)),
        )
    detail = f"{urlsplit(last.url).path} 200, base href {page.base_href}, CSS/JS {len(page.assets)}개 로드"
    return Check.passed("grafana-ui", title, detail, evidence)


def _redirect_finding(prefix: str, probe: HealthProbe) -> tuple[str, str]:
    """(id, fix) for a health probe answered with a redirect."""
    hop = Hop(probe.url, probe.status or 0, probe.location)
    if _stripped_redirect(hop):
        return "grafana-prefix-stripped", fix_prefix_stripped(prefix)
    if under(urlsplit(hop.target).path, prefix) and _same_origin(hop.target, probe.url):
        return "grafana-subpath-not-served", fix_sub_path(prefix, origin_of(probe.url))
    return "grafana-root-url", fix_root_url(prefix, origin_of(probe.url))


def diagnose_health(obs: Observations) -> Check:
    prefix, probe = obs.prefix, obs.health
    title = HEALTH_TITLE.format(prefix=prefix)
    evidence = {"url": probe.url, "status": str(probe.status), "location": probe.location or "none"}
    if probe.error:
        return Check.failed("grafana-unreachable", title, probe.error, evidence, fix=FIX_UNREACHABLE)
    if probe.status in REDIRECT_CODES:
        check_id, fix = _redirect_finding(prefix, probe)
        detail = f"JSON 대신 {probe.status} {probe.location} (로그인 페이지로 보냄: {HEALTH_PATH}가 라우팅되지 않음)"
        return Check.failed(check_id, title, detail, evidence, fix=fix)
    if probe.status == 503 and probe.body is None:
        return Check.failed(
            "grafana-no-endpoints", title, "503 (엔드포인트 없음)", evidence, fix=FIX_NO_ENDPOINTS
        )
    if probe.body is None:
        return Check.failed(
            "grafana-health", title, f"{probe.status}, JSON 아님", evidence, fix=fix_ingress(prefix)
        )
    database = str(probe.body.get("database", ""))
    evidence.update({"database": database, "version": str(probe.body.get("version", ""))})
    if probe.status != 200 or database != "ok":
        return Check.failed(
            "grafana-database",
            title,
            f"{probe.status} database={database}",
            evidence,
            fix=FIX_DATABASE,
        )
    return Check.passed(
        "grafana-health", title, f"database ok, version {probe.body.get('version', '?')}", evidence
    )


def diagnose(obs: Observations) -> list[Check]:
    """The UI check then the health check, each with the id of the setting its symptoms point to."""
    return [diagnose_ui(obs), diagnose_health(obs)]


def check_grafana_subpath(http: httpx.Client, base_url: str, prefix: str = "/grafana") -> list[Check]:
    """Grafana through the tunnel's ingress URL at ``prefix``: observe, then diagnose."""
    return diagnose(observe(http, base_url, prefix))
