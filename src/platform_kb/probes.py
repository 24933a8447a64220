"""HTTP probes through the tunnel: what a browser would get, without following redirects.

Where this sits in the flow: a runbook opens the tunnel (:mod:`platform_kb.tunnel`), then asks a
:class:`Prober` for status lines, ``Location`` headers, a page and every CSS/JS resource that page
references. Check modules (:mod:`platform_kb.checks.spark_ui`) turn these results into findings.

Rules the prober keeps:

* :meth:`Prober.get` never follows redirects: the ``Location`` header is the evidence.
  :meth:`Prober.visit` is the one page probe that decides whether a page *works*: it follows
  redirects the way a browser resolves them (a ``//host/...`` Location leaves the host; a URL that
  comes back is a loop; at most :data:`MAX_REDIRECTS` hops), ends on a 200 HTML page, and loads every
  stylesheet and script that page references (resolved against the page, ``<base href>`` honoured),
  each of which must end in 200 with a non-HTML content type. "Works" is positive evidence only.
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
MAX_REDIRECTS = 10  # hops a visit follows (Chromium gives up after 20; a loop is caught earlier)


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
    result: HttpResult | None = None
    problem: str | None = None

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


def _is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Redirects:
    """A request and the redirects a browser would follow from it, in order (the last answered)."""

    hops: tuple[HttpResult, ...]
    outcome: str  # "answered" | "left-host" | "loop" | "too-many-redirects"
    next_url: str | None = None  # where the last Location pointed when the chain was cut

    @property
    def final(self) -> HttpResult | None:
        return self.hops[-1] if self.hops else None

    def describe(self) -> str:
        """``GET /a → 302 → /b → 200`` — the chain as a finding quotes it."""
        parts = []
        for hop in self.hops:
            parts.append(f"{hop.path} {hop.status if hop.status is not None else '(응답 없음)'}")
        text = " → ".join(parts)
        if self.next_url is not None:
            text += f" → {self.next_url} ({_CUT_REASON[self.outcome]})"
        return text


_CUT_REASON = {
    "left-host": "터널 밖 호스트: 따라가지 않음",
    "loop": "앞서 요청한 주소: 리다이렉트 반복",
    "too-many-redirects": f"{MAX_REDIRECTS}번 넘게 리다이렉트",
    "answered": "",
}


def _asset_problem(chain: Redirects) -> str | None:
    final = chain.final
    if chain.outcome != "answered" or final is None:
        return f"{chain.describe()}"
    if final.status != 200:
        return final.status_line if len(chain.hops) == 1 else f"{chain.describe()}: {final.status_line}"
    if _is_html(final.content_type):
        return f"{final.status_line}인데 HTML 문서({final.content_type})입니다 — CSS/JS가 아닙니다"
    return None


@dataclass(frozen=True)
class PageVisit:
    """A page opened as a browser opens it (:meth:`Prober.visit`): the verdict ``works`` and its evidence."""

    url: str
    redirects: Redirects
    outcome: str  # "loaded" or why not: left-host, loop, too-many-redirects, no-answer, http-error, not-html, outside-prefix
    assets: tuple[AssetResult, ...] = ()

    @property
    def final(self) -> HttpResult | None:
        return self.redirects.final

    @property
    def loaded(self) -> bool:
        return self.outcome == "loaded"

    @property
    def broken_assets(self) -> list[AssetResult]:
        return [a for a in self.assets if a.broken]

    @property
    def works(self) -> bool:
        """The page loaded inside its prefix and every stylesheet and script it references loaded."""
        return self.loaded and not self.broken_assets

    def evidence(self) -> dict[str, Any]:
        evidence: dict[str, Any] = {
            "브라우저처럼 열기": self.redirects.describe(),
            "결과": OUTCOME_TEXT[self.outcome],
        }
        if self.loaded:
            evidence["CSS/JS"] = f"{len(self.assets) - len(self.broken_assets)}/{len(self.assets)}개 로드됨"
            for i, a in enumerate(self.broken_assets[:3], 1):
                evidence[f"깨진 CSS/JS {i}"] = f"{a.asset.ref} → {a.problem}"
        return evidence


OUTCOME_TEXT = {
    "loaded": "페이지 로드됨",
    "left-host": "리다이렉트가 터널 밖 호스트로 나감",
    "loop": "리다이렉트가 같은 주소로 되돌아옴(무한 반복)",
    "too-many-redirects": f"리다이렉트 {MAX_REDIRECTS}번 초과",
    "no-answer": "응답 없음",
    "http-error": "200이 아닌 응답으로 끝남",
    "not-html": "HTML 페이지가 아님",
    "outside-prefix": "접두사 밖의 페이지로 끝남",
}


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
        chain = self.follow(url, host=host, keep_body=False)
        return AssetResult(ref, url, chain.final, _asset_problem(chain))

    def follow(self, url: str, host: str | None = None, keep_body: bool = True) -> Redirects:
        """GET ``url`` and follow its redirects as a browser does, never leaving loopback.

        Stops on the first answer that is not a redirect, on a Location off the tunnel (``//jobs/`` is
        the host ``jobs``: reported, not requested), on a URL seen before (a loop) or after
        :data:`MAX_REDIRECTS` hops. The ``Host`` header goes along while the origin stays the same.
        """
        hops: list[HttpResult] = []
        seen: set[str] = set()
        current, current_host = url, host
        while True:
            seen.add(current)
            result = self.get(current, host=current_host, keep_body=keep_body)
            hops.append(result)
            if not (result.redirect and result.location):
                return Redirects(tuple(hops), "answered")
            target = resolve(result.url, result.location)
            if why_not_requested(target):
                return Redirects(tuple(hops), "left-host", target)
            if target in seen:
                return Redirects(tuple(hops), "loop", target)
            if len(hops) > MAX_REDIRECTS:
                return Redirects(tuple(hops), "too-many-redirects", target)
            if origin(target) != origin(current):
                current_host = None
            current = target

    def visit(self, url: str, host: str | None = None, inside: str | None = None) -> PageVisit:
        """Open ``url`` as a browser would: redirects, the page, every stylesheet and script.

        ``inside`` is the path prefix the page must end under (e.g. the Ingress prefix); a page that
        loads elsewhere is outcome ``outside-prefix``.
        """
        chain = self.follow(url, host=host)
        final = chain.final
        if chain.outcome != "answered" or final is None:
            return PageVisit(url, chain, chain.outcome)
        if final.status is None:
            return PageVisit(url, chain, "no-answer")
        if final.status != 200:
            return PageVisit(url, chain, "http-error")
        if not _is_html(final.content_type):
            return PageVisit(url, chain, "not-html")
        if inside is not None and not urlsplit(final.url).path.startswith(inside):
            return PageVisit(url, chain, "outside-prefix")
        return PageVisit(url, chain, "loaded", tuple(self.assets(final)))
