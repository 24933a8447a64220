"""Benchmark of the bastion tunnel against OpenSSH ``ssh -N -L`` through the same sshd.

Where it sits: outside the package flow; it measures what ``kb tunnel up`` (issue 3, item 7)
adds to the data path. Everything runs on 127.0.0.1: a real OpenSSH sshd as the bastion
(:class:`platform_kb_lab.sshd.Sshd`) and nginx as the node, serving a Spark-UI-like page (one
HTML page, 20 static assets) and a 200 MB file. Each path under test is a separate process, as
a user runs it: ``ssh -N -L`` (the reference), ``kb tunnel up --backend openssh`` (the default),
``kb tunnel up --backend paramiko`` (the fallback) and optionally sshtunnel 0.5.1 as shipped.
The client is a minimal raw-socket HTTP/1.1 client, so its own overhead stays small.

Figures (medians over rounds; samples of the paths interleaved one by one):
  keep-alive p50   one connection, sequential small requests
  new-conn p50     one fresh connection per small request, sequential
  page load        HTML on a fresh connection, then 20 assets over 6 parallel fresh connections
  burst            640 fresh requests from 32 threads (wall time, errors)
  bulk             200 MB on one connection (MB/s)

Targets for the default backend, as ratios to OpenSSH: page load <= 1.25x, new-conn p50 <= 2x,
burst <= 1.5x with zero errors, bulk >= 0.5x. Exit status 1 if the default backend misses one.

Usage: .venv/bin/python bench/tunnel.py [--rounds 5] [--json] [--sshtunnel] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_lab_setup.py
from _lab_setup import (  # noqa: E402
    Lab,
    bench_lab,
    connect,
    fresh_get,
    get,
    has_tools,
    machine,
    start_direct,
    start_kb,
    start_openssh,
    start_sshtunnel,
)

from platform_kb.processes import ProcessRecord  # noqa: E402

ASSET_KB = (121, 87, 150, 45, 30, 12, 8, 5, 3, 2, 60, 25, 18, 9, 4, 70, 35, 15, 6, 1)  # Spark-UI-like mix
HTML_KB = 24


def asset_name(i: int) -> str:
    return f"/assets/a{i:02d}.{'css' if i % 3 == 0 else 'js'}"


SMALL = asset_name(ASSET_KB.index(2))  # a 2 KB asset for the latency figures
BULK_MB = 200
TARGETS = {"page_load": 1.25, "new_conn_p50": 2.0, "burst": 1.5, "bulk": 0.5}
DEFAULT_PATH = "kb-openssh"


# --------------------------------------------------------------------------- the lab of the bench
def make_site(root: Path) -> list[str]:
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_bytes(b"<!doctype html>" + b"x" * (HTML_KB * 1024))
    paths = []
    for i, kb in enumerate(ASSET_KB):
        name = asset_name(i)
        (root / name.lstrip("/")).write_bytes(os.urandom(kb * 1024))
        paths.append(name)
    with open(root / "bulk.bin", "wb") as f:
        block = os.urandom(1024 * 1024)  # incompressible, though ssh compression is off anyway
        for _ in range(BULK_MB):
            f.write(block)
    return paths


# --------------------------------------------------------------------------- paths under test
@dataclass
class PathUnderTest:
    name: str
    label: str
    start: Callable[[Lab], tuple[int, ProcessRecord | None]]
    port: int = 0
    record: ProcessRecord | None = None


def keepalive_p50(port: int, n: int) -> float:
    times = []
    with connect(port) as sock:
        get(sock, SMALL)
        for _ in range(n):
            t0 = time.perf_counter()
            get(sock, SMALL)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def new_conn_p50(port: int, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fresh_get(port, SMALL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def page_load(port: int, assets: list[str], pool: ThreadPoolExecutor) -> float:
    """HTML, then the assets over 6 parallel fresh connections (each keeps its connection, as browsers do)."""
    t0 = time.perf_counter()
    fresh_get(port, "/index.html")
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for path in assets:
        todo.put(path)

    def worker() -> None:
        with connect(port) as sock:
            while True:
                try:
                    path = todo.get_nowait()
                except queue.Empty:
                    return
                get(sock, path)

    for future in [pool.submit(worker) for _ in range(6)]:
        future.result()
    return time.perf_counter() - t0


def burst(port: int, threads: int = 32, total: int = 640) -> tuple[float, int]:
    errors = 0
    lock = threading.Lock()
    per_thread = total // threads
    start = threading.Barrier(threads + 1)

    def worker() -> None:
        nonlocal errors
        start.wait()
        for _ in range(per_thread):
            try:
                fresh_get(port, SMALL)
            except OSError:
                with lock:
                    errors += 1

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    return time.perf_counter() - t0, errors


def bulk(port: int) -> float:
    sink = bytearray(1 << 20)
    with connect(port) as sock:
        t0 = time.perf_counter()
        size = get(sock, "/bulk.bin", sink)
        return size / (time.perf_counter() - t0) / 1e6


# --------------------------------------------------------------------------- running it
@dataclass
class Figures:
    keepalive_p50_ms: list[float] = field(default_factory=list)
    new_conn_p50_ms: list[float] = field(default_factory=list)
    page_load_ms: list[float] = field(default_factory=list)
    burst_s: list[float] = field(default_factory=list)
    burst_errors: list[int] = field(default_factory=list)
    bulk_mb_s: list[float] = field(default_factory=list)

    def medians(self) -> dict[str, float]:
        return {k: statistics.median(v) for k, v in asdict(self).items() if v}


def measure_round(
    paths: list[PathUnderTest], lab: Lab, figures: dict[str, Figures], pool: ThreadPoolExecutor, quick: bool
) -> None:
    """One round. Samples alternate between the paths one by one, so load from elsewhere on the
    machine hits every path alike; bursts run three times per path per round, bulk once."""
    keepalive = {p.name: [] for p in paths}
    new_conn = {p.name: [] for p in paths}
    loads = {p.name: [] for p in paths}
    socks = {p.name: connect(p.port) for p in paths}
    try:
        for p in paths:
            get(socks[p.name], SMALL)  # warm up
        for _ in range(100 if quick else 300):
            for p in paths:
                t0 = time.perf_counter()
                get(socks[p.name], SMALL)
                keepalive[p.name].append(time.perf_counter() - t0)
    finally:
        for sock in socks.values():
            sock.close()
    for _ in range(60 if quick else 200):
        for p in paths:
            t0 = time.perf_counter()
            fresh_get(p.port, SMALL)
            new_conn[p.name].append(time.perf_counter() - t0)
    for _ in range(10 if quick else 40):
        for p in paths:
            loads[p.name].append(page_load(p.port, lab.assets, pool))
    for _ in range(1 if quick else 3):
        for p in paths:
            seconds, errors = burst(p.port)
            figures[p.name].burst_s.append(seconds)
            figures[p.name].burst_errors.append(errors)
    for p in paths:
        f = figures[p.name]
        f.keepalive_p50_ms.append(statistics.median(keepalive[p.name]) * 1e3)
        f.new_conn_p50_ms.append(statistics.median(new_conn[p.name]) * 1e3)
        f.page_load_ms.append(statistics.median(loads[p.name]) * 1e3)
        f.bulk_mb_s.append(bulk(p.port))


def ratios(m: dict[str, float], ref: dict[str, float]) -> dict[str, float]:
    return {
        "page_load": m["page_load_ms"] / ref["page_load_ms"],
        "new_conn_p50": m["new_conn_p50_ms"] / ref["new_conn_p50_ms"],
        "burst": m["burst_s"] / ref["burst_s"],
        "bulk": m["bulk_mb_s"] / ref["bulk_mb_s"],
        "keepalive_p50": m["keepalive_p50_ms"] / ref["keepalive_p50_ms"],
    }


def verdict(r: dict[str, float], errors: int) -> dict[str, bool]:
    return {
        "page_load": r["page_load"] <= TARGETS["page_load"],
        "new_conn_p50": r["new_conn_p50"] <= TARGETS["new_conn_p50"],
        "burst": r["burst"] <= TARGETS["burst"] and errors == 0,
        "bulk": r["bulk"] >= TARGETS["bulk"],
    }


def build_paths(with_sshtunnel: bool, only: set[str] | None = None) -> list[PathUnderTest]:
    paths = [
        PathUnderTest("direct", "direct (no tunnel)", start_direct),
        PathUnderTest("openssh", "OpenSSH ssh -N -L", start_openssh),
        PathUnderTest("kb-openssh", "kb tunnel up (openssh, default)", start_kb("openssh")),
        PathUnderTest("kb-paramiko", "kb tunnel up (paramiko)", start_kb("paramiko")),
    ]
    if with_sshtunnel:
        paths.append(PathUnderTest("sshtunnel", "sshtunnel 0.5.1 as shipped", start_sshtunnel))
    return [p for p in paths if only is None or p.name in only or p.name == "openssh"]


def run(
    rounds: int,
    with_sshtunnel: bool,
    quick: bool,
    progress: Callable[[str], None],
    only: set[str] | None = None,
) -> dict:
    paths = build_paths(with_sshtunnel, only)
    with bench_lab("kb-bench-tunnel-", make_site) as lab:
        for path in paths:
            path.port, path.record = path.start(lab)
            if path.record is not None:
                lab.records.append(path.record)
        figures = {p.name: Figures() for p in paths}
        with ThreadPoolExecutor(6) as pool:
            for r in range(rounds):
                progress(f"round {r + 1}/{rounds}")
                order = paths[r % len(paths) :] + paths[: r % len(paths)]
                measure_round(order, lab, figures, pool, quick)
    medians = {name: f.medians() for name, f in figures.items()}
    result = {
        "machine": machine(),
        "rounds": rounds,
        "targets": TARGETS,
        "paths": {
            p.name: {"label": p.label, "median": medians[p.name], "runs": asdict(figures[p.name])}
            for p in paths
        },
        "ratios": {},
        "verdict": {},
    }
    ref = medians["openssh"]
    for p in paths:
        if p.name in ("direct", "openssh"):
            continue
        r = ratios(medians[p.name], ref)
        result["ratios"][p.name] = r
        result["verdict"][p.name] = verdict(r, max(figures[p.name].burst_errors))
    result["default_backend_meets_targets"] = (
        all(result["verdict"][DEFAULT_PATH].values()) if DEFAULT_PATH in result["verdict"] else None
    )
    return result


def print_report(result: dict) -> None:
    m = result["machine"]
    print(
        f"machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}, {m['openssh']}, Python {m['python']}, paramiko {m['paramiko']}"
    )
    print(f"medians of {result['rounds']} rounds\n")
    header = f"{'path':34} {'keep-alive p50':>14} {'new-conn p50':>13} {'page load':>10} {'640 req/32 thr':>15} {'errors':>7} {'200 MB bulk':>12}"
    print(header)
    print("-" * len(header))
    for data in result["paths"].values():
        md = data["median"]
        errors = max(data["runs"]["burst_errors"])
        print(
            f"{data['label']:34} {md['keepalive_p50_ms']:>11.2f} ms {md['new_conn_p50_ms']:>10.2f} ms "
            f"{md['page_load_ms']:>7.1f} ms {md['burst_s']:>13.2f} s {errors:>7d} {md['bulk_mb_s']:>7.0f} MB/s"
        )
    t = result["targets"]
    print(
        f"\nratios to OpenSSH ssh -N -L (targets: page load <= {t['page_load']}x, new-conn p50 <= {t['new_conn_p50']}x, "
        f"burst <= {t['burst']}x with 0 errors, bulk >= {t['bulk']}x)"
    )
    for name, r in result["ratios"].items():
        v = result["verdict"][name]
        mark = {True: "ok", False: "MISSED"}
        print(
            f"{result['paths'][name]['label']:34} page {r['page_load']:.2f}x {mark[v['page_load']]:6} "
            f"new-conn {r['new_conn_p50']:.2f}x {mark[v['new_conn_p50']]:6} burst {r['burst']:.2f}x {mark[v['burst']]:6} "
            f"bulk {r['bulk']:.2f}x {mark[v['bulk']]:6} (keep-alive {r['keepalive_p50']:.2f}x)"
        )
    if result["default_backend_meets_targets"] is not None:
        status = "meets" if result["default_backend_meets_targets"] else "MISSES"
        print(f"\ndefault backend ({result['paths'][DEFAULT_PATH]['label']}) {status} the four targets")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="measurement rounds (median is reported; default 5)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--sshtunnel", action="store_true", help="also measure sshtunnel 0.5.1 as shipped (slow)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples per round (for a smoke run)")
    parser.add_argument(
        "--paths",
        help="comma-separated subset of direct,kb-openssh,kb-paramiko,sshtunnel (openssh, the reference, always runs)",
    )
    args = parser.parse_args(argv)
    if not has_tools():
        print("bench/tunnel.py needs ssh, sshd and nginx (scripts/setup installs them)", file=sys.stderr)
        return 2
    only = set(args.paths.split(",")) | ({"sshtunnel"} if args.sshtunnel else set()) if args.paths else None
    result = run(
        args.rounds, args.sshtunnel, args.quick, lambda msg: print(msg, file=sys.stderr, flush=True), only
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 1 if result["default_backend_meets_targets"] is False else 0


if __name__ == "__main__":
    sys.exit(main())
