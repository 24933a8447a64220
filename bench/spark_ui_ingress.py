"""Benchmark of the ``spark-ui-ingress`` runbook (issue 6, item 8).

Part 1 — kube API calls against the number of SparkApplications (no lab needed). An in-process lab
API (``platform_kb_lab.kubeapi.KubeApiServer`` on 127.0.0.1) holds ``long-test`` with the UI objects
spark-operator v2.3 creates, plus N-1 other SparkApplications. The collection the runbook does
(``find_applications`` + ``collect_kube``) runs R times through the official client; calls are
counted on the client (``KubeReader.calls``) and on the server (requests served). N = 1 and 1,000.

Part 2 — the runbook on the running lab (needs ``kb lab up``). ``kb run spark-ui-ingress --profile
<lab profile> -p app_name long-test`` R times: the wall time (median), the work itself (the sum of
the steps' seconds in ``summary.json``) and the rest (Python and kernel start, papermill, records).
Then the same work without a kernel: the library called in this process (tunnel, collection,
probes, diagnosis), tunnel opening timed apart.

Part 3 — the browser matrix (``--matrix``, issue 13 item 7; switches the running lab's scenario).
For every configuration of :mod:`platform_kb_lab.matrix` (41) the lab is brought to that state as
``tests/spark_ui/test_browser_matrix.py`` does it, then, through one kb tunnel, the diagnosis
(``collect_and_diagnose`` + ``verdict``) and one ``curl`` of the address a user would open are
timed side by side, R times each: medians per configuration and the ratio diagnosis / curl. A
configuration the diagnosis needs more requests for (redirect chains, assets, the driver's REST
API, the History Server) costs more curls' worth; the table shows how many.

Usage::

    .venv/bin/python bench/spark_ui_ingress.py [--runs 5] [--api-runs 20] [--apps 1 1000] [--skip-lab]
        [--profile PATH] [--json FILE] [--matrix [--matrix-runs 3]]

The lab profile defaults to ``$KB_LAB_DIR/profiles/lab.yaml`` (else ``.lab/profiles/lab.yaml``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from platform_kb.checks.spark_ui import (
    KubeReader,
    Observations,
    api_client_through,
    collect_and_diagnose,
    collect_kube,
    find_applications,
)
from platform_kb.probes import Prober
from platform_kb_lab.kubeapi import KubeApiServer, ObjectStore, kubeconfig

ROOT = Path(__file__).resolve().parents[1]
APP = "long-test"
NS = "spark"
LABELS = {"sparkoperator.k8s.io/app-name": APP}


def _ui_objects() -> list[tuple[str, dict[str, Any]]]:
    """long-test and the objects spark-operator v2.3 creates for it (driveringress.go, web_ui.go)."""
    return [
        ("sparkapplications", {
            "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
            "metadata": {"name": APP, "namespace": NS},
            "spec": {"type": "Python", "mode": "cluster", "sparkConf": {"spark.eventLog.enabled": "true"}},
            "status": {"applicationState": {"state": "RUNNING"}, "sparkApplicationId": "spark-0001",
                       "driverInfo": {"webUIServiceName": f"{APP}-ui-svc", "webUIIngressName": f"{APP}-ui-ingress",
                                      "webUIIngressAddress": f"http:///spark-ui/{NS}/{APP}"}},
        }),
        ("services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{APP}-ui-svc", "namespace": NS, "labels": LABELS},
            "spec": {"selector": {**LABELS, "spark-role": "driver"},
                     "ports": [{"name": "spark-driver-ui-port", "port": 4040, "targetPort": 4040}]},
        }),
        ("ingresses", {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": f"{APP}-ui-ingress", "namespace": NS, "labels": LABELS,
                         "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}},
            "spec": {"ingressClassName": "nginx", "rules": [{"http": {"paths": [{
                "path": f"/spark-ui/{NS}/{APP}(/|$)(.*)", "pathType": "ImplementationSpecific",
                "backend": {"service": {"name": f"{APP}-ui-svc", "port": {"number": 4040}}}}]}}]},
        }),
        ("endpointslices", {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{APP}-ui-svc-abcde", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": f"{APP}-ui-svc"}},
            "addressType": "IPv4", "ports": [{"name": "spark-driver-ui-port", "port": 4040}],
            "endpoints": [{"addresses": ["10.244.1.23"], "conditions": {"ready": True}}],
        }),
        ("pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{APP}-driver", "namespace": NS, "labels": {**LABELS, "spark-role": "driver"}},
            "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark:4.0.0"}]},
            "status": {"phase": "Running", "podIP": "10.244.1.23", "conditions": [{"type": "Ready", "status": "True"}]},
        }),
    ]  # fmt: skip


def _other_app(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": f"etl-{i:05d}-{i * 7919 % 10**8:08d}", "namespace": NS},
        "spec": {"type": "Python", "mode": "cluster", "sparkConf": {"spark.eventLog.enabled": "true"}},
        "status": {"applicationState": {"state": "COMPLETED"}, "sparkApplicationId": f"spark-{i:08d}"},
    }


def bench_api(apps: int, runs: int, workdir: Path) -> dict[str, Any]:
    """Calls and time of the runbook's kube collection with ``apps`` SparkApplications in the namespace."""
    store = ObjectStore()
    store.create("namespaces", None, {"metadata": {"name": NS}})
    for plural, obj in _ui_objects():
        store.create(plural, NS, obj)
    for i in range(apps - 1):
        store.create("sparkapplications", NS, _other_app(i))
    server = KubeApiServer(store, host="127.0.0.1", port=0).start()
    served: list[str] = []
    handle = server.api.handle

    def counting(method: str, target: str, headers: Any, body: bytes) -> Any:
        served.append(f"{method} {target}")
        return handle(method, target, headers, body)

    server.api.handle = counting  # type: ignore[method-assign]
    config = workdir / f"kubeconfig-{apps}"
    config.write_text(yaml.safe_dump(kubeconfig("http://10.0.0.10:6443", namespace=NS)), encoding="utf-8")
    try:
        client = api_client_through(str(config), (server.host, server.port))
        seconds, calls = [], []
        for _ in range(runs + 1):  # the first run warms the connection pool; it is not counted
            reader = KubeReader(client)
            obs = Observations(namespace=NS, app_name=APP)
            served.clear()
            started = time.perf_counter()
            find_applications(reader, obs)
            collect_kube(reader, obs)
            seconds.append(time.perf_counter() - started)
            calls.append((len(reader.calls), len(served), reader.calls[0].seconds))
            assert obs.app is not None and obs.app.name == APP and obs.ingress is not None
    finally:
        server.stop()
    seconds, calls = seconds[1:], calls[1:]
    return {
        "apps": apps,
        "client_calls": calls[0][0],
        "server_requests": calls[0][1],
        "median_seconds": round(statistics.median(seconds), 4),
        "list_apps_median_seconds": round(statistics.median(c[2] for c in calls), 4),
        "runs": runs,
    }


