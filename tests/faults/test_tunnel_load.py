"""Load through the tunnel (issue 14): 2,000 requests from 32 threads, 0 errors; p50/p99 printed.

Runs ``bench/tunnel_load.py`` once (one round, ``kb tunnel up`` with the default backend and the
OpenSSH reference through the same sshd). No timing is asserted; the figures are printed.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from ..prereq import unless

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tunnel_load.py"
pytestmark = [
    pytest.mark.slow,
    unless(shutil.which("ssh"), "the OpenSSH client"),
]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_tunnel_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_tunnel_load"] = module
    spec.loader.exec_module(module)
    return module


def test_2000_requests_from_32_threads_without_errors(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench()
    result = bench.run(requests=2000, threads=32, rounds=1, paramiko=False)
    with capsys.disabled():
        bench.print_report(result)
    for name, data in result["paths"].items():
        runs = data["runs"]
        assert runs["errors"] == [0], f"{name}: {runs['errors']} errors"
        assert data["median"]["p50_ms"] > 0 and data["median"]["p99_ms"] >= data["median"]["p50_ms"]
    assert result["zero_errors"]


def test_percentile_is_nearest_rank() -> None:
    bench = _bench()
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile([7.0], 99) == 7.0
    assert bench.percentile([], 50) == 0.0
