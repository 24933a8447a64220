"""The knowledge-base site: generate pages from ``issues/`` and ``runbooks/``, then build with MkDocs.

Flow: :func:`generate_site` (``generate.py``: write-ups via ``issues.py``, runbooks via
``runbooks.py``, into ``docs/_generated/`` as laid out in ``layout.py``) → :func:`build_site` or
:func:`serve_site` (``builder.py``: ``mkdocs build --strict`` / ``mkdocs serve``).
"""

from __future__ import annotations

from .builder import BuildResult, build_site, serve_site
from .generate import GeneratedSite, generate_site
from .layout import SiteLayout

__all__ = ["BuildResult", "GeneratedSite", "SiteLayout", "build_site", "generate_site", "serve_site"]
