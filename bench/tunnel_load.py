"""Load test of the bastion tunnel: 2,000 requests from 32 threads, p50/p99 and errors, vs OpenSSH.

Where it sits: outside the package flow, next to ``bench/tunnel.py`` (whose lab it reuses: a real
OpenSSH sshd as the bastion and nginx as the node on 127.0.0.1). Each request opens a fresh
connection through the tunnel (as a browser's burst of page assets or a scraper would), sends one
GET for a 2 KB file and reads the whole answer; a refused, reset or short answer counts as an
error. The paths: ``ssh -N -L`` (the reference), ``kb tunnel up --backend openssh`` (the default)
and optionally ``--backend paramiko``; rounds alternate the paths, and medians over rounds are
reported with the ratio to OpenSSH.

Figures: p50 and p99 of the per-request latency (ms), wall time and requests/s of the whole load,
errors (must be 0). Exit status 1 if any path under test had an error.

Usage: .venv/bin/python bench/tunnel_load.py [--requests 2000] [--threads 32] [--rounds 3] [--paramiko] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from platform_kb.processes import ProcessRecord
from platform_kb_lab.sshd import Sshd, generate_key


def _bench_tunnel():
    """``bench/tunnel.py`` (its lab, tunnel starters and raw HTTP client), loaded by path."""
    spec = importlib.util.spec_from_file_location("bench_tunnel", Path(__file__).with_name("tunnel.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_tunnel"] = module
    spec.loader.exec_module(module)
    return module


bt = _bench_tunnel()
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
                size = bt.fresh_get(port, bt.SMALL)
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


class LoadLab:
    """nginx (the node) serving one 2 KB file, an sshd bastion, and the tunnels under test; stopped by pid."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="kb-bench-load-"))
        self.records: list[ProcessRecord] = []
        self.sshd: Sshd | None = None
        self.lab = None

    def __enter__(self) -> LoadLab:
        try:
            site = self.workdir / "site"
            target = site / bt.SMALL.lstrip("/")
            target.parent.mkdir(parents=True)
            target.write_bytes(b"x" * (SMALL_KB * 1024))
            _proc, nginx, node_port = bt.start_nginx(self.workdir / "nginx", site)
            self.records.append(nginx)
            key = generate_key(self.workdir / "client_key")
            self.sshd = Sshd(self.workdir / "sshd", client_keys=[key], log_level="ERROR")
            self.sshd.start()
            known_hosts = self.workdir / "known_hosts"
            known_hosts.write_text(self.sshd.known_hosts_line() + "\n")
            self.lab = bt.Lab(self.workdir, self.sshd, key, known_hosts, node_port, [bt.SMALL])
        except BaseException:
            self.__exit__()
            raise
        return self

    def start(self, starter) -> int:
        port, record = starter(self.lab)
        if record is not None:
            self.records.append(record)
        return port

    def __exit__(self, *exc: object) -> None:
        for record in reversed(self.records):
            record.stop()
        if self.sshd is not None:
            self.sshd.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def run(requests: int, threads: int, rounds: int, paramiko: bool, progress=lambda m: None) -> dict:
    paths = [
        ("openssh", "OpenSSH ssh -N -L", bt.start_openssh),
        ("kb-openssh", "kb tunnel up (openssh)", bt.start_kb("openssh")),
    ]
    if paramiko:
        paths.append(("kb-paramiko", "kb tunnel up (paramiko)", bt.start_kb("paramiko")))
    with LoadLab() as lab:
        ports = {name: lab.start(starter) for name, _label, starter in paths}
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
        "machine": bt.machine(),
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
    if shutil.which("ssh") is None or (
        shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists()
    ):
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