def lab_profile(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    lab_dir = os.environ.get("KB_LAB_DIR")
    return (Path(lab_dir) if lab_dir else ROOT / ".lab") / "profiles" / "lab.yaml"


def bench_runbook(profile: Path, runs: int, workdir: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """Wall time of ``kb run`` on the lab, split into the steps' work, the other cells and the rest.

    Returns the summary row and the median seconds of each step.
    """
    kb = str(ROOT / ".venv" / "bin" / "kb")
    records = workdir / "runs"
    walls, works, cells, outcomes = [], [], [], []
    steps: dict[str, list[float]] = {}
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(
            [kb, "run", "spark-ui-ingress", "--profile", str(profile), "-p", "app_name", APP, "--records", str(records)],
            capture_output=True, text=True, cwd=ROOT, check=False, timeout=600,
        )  # fmt: skip
        walls.append(time.perf_counter() - started)
        latest = sorted(records.glob("spark-ui-ingress/2*"))[-1]
        summary = json.loads((latest / "summary.json").read_text(encoding="utf-8"))
        notebook = json.loads((latest / "output.ipynb").read_text(encoding="utf-8"))
        works.append(sum(s["seconds"] for s in summary["steps"]))
        # papermill records each cell's duration: the kernel's share of the wall time
        cells.append(sum(c["metadata"].get("papermill", {}).get("duration") or 0 for c in notebook["cells"]))
        outcomes.append(f"{result.returncode}:{','.join(f['id'] for f in summary['findings']) or '-'}")
        for step in summary["steps"]:
            steps.setdefault(step["name"], []).append(step["seconds"])
    wall, work, cell = statistics.median(walls), statistics.median(works), statistics.median(cells)
    row = {
        "runs": runs,
        "wall (median s)": round(wall, 2),
        "min..max s": f"{min(walls):.2f}..{max(walls):.2f}",
        "steps = the work (s)": round(work, 2),
        "other cells (imports, params) s": round(cell - work, 2),
        "outside the kernel (kb start, kernel start, records) s": round(wall - cell, 2),
        "not the work (s)": round(wall - work, 2),
        "exit:findings": " ".join(sorted(set(outcomes))),
    }
    return row, {name: round(statistics.median(values), 3) for name, values in steps.items()}


def bench_in_process(profile: Path, runs: int) -> dict[str, Any]:
    """The same work without a kernel: the library called directly."""
    from platform_kb.profiles import load_profile
    from platform_kb.tunnel import Tunnel

    loaded = load_profile(str(profile))
    opens, works = [], []
    for _ in range(runs):
        started = time.perf_counter()
        tunnel = Tunnel.from_profile(loaded).open()
        opened = time.perf_counter()
        try:
            reader = KubeReader(api_client_through(loaded.kubeconfig or "", tunnel.address("api")))
            obs = Observations(namespace=NS, app_name=APP, base_url=tunnel.url("ingress"))
            with Prober() as prober:
                collect_and_diagnose(reader, prober, obs)
        finally:
            tunnel.close()
        opens.append(opened - started)
        works.append(time.perf_counter() - opened)
    return {
        "runs": runs,
        "tunnel_open_median_seconds": round(statistics.median(opens), 2),
        "collect_and_diagnose_median_seconds": round(statistics.median(works), 2),
    }


def _curl_seconds(url: str) -> float:
    """One ``curl`` of ``url`` (no redirects followed, like a first page request): its time_total."""
    host = url.split("//", 1)[1].split("/", 1)[0]
    name, _, port = host.partition(":")
    resolve = [] if name[:1].isdigit() else ["--resolve", f"{name}:{port}:127.0.0.1"]
    done = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "--noproxy", "*", *resolve, "-w", "%{time_total}", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return float(done.stdout or "nan")


def bench_matrix(runs: int) -> list[dict[str, Any]]:
    """Diagnosis wall time per matrix configuration against one curl of the page, same tunnel."""
    from platform_kb.checks.spark_ui import verdict
    from platform_kb.profiles import load_profile
    from platform_kb.tunnel import Tunnel
    from platform_kb_lab.manager import LabManager
    from platform_kb_lab.matrix import configurations, grouped
    from platform_kb_lab.operator import REWRITE_TARGET

    manager = LabManager(ready_timeout=180)
    groups = grouped(configurations())
    manager.up(groups[0][0].scenario())
    loaded = load_profile(str(manager.settings.root / "profiles" / "lab.yaml"))
    rows: list[dict[str, Any]] = []
    tunnel = Tunnel.from_profile(loaded).open()
    try:
        base = tunnel.url("ingress").rstrip("/")
        for spark, group in groups:
            manager.up(spark.scenario())
            original = manager.ui_ingress_annotations().get(REWRITE_TARGET)
            for config in group:
                if spark.url_format != "none":
                    manager.annotate_ui_ingress(*config.ingress.edit(original))
                diag, curls, healthy = [], [], False
                for _ in range(runs):
                    started = time.perf_counter()
                    reader = KubeReader(api_client_through(loaded.kubeconfig or "", tunnel.address("api")))
                    obs = Observations(namespace=NS, app_name=APP, base_url=tunnel.url("ingress"))
                    with Prober() as prober:
                        findings = collect_and_diagnose(reader, prober, obs)
                    healthy = verdict(obs, findings).healthy
                    diag.append(time.perf_counter() - started)
                    curls.append(_curl_seconds(config.user_url(base)))
                d, c = statistics.median(diag), statistics.median(curls)
                rows.append(
                    {
                        "configuration": config.name,
                        "verdict": "healthy" if healthy else "not healthy",
                        "diagnosis median (s)": round(d, 3),
                        "curl median (s)": round(c, 4),
                        "ratio": round(d / c, 1) if c > 0 else "-",
                    }
                )
                print(f"  {config.name}: {d:.3f}s vs curl {c:.4f}s", file=sys.stderr, flush=True)
    finally:
        tunnel.close()
    return rows


def _print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    if not rows:
        return
    cols = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in cols]
    print("  ".join(str(c).ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runbook runs on the lab (median)")
    parser.add_argument("--api-runs", type=int, default=20, help="collection runs per application count")
    parser.add_argument("--apps", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--skip-lab", action="store_true", help="only part 1 (no lab needed)")
    parser.add_argument("--profile", help="lab profile path (default: $KB_LAB_DIR or .lab)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--matrix", action="store_true", help="part 3: diagnosis vs curl per matrix configuration"
    )
    parser.add_argument("--matrix-runs", type=int, default=3, help="repetitions per configuration (median)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        work = Path(tmp)
        results["api"] = [bench_api(n, args.api_runs, work) for n in args.apps]
        _print_table(
            "kube API: calls and time of the collection vs SparkApplications in the namespace", results["api"]
        )
        if not args.skip_lab:
            profile = lab_profile(args.profile)
            if not profile.is_file():
                print(
                    f"\nno lab profile at {profile}: start the lab (kb lab up) or pass --skip-lab",
                    file=sys.stderr,
                )
                return 2
            results["runbook"], results["runbook_steps"] = bench_runbook(profile, args.runs, work)
            _print_table("kb run spark-ui-ingress on the lab", [results["runbook"]])
            _print_table(
                "its steps (median s)",
                [{"step": k, "seconds": v} for k, v in results["runbook_steps"].items()],
            )
            results["in_process"] = bench_in_process(profile, args.runs)
            _print_table("the same work in this process (no kernel)", [results["in_process"]])
    if args.matrix:
        rows = bench_matrix(args.matrix_runs)
        results["matrix"] = rows
        _print_table("diagnosis vs one curl of the page, per matrix configuration (medians)", rows)
        ratios = [r["ratio"] for r in rows if isinstance(r["ratio"], float | int)]
        diags = [r["diagnosis median (s)"] for r in rows]
        print(
            f"\nmatrix: {len(rows)} configurations; diagnosis median of medians {statistics.median(diags):.3f}s, "
            f"max {max(diags):.3f}s; ratio to curl median {statistics.median(ratios):.1f}x"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
