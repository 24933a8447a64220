"""The layer diagram is drawn by the site's own Mermaid, in a real browser that can reach no other host.

Material fetches Mermaid from unpkg unless the page defines ``mermaid`` first; the site ships a
pinned copy (platform_kb.site.vendor). Chromium runs with every name but 127.0.0.1 unresolvable,
so a CDN fetch would fail and leave the diagram as text.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from platform_kb.site.audit import audit_file
from platform_kb.site.vendor import MERMAID, sha256_of

from ..browser.chromium import Chromium, find_chromium
from ..prereq import unless

# Material swaps the <pre class="mermaid"> for a <div class="mermaid"> only once mermaid.render()
# has returned the SVG, which it puts in a closed shadow root (bundle.*.min.js, function Zn): the
# swapped element and the size of what it shows are the evidence the diagram was drawn.
DIAGRAM_DRAWN = """
(() => {
  const drawn = document.querySelector('div.mermaid');
  if (!drawn || document.querySelector('pre.mermaid')) return null;
  const box = drawn.getBoundingClientRect();
  return {width: box.width, height: box.height, mermaid: typeof window.mermaid.render};
})()
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(built_site) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(built_site.site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_site_serves_the_pinned_mermaid(built_site) -> None:
    served = built_site.site / MERMAID.site_path
    assert sha256_of(served) == MERMAID.sha256
    page = built_site.page("architecture")
    assert audit_file(page) == []  # the page brings its own Mermaid: Material's unpkg loader stays off


@unless(find_chromium(), "chromium (scripts/setup installs it)")
def test_chromium_draws_the_layer_diagram_without_leaving_the_site(served_site: str) -> None:
    with Chromium(timeout=30) as browser:
        page = browser.load(f"{served_site}/architecture/", wait_for=DIAGRAM_DRAWN)
    assert page.waited, "the <pre class=mermaid> block was never replaced: the diagram was not drawn"
    assert page.waited["height"] > 300 and page.waited["width"] > 200  # eleven boxes, top to bottom
    assert page.waited["mermaid"] == "function"
    assert page.left_host() == []
    mermaid = [r for r in page.requests if r.url.endswith("/mermaid.min.js")]
    assert [r.status for r in mermaid] == [200]
