"""HTTP probes through the tunnel: what a browser would get, hop by hop.

Where this sits in the flow: a runbook opens the tunnel (:mod:`platform_kb.tunnel`), then asks a
:class:`Prober` for status lines, ``Location`` headers, a page and every CSS/JS resource that page
references. Check modules (:mod:`platform_kb.checks.spark_ui`) turn these results into findings.
This module is the one home of page probes: :meth:`Prober.check_page` is the browser-grade verdict
(a page "works" only on positive evidence), :meth:`Prober.get` a single request.

Rules the prober keeps:

* :meth:`Prober.get` never follows redirects: the ``Location`` header is the evidence.
  :meth:`Prober.navigate` follows them the way a browser resolves them, one request per hop, each
  hop kept as evidence: a repeated URL is a loop, at most :data:`MAX_REDIRECTS` hops, a ``Location``
  that leaves the tunnel (``//jobs/`` = host ``jobs``) ends the navigation without a request.
* Resources are resolved against the page URL exactly as a browser resolves them (RFC 3986, the
  page's ``<base href>`` honoured). ``//jobs/`` is protocol-relative: it names the *host* ``jobs``.
* Traffic stays on loopback (the tunnel's local end). A URL whose host is not a loopback address
  or ``localhost`` is never requested (not even resolved); it is reported as broken.
* Every request has a bounded timeout and a bounded body size; environment proxies are ignored.
"""

from __future__ import annotations

import ipaddress
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
MAX_BODY_BYTES = 4_000_000
USER_AGENT = "platform-kb-probe/1"
BROWSER_CONNECTIONS = 6  # parallel connections per host, as browsers open them
MAX_REDIRECTS = 10  # hops followed before a navigation counts as an endless redirect
HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str | None) -> bool:
    """True for an HTML media type (parameters such as ``;charset=utf-8`` ignored)."""
    return (content_type or "").split(";", 1)[0].strip().lower() in HTML_TYPES


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and 127.0.0.0/8 / ``::1`` literals; any other name is not looked up."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url`` with the scheme's default port filled in."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or ""), port


@dataclass(frozen=True)
class HttpResult:
    """One GET as seen on the wire: status line, the headers that matter, or why there is none."""

    url: str
    status: int | None = None
    reason: str = ""
    http_version: str = "HTTP/1.1"
    location: str | None = None
    content_type: str | None = None
    server: str | None = None
    host_header: str | None = None
    error: str | None = None
    seconds: float = 0.0
    body: str = field(default="", repr=False, compare=False)

    @property
    def status_line(self) -> str:
        if self.status is None:
            return f"(응답 없음: {self.error})"
        return f"{self.http_version} {self.status} {self.reason}".rstrip()

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def redirect(self) -> bool:
        return self.status is not None and 300 <= self.status < 400

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def evidence(self) -> str:
        """``HTTP/1.1 302 Found; Location: //jobs/`` — the line a finding quotes."""
        text = self.status_line
        if self.location is not None:
            text += f"; Location: {self.location}"
        return text

    def row(self) -> dict[str, Any]:
        return {
            "URL": self.url,
            "Host 헤더": self.host_header or "",
            "상태": self.status_line,
            "Location": self.location or "",
            "초": round(self.seconds, 3),
        }

    def json(self) -> Any:
        """The body as JSON (None when it is not JSON)."""
        import json

        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class AssetRef:
    """A stylesheet or script a page references, as written in the HTML."""

    kind: str  # "css" | "js"
    ref: str


@dataclass(frozen=True)
class AssetResult:
    """One referenced resource: where a browser would fetch it from and what came back."""

    asset: AssetRef
    url: str
    result: HttpResult | None = None  # the last response (after redirects); None: never requested
    problem: str | None = None
    redirects: int = 0  # redirects followed to get ``result``

    @property
    def broken(self) -> bool:
        return self.problem is not None

    def row(self) -> dict[str, Any]:
        return {
            "종류": self.asset.kind,
            "페이지의 주소": self.asset.ref,
            "브라우저가 요청할 URL": self.url,
            "결과": self.result.status_line if self.result else "요청 안 함",
            "문제": self.problem or "",
        }


