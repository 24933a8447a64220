"""Suite-wide hooks: with ``KB_REQUIRE_PREREQUISITES=1`` a prerequisite skip is a failure (see prereq.py)."""

from __future__ import annotations

import os

import pytest

from .prereq import STRICT_ENV, is_prerequisite_skip


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get(STRICT_ENV) != "1" or not isinstance(report.longrepr, tuple):
        return
    reason = str(report.longrepr[2])
    if is_prerequisite_skip(reason):
        report.outcome = "failed"
        report.longrepr = f"{STRICT_ENV}=1 and the test was skipped: {reason.removeprefix('Skipped: ')}"
