"""Headless Chromium as a test oracle, driven through the DevTools protocol (tests only).

Debian's ``chromium`` (installed by ``scripts/setup``) starts once per test module with
``--remote-debugging-port=0``; the port it picked is read from ``DevToolsActivePort`` in its
profile directory. Every page is loaded in a fresh target (tab) with the cache disabled, and the
whole exchange is recorded from the protocol's ``Network`` events: each request, its redirects,
its final status and MIME type, or the network error that ended it.

Nothing leaves 127.0.0.0/8: ``--host-resolver-rules`` maps the names a test lets through to
127.0.0.1 and every other name to "not found", so a redirect to ``//jobs/`` (host ``jobs``) fails
in the browser the way it does for a user, without a DNS query. Chromium is stopped by its pid.

Protocol reference: https://chromedevtools.github.io/devtools-protocol/ (Target, Page, Network,
Runtime domains).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import websocket

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")

# What the page shows once loaded: the document's URL and, per <link rel=stylesheet>, whether the
# browser parsed rules from it (styles applied), plus what the scripts defined.
PAGE_STATE_JS = """
(() => {
  const links = [...document.querySelectorAll('link[rel~="stylesheet"]')];
  const sheets = links.map(l => {
    let rules = -1;
    try { rules = l.sheet ? l.sheet.cssRules.length : -1; } catch (e) { rules = -2; }
    return {href: l.href, rules: rules};
  });
  const scripts = [...document.scripts].filter(s => s.src).map(s => s.src);
  return JSON.stringify({
    href: location.href,
    title: document.title,
    sheets: sheets,
    scripts: scripts,
    jquery: typeof window.jQuery === 'function',
  });
})()
"""


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Request:
    """One request as Chromium made it (redirect hops are separate entries)."""

    url: str
    kind: str  # CDP ResourceType: Document, Stylesheet, Script, Image, ...
    status: int | None = None
    mime: str = ""
    error: str = ""
    location: str = ""  # for a redirect: where it pointed

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


@dataclass
class PageLoad:
    """What Chromium saw for one address."""

    url: str
    nav_error: str = ""
    final_url: str = ""
    title: str = ""
    requests: list[Request] = field(default_factory=list)
    sheets: list[dict[str, Any]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    jquery: bool = False
    waited: Any = None  # the last value of load()'s ``wait_for`` expression
    seconds: float = 0.0

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def prefix(self) -> str:
        return urlsplit(self.url).path.rstrip("/") + "/"

    def document_hops(self) -> list[Request]:
        return [r for r in self.requests if r.kind == "Document"]

    def left_host(self) -> list[str]:
        """Requests (any kind, redirects included) addressed to another host than the page's."""
        return sorted(
            {r.url for r in self.requests if r.host != self.host and r.url.startswith(("http:", "https:"))}
        )

    def loop(self) -> bool:
        urls = [r.url for r in self.document_hops()]
        return self.nav_error == "net::ERR_TOO_MANY_REDIRECTS" or len(urls) != len(set(urls))

    def final_document(self) -> Request | None:
        hops = self.document_hops()
        return hops[-1] if hops else None

    def assets(self) -> list[Request]:
        return [r for r in self.requests if r.kind in ("Stylesheet", "Script")]

    def broken_assets(self) -> list[Request]:
        """Stylesheets and scripts that did not end 200 with a non-HTML type (redirect hops excluded)."""
        return [
            r
            for r in self.assets()
            if not (300 <= (r.status or 0) < 400)
            and (r.error or r.status != 200 or r.mime.startswith("text/html"))
        ]

    def styles_applied(self) -> bool:
        return bool(self.sheets) and all(s.get("rules", -1) > 0 for s in self.sheets)

    def problems(self) -> list[str]:
        """Why the page does not work in the browser; empty only when it positively did."""
        out: list[str] = []
        doc = self.final_document()
        if self.nav_error:
            out.append(f"navigation failed: {self.nav_error}")
        if self.loop():
            out.append("redirect loop")
        if doc is None or doc.status != 200 or not doc.mime.startswith("text/html"):
            out.append(f"document ended {doc.status if doc else None} {doc.mime if doc else ''}".rstrip())
        if (
            not urlsplit(self.final_url).path.startswith(self.prefix)
            or urlsplit(self.final_url).netloc != self.host
        ):
            out.append(f"ended outside the prefix: {self.final_url or '-'}")
        if self.left_host():
            out.append(f"requests left the host: {', '.join(self.left_host()[:3])}")
        if not any(r.kind == "Stylesheet" for r in self.assets()) or not any(
            r.kind == "Script" for r in self.assets()
        ):
            out.append("no stylesheet or no script requested")
        broken = self.broken_assets()
        if broken:
            out.append(
                f"{len(broken)} CSS/JS broken, e.g. {broken[0].url} ({broken[0].status or broken[0].error})"
            )
        if not self.styles_applied():
            out.append("styles not applied")
        return out

    @property
    def works(self) -> bool:
        return not self.problems()