# Navigation.outcome values
LOADED = "loaded"  # ended on a response that is not a redirect (any status)
LOOP = "loop"  # a URL came back: the browser would redirect forever
TOO_MANY = "too-many-redirects"
LEFT = "left-host"  # a Location outside the tunnel (e.g. ``//jobs/``): not requested
NO_LOCATION = "no-location"  # a 3xx without Location
NO_ANSWER = "no-answer"  # connection error or timeout


@dataclass(frozen=True)
class Navigation:
    """A URL followed through its redirects as a browser follows them: every hop and how it ended."""

    start: str
    hops: tuple[HttpResult, ...]
    outcome: str
    repeated: str | None = None  # LOOP: the URL requested twice
    left_to: str | None = None  # LEFT: the URL a browser would go to, off the tunnel

    @property
    def final(self) -> HttpResult | None:
        return self.hops[-1] if self.hops else None

    @property
    def redirects(self) -> int:
        return sum(1 for h in self.hops if h.redirect)

    def evidence(self, limit: int = 4) -> str:
        """``GET /p/ → 302 (Location: /p/jobs/) → GET /p/jobs/ → 200`` (first ``limit`` hops) and the end."""
        steps = []
        for hop in self.hops[:limit]:
            text = f"GET {hop.path} → {hop.status if hop.status is not None else hop.status_line}"
            if hop.location is not None:
                text += f" (Location: {hop.location})"
            steps.append(text)
        if len(self.hops) > limit:
            steps.append(f"… 모두 {len(self.hops)}번 요청")
        end = {
            LOOP: f"같은 주소가 다시 나옴: {self.repeated} (무한 리다이렉트)",
            TOO_MANY: f"리다이렉트 {MAX_REDIRECTS}번을 넘음",
            LEFT: f"브라우저는 {self.left_to}로 감 (터널 밖)",
            NO_LOCATION: "Location 없는 리다이렉트",
            NO_ANSWER: "응답 없음",
        }.get(self.outcome)
        return " → ".join(steps + ([end] if end else []))


@dataclass(frozen=True)
class PageCheck:
    """The browser-grade verdict on one address: where the redirects end and whether the page renders.

    ``works`` only when the navigation ends on ``200`` with an HTML type inside ``inside`` (a path
    prefix) on the tunnel, the page references at least one stylesheet or script, and every one of
    them loads (redirects followed) with ``200`` and a type that is not HTML. ``problem`` says why not.
    """

    navigation: Navigation
    inside: str
    assets: tuple[AssetResult, ...] = ()
    problem: str | None = None

    @property
    def works(self) -> bool:
        return self.problem is None

    @property
    def page(self) -> HttpResult | None:
        return self.navigation.final

    @property
    def broken_assets(self) -> list[AssetResult]:
        return [a for a in self.assets if a.broken]

    def evidence(self) -> dict[str, str]:
        evidence = {"브라우저처럼 따라간 경로": self.navigation.evidence()}
        if self.problem:
            evidence["판정"] = self.problem
        broken = self.broken_assets
        if self.assets:
            evidence["CSS/JS"] = f"{len(self.assets) - len(broken)}/{len(self.assets)}개 로드됨"
        for i, a in enumerate(broken[:2], 1):
            evidence[f"깨진 CSS/JS {i}"] = f"{a.url} : {a.problem}"
        return evidence


