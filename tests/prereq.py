"""Skips for a missing prerequisite (a program, a package, the lab), which CI turns into failures.

A test that cannot run because something the machine should have is missing calls
:func:`missing` (or uses :func:`unless`) instead of ``pytest.skip``. On a developer's machine that
is a skip with the reason; with ``KB_REQUIRE_PREREQUISITES=1`` (set by ``.ci/run``) the root
``conftest.py`` reports it as a failure, so CI can never go green with the end-to-end layer skipped.
Skips for another reason (running as root makes every file readable) stay skips.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

PREFIX = "prerequisite missing: "
STRICT_ENV = "KB_REQUIRE_PREREQUISITES"


def missing(what: str) -> NoReturn:
    """Skip the running test because ``what`` is not on this machine."""
    pytest.skip(PREFIX + what)


def unless(present: object, what: str) -> pytest.MarkDecorator:
    """A ``skipif`` mark for a module or test that needs ``what`` (truthy ``present`` when it is there)."""
    return pytest.mark.skipif(not present, reason=PREFIX + what)


def is_prerequisite_skip(reason: str) -> bool:
    return reason.removeprefix("Skipped: ").startswith(PREFIX)