class CdpError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium; :meth:`load` one address per fresh tab."""

    def __init__(self, allowed_hosts: Iterable[str] = (), timeout: float = 30.0) -> None:
        binary = find_chromium()
        if binary is None:
            raise CdpError("chromium not found (Debian package chromium; scripts/setup installs it)")
        self.timeout = timeout
        self.profile = Path(tempfile.mkdtemp(prefix="kb-chromium-"))
        rules = [f"MAP {host} 127.0.0.1" for host in allowed_hosts]
        rules.append("MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost")
        argv = [
            binary,
            "--headless=new",
            "--no-sandbox",  # root in CI containers
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-proxy-server",
            "--host-resolver-rules=" + ", ".join(rules),
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "about:blank",
        ]
        self.log = (self.profile / "chromium.log").open("w")
        # its own process group, so its zygote and renderers are stopped with it (by the group of its pid)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        try:
            self.ws = websocket.create_connection(self._browser_ws(), timeout=timeout, suppress_origin=True)
        except BaseException:
            self.close()
            raise

    def _browser_ws(self) -> str:
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CdpError(
                    f"chromium exited ({self.proc.returncode}); see {self.profile / 'chromium.log'}"
                )
            if port_file.is_file():
                lines = port_file.read_text().split()
                if len(lines) >= 2:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise CdpError(f"chromium gave no DevTools port within {self.timeout:.0f}s")

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        wanted = self._next_id
        message: dict[str, Any] = {"id": wanted, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise CdpError(f"{method}: no answer within {self.timeout:.0f}s")

    def _pump(self, until: float, done: Any) -> None:
        """Read events until ``done()`` or the deadline."""
        while time.monotonic() < until and not done():
            self.ws.settimeout(max(0.05, min(0.25, until - time.monotonic())))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                continue
            finally:
                self.ws.settimeout(self.timeout)

    def load(self, url: str, settle: float = 0.4, wait_for: str | None = None) -> PageLoad:
        """Open ``url`` in a new tab as a user would; record every request until the network is quiet.

        ``wait_for``: a JavaScript expression evaluated (after the network is quiet) until it is
        truthy or the timeout passes; its last value is ``PageLoad.waited``.
        """
        started = time.monotonic()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.events.clear()
        try:
            self.send("Network.enable", session=session)
            self.send("Network.setCacheDisabled", {"cacheDisabled": True}, session=session)
            self.send("Page.enable", session=session)
            nav = self.send("Page.navigate", {"url": url}, session=session)
            page = PageLoad(url=url, nav_error=nav.get("errorText", ""))
            requests: dict[str, Request] = {}
            order: list[Request] = []
            pending: set[str] = set()
            state = {"loaded": bool(page.nav_error), "quiet_since": 0.0}

            def absorb() -> None:
                while self.events:
                    event = self.events.pop(0)
                    if event.get("sessionId") != session:
                        continue
                    self._record(event, requests, order, pending, state)

            def done() -> bool:
                absorb()
                if not state["loaded"] or pending:
                    state["quiet_since"] = 0.0
                    return False
                if not state["quiet_since"]:
                    state["quiet_since"] = time.monotonic()
                return time.monotonic() - state["quiet_since"] >= settle

            self._pump(time.monotonic() + self.timeout, done)
            absorb()
            page.requests = order
            if not page.nav_error and wait_for:
                page.waited = self._wait_for(wait_for, session, started + self.timeout)
                absorb()
                page.requests = order
            if not page.nav_error:
                evaluated = self.send(
                    "Runtime.evaluate", {"expression": PAGE_STATE_JS, "returnByValue": True}, session=session
                )
                shown = json.loads(evaluated.get("result", {}).get("value") or "{}")
                page.final_url = shown.get("href", "")
                page.title = shown.get("title", "")
                page.sheets = shown.get("sheets", [])
                page.scripts = shown.get("scripts", [])
                page.jquery = bool(shown.get("jquery"))
            page.seconds = round(time.monotonic() - started, 3)
            return page
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def _wait_for(self, expression: str, session: str, deadline: float) -> Any:
        value: Any = None
        while True:
            reply = self.send(
                "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
            )
            value = reply.get("result", {}).get("value")
            if value or time.monotonic() >= deadline:
                return value
            self._pump(min(deadline, time.monotonic() + 0.1), lambda: False)

    @staticmethod
    def _record(
        event: dict[str, Any],
        requests: dict[str, Request],
        order: list[Request],
        pending: set[str],
        state: dict[str, Any],
    ) -> None:
        method = event.get("method", "")
        params = event.get("params", {})
        rid = params.get("requestId", "")
        if method == "Network.requestWillBeSent":
            redirect = params.get("redirectResponse")
            if redirect and rid in requests:  # the previous hop of this request was a redirect
                hop = requests[rid]
                hop.status = int(redirect.get("status") or 0)
                hop.mime = redirect.get("mimeType", "")
                hop.location = params["request"]["url"]
            url = params["request"]["url"]
            if not url.startswith(("http:", "https:", "ws:", "wss:")):
                return  # data: URLs and Chromium's own error page resources
            request = Request(url=url, kind=params.get("type", "Other"))
            requests[rid] = request
            order.append(request)
            pending.add(rid)
        elif method == "Network.responseReceived" and rid in requests:
            response = params.get("response", {})
            requests[rid].status = int(response.get("status") or 0)
            requests[rid].mime = response.get("mimeType", "")
        elif method == "Network.loadingFinished":
            pending.discard(rid)
        elif method == "Network.loadingFailed":
            if rid in requests:
                requests[rid].error = params.get("errorText", "failed")
            pending.discard(rid)
        elif method in ("Page.loadEventFired", "Page.frameStoppedLoading"):
            state["loaded"] = True

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                ws.close()
            except OSError:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