def _via_tunnel(url: str, start: str, host: str | None) -> str:
    """An absolute ``Location`` naming the Ingress host (the name the user's browser resolves to the
    tunnel) is the tunnel: ``http://spark.homelab:8080/x`` -> ``<start's origin>/x``. Any other URL as is."""
    parts, begin = urlsplit(url), urlsplit(start)
    if not host or (parts.hostname or "").lower() != host.lower():
        return url
    try:
        port = parts.port
    except ValueError:
        return url
    if port is not None and port != begin.port:
        return url
    return parts._replace(scheme=begin.scheme, netloc=begin.netloc).geturl()


def _inside(url: str, start: str, prefix: str) -> bool:
    """``url`` is on ``start``'s origin and its path is under ``prefix`` (``/p`` counts for ``/p/``)."""
    if origin(url) != origin(start):
        return False
    path = urlsplit(url).path
    return (path.rstrip("/") + "/").startswith(prefix)


class _AssetParser(HTMLParser):
    """Collects ``<link rel=stylesheet href>``, ``<script src>`` and the first ``<base href>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[AssetRef] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "link" and "stylesheet" in values.get("rel", "").lower().split() and values.get("href"):
            self.assets.append(AssetRef("css", values["href"].strip()))
        elif tag == "script" and values.get("src"):
            self.assets.append(AssetRef("js", values["src"].strip()))
        elif tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"].strip()

    handle_startendtag = handle_starttag


def extract_assets(html: str) -> tuple[list[AssetRef], str | None]:
    """Every CSS/JS reference in ``html`` (document order, duplicates kept once) and its ``<base href>``."""
    parser = _AssetParser()
    parser.feed(html)
    parser.close()
    return list(dict.fromkeys(parser.assets)), parser.base


def resolve(page_url: str, ref: str, base: str | None = None) -> str:
    """The absolute URL a browser requests for ``ref`` on ``page_url`` (``//x/`` -> host ``x``)."""
    return urljoin(urljoin(page_url, base) if base else page_url, ref)


def why_not_requested(url: str) -> str | None:
    """Why ``url`` must not be requested (None when it may be): wrong scheme or a host off loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"http(s)가 아닌 주소({parts.scheme or '스킴 없음'})"
    if not is_loopback_host(parts.hostname):
        return (
            f"호스트 `{parts.hostname or ''}`로 가는 주소: 터널(루프백) 밖이라 요청하지 않았습니다"
            " — 브라우저도 이 호스트에서는 Spark UI를 찾지 못합니다"
        )
    return None


class Prober:
    """GET-only HTTP client for the tunnel's local end; never follows redirects, never leaves loopback."""

    def __init__(
        self,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self.max_body = max_body
        self.requests: list[str] = []  # every URL actually sent, in order (tests and benchmarks read it)
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=False,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(
        self, url: str, host: str | None = None, keep_body: bool = True, timeout: float | None = None
    ) -> HttpResult:
        """GET ``url`` (``Host: host`` if given) without following redirects."""
        refused = why_not_requested(url)
        if refused:
            return HttpResult(url=url, host_header=host, error=refused)
        headers = {"Host": host} if host else {}
        self.requests.append(url)
        started = time.monotonic()
        try:
            extra = {"timeout": timeout} if timeout is not None else {}
            with self._client.stream("GET", url, headers=headers, **extra) as response:
                body = self._read(response)
        except httpx.HTTPError as exc:
            return HttpResult(
                url=url,
                host_header=host,
                error=f"{type(exc).__name__}: {exc}",
                seconds=time.monotonic() - started,
            )
        return HttpResult(
            url=url,
            status=response.status_code,
            reason=response.reason_phrase,
            http_version=response.http_version,
            location=response.headers.get("location"),
            content_type=response.headers.get("content-type"),
            server=response.headers.get("server"),
            host_header=host,
            seconds=time.monotonic() - started,
            body=body.decode(response.encoding or "utf-8", errors="replace") if keep_body else "",
        )

    def _read(self, response: httpx.Response) -> bytes:
        """At most ``max_body`` bytes (read to the end when shorter, so the connection is reused)."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_body:
                break
        return b"".join(chunks)[: self.max_body]

    def navigate(
        self, url: str, host: str | None = None, max_redirects: int = MAX_REDIRECTS, keep_body: bool = True
    ) -> Navigation:
        """Follow ``url``'s redirects as a browser does (each Location resolved against the URL it
        came from, so ``//jobs/`` is the host ``jobs``), never leaving the tunnel. The ``Host``
        header goes with every hop on the start's origin."""
        hops: list[HttpResult] = []
        seen: set[str] = set()
        current = url
        for _ in range(max_redirects + 1):
            if current in seen:
                return Navigation(url, tuple(hops), LOOP, repeated=current)
            if why_not_requested(current):
                return Navigation(url, tuple(hops), LEFT, left_to=current)
            seen.add(current)
            same_origin = origin(current) == origin(url)
            result = self.get(current, host=host if same_origin else None, keep_body=keep_body)
            hops.append(result)
            if result.status is None:
                return Navigation(url, tuple(hops), NO_ANSWER)
            if not result.redirect:
                return Navigation(url, tuple(hops), LOADED)
            if not result.location:
                return Navigation(url, tuple(hops), NO_LOCATION)
            current = _via_tunnel(resolve(result.url, result.location), url, host)
        return Navigation(url, tuple(hops), TOO_MANY)

    def check_page(self, url: str, host: str | None = None, inside: str = "/") -> PageCheck:
        """The browser-grade probe of ``url``: redirects followed, the page and all its CSS/JS."""
        nav = self.navigate(url, host)
        page = nav.final
        if nav.outcome != LOADED or page is None:
            return PageCheck(nav, inside, (), nav.evidence(limit=0) or nav.outcome)
        if page.status != 200:
            return PageCheck(nav, inside, (), f"페이지가 {page.status_line}로 끝남")
        if not _inside(page.url, url, inside):
            return PageCheck(nav, inside, (), f"페이지가 접두사 `{inside}` 밖({page.url})에서 끝남")
        if not is_html(page.content_type):
            return PageCheck(nav, inside, (), f"HTML이 아닌 응답({page.content_type or '형식 없음'})")
        assets = tuple(self.assets(page))
        broken = [a for a in assets if a.broken]
        if not assets:
            problem: str | None = "페이지가 CSS/JS를 하나도 참조하지 않음 (Spark UI 페이지가 아님)"
        elif broken:
            problem = f"CSS/JS {len(broken)}/{len(assets)}개가 로드되지 않음"
        else:
            problem = None
        return PageCheck(nav, inside, assets, problem)

    def assets(self, page: HttpResult, workers: int = BROWSER_CONNECTIONS) -> list[AssetResult]:
        """Every CSS/JS ``page`` references, resolved like a browser and probed when on loopback.

        Like a browser, up to ``workers`` requests run at once (results keep the page's order).
        """
        refs, base = extract_assets(page.body)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return list(pool.map(lambda ref: self._asset(page, ref, base), refs))

    def _asset(self, page: HttpResult, ref: AssetRef, base: str | None) -> AssetResult:
        url = resolve(page.url, ref.ref, base)
        refused = why_not_requested(url)
        if refused:
            return AssetResult(ref, url, None, refused)
        # same origin as the page: the browser sends the page's Host too
        host = page.host_header if origin(url) == origin(page.url) else None
        nav = self.navigate(url, host=host, keep_body=False)
        result = nav.final
        if nav.outcome != LOADED or result is None:
            return AssetResult(ref, url, result, nav.evidence(limit=0) or nav.outcome, nav.redirects)
        if result.status != 200:
            problem: str | None = result.status_line
        elif is_html(result.content_type):
            problem = f"{result.status_line} 이지만 HTML({result.content_type}) — 스타일시트/스크립트가 아님"
        else:
            problem = None
        return AssetResult(ref, url, result, problem, nav.redirects)
