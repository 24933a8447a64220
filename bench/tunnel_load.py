"""Load test of the bastion tunnel: 2,000 requests from 32 threads, p50/p99 and errors, vs OpenSSH.

Where it sits: outside the package flow, next to ``bench/tunnel.py``; both use the lab of
``bench/_lab_setup.py`` (a real OpenSSH sshd as the bastion and nginx as the node on 127.0.0.1).
Each request opens a fresh connection through the tunnel (as a browser's burst of page assets or
a scraper would), sends one GET for a 2 KB file and reads the whole answer; a refused, reset or short answer counts as an
error. The paths: ``ssh -N -L`` (the reference), ``kb tunnel up --backend openssh`` (the default)
and optionally ``--backend paramiko``; rounds alternate the paths, and medians over rounds are
reported with the ratio to OpenSSH.

Figures: p50 and p99 of the per-request latency (ms), wall time and requests/s of the whole load,
errors (must be 0). Exit status 1 if any path under test had an error.

Usage: .venv/bin/python bench/tunnel_load.py [--requests 2000] [--threads 32] [--rounds 3] [--paramiko] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_lab_setup.py, also when loaded by path
from _lab_setup import Lab, bench_lab, fresh_get, has_tools, machine, start_kb, start_openssh  # noqa: E402

SMALL = "/small.css"
SMALL_KB = 2


@dataclass
class LoadResult:
    latencies_ms: list[float]
    errors: int
    wall_s: float

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 when there are no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def load(port: int, requests: int = 2000, threads: int = 32) -> LoadResult:
    """``requests`` fresh-connection GETs spread over ``threads`` threads, all started at once."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counts = [requests // threads + (1 if i < requests % threads else 0) for i in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def worker(n: int) -> None:
        nonlocal errors
        mine: list[float] = []
        failed = 0
        barrier.wait()
        for _ in range(n):
            t0 = time.perf_counter()
            try:
                size = fresh_get(port, SMALL)
                if size != SMALL_KB * 1024:
                    raise OSError(f"short body: {size} bytes")
            except (OSError, ValueError, RuntimeError):
                failed += 1
                continue
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)
            errors += failed

    workers = [threading.Thread(target=worker, args=(n,)) for n in counts]
    for w in workers:
        w.start()
    barrier.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    return LoadResult(latencies, errors, time.perf_counter() - t0)


@dataclass
class PathFigures:
    label: str
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)

    def add(self, result: LoadResult) -> None:
        self.p50_ms.append(result.p50)
        self.p99_ms.append(result.p99)
        self.wall_s.append(result.wall_s)
        self.errors.append(result.errors)

    def medians(self) -> dict[str, float]:
        return {
            "p50_ms": statistics.median(self.p50_ms),
            "p99_ms": statistics.median(self.p99_ms),
            "wall_s": statistics.median(self.wall_s),
            "errors": max(self.errors),
        }


def make_site(root: Path) -> list[str]:
    """One 2 KB file, the only thing the load asks for."""
    target = root / SMALL.lstrip("/")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x" * (SMALL_KB * 1024))
    return [SMALL]


def start(lab: Lab, starter) -> int:
    """Start one tunnel for ``lab``; its process is stopped with the lab."""
    port, record = starter(lab)
    if record is not None:
        lab.records.append(record)
    return port


def run(requests: int, threads: int, rounds: int, paramiko: bool, progress=lambda m: None) -> dict:
    paths = [
        ("openssh", "OpenSSH ssh -N -L", start_openssh),
        ("kb-openssh", "kb tunnel up (openssh)", start_kb("openssh")),
    ]
    if paramiko:
        paths.append(("kb-paramiko", "kb tunnel up (paramiko)", start_kb("paramiko")))
    with bench_lab("kb-bench-load-", make_site) as lab:
        ports = {name: start(lab, starter) for name, _label, starter in paths}
        figures = {name: PathFigures(label) for name, label, _s in paths}
        for r in range(rounds):
            order = paths[r % len(paths) :] + paths[: r % len(paths)]
            for name, _label, _s in order:
                progress(f"round {r + 1}/{rounds}: {name}")
                figures[name].add(load(ports[name], requests, threads))
    medians = {name: f.medians() for name, f in figures.items()}
    ref = medians["openssh"]
    ratios = {
        name: {k: (m[k] / ref[k] if ref[k] else 0.0) for k in ("p50_ms", "p99_ms", "wall_s")}
        for name, m in medians.items()
        if name != "openssh"
    }
    return {
        "machine": machine(),
        "requests": requests,
        "threads": threads,
        "rounds": rounds,
        "paths": {
            name: {"label": f.label, "median": medians[name], "runs": f.__dict__}
            for name, f in figures.items()
        },
        "ratios": ratios,
        "zero_errors": all(m["errors"] == 0 for m in medians.values()),
    }


def print_report(result: dict) -> None:
    m = result["machine"]
    print(f"machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}, {m['openssh']}")
    print(
        f"{result['requests']} requests (fresh connection each) from {result['threads']} threads, "
        f"medians of {result['rounds']} rounds\n"
    )
    header = f"{'path':28} {'p50':>9} {'p99':>10} {'wall':>8} {'req/s':>7} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for data in result["paths"].values():
        md = data["median"]
        rate = result["requests"] / md["wall_s"] if md["wall_s"] else 0.0
        print(
            f"{data['label']:28} {md['p50_ms']:>6.2f} ms {md['p99_ms']:>7.2f} ms {md['wall_s']:>6.2f} s "
            f"{rate:>7.0f} {int(md['errors']):>7d}"
        )
    print("\nratios to OpenSSH ssh -N -L (lower is better)")
    for name, r in result["ratios"].items():
        print(
            f"{result['paths'][name]['label']:28} p50 {r['p50_ms']:.2f}x  p99 {r['p99_ms']:.2f}x  wall {r['wall_s']:.2f}x"
        )
    print("\n0 errors on every path" if result["zero_errors"] else "\nERRORS: see the table")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path (medians are reported)")
    parser.add_argument(
        "--paramiko", action="store_true", help="also measure kb tunnel up --backend paramiko"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.threads < 1 or args.rounds < 1:
        print("--requests, --threads and --rounds must be >= 1", file=sys.stderr)
        return 2
    if not has_tools():
        print("bench/tunnel_load.py needs ssh, sshd and nginx (scripts/setup installs them)", file=sys.stderr)
        return 2
    result = run(
        args.requests,
        args.threads,
        args.rounds,
        args.paramiko,
        lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(json.dumps(result, indent=2) if args.json else "", end="")
    if not args.json:
        print_report(result)
    return 0 if result["zero_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
