"""``long-test``: the DAG's job in issue #3-10, as a lab job that keeps the Spark UI busy.

Where this sits: run inside a lab driver (``platform_kb_lab.driver``) for a SparkApplication whose
``mainApplicationFile`` ends in ``long_test.py``. It runs a small two-stage job (a shuffle) in a
loop, so the UI has jobs, stages and SQL queries to show, until ``--duration`` seconds have passed
or the driver is asked to stop; then it returns 0. Run it alone with
``python -m platform_kb_lab.jobs.long_test --duration 30`` (a ``local[1]`` session of its own).
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any


def parse_args(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="long_test.py")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds to keep running (default 60)")
    parser.add_argument("--interval", type=float, default=1.0, help="pause between iterations (default 1s)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per iteration (default 20000)")
    return parser.parse_args(arguments)


def iteration(spark: Any, number: int, rows: int) -> int:
    """One small job with a shuffle: count rows per key."""
    spark.sparkContext.setJobDescription(f"long-test iteration {number}")
    frame = spark.range(0, rows, numPartitions=2).selectExpr("id % 10 AS k")
    return len(frame.groupBy("k").count().collect())


def run(spark: Any, arguments: list[str], stop: threading.Event | None = None) -> int:
    """Run iterations until the duration is over or ``stop`` is set; 0 when done."""
    args = parse_args(arguments)
    stop = stop or threading.Event()
    deadline = time.monotonic() + max(args.duration, 0.0)
    number = 0
    while True:
        number += 1
        iteration(spark, number, args.rows)
        print(f"long-test: iteration {number} done", flush=True)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or stop.wait(min(args.interval, remaining)):
            break
    print(f"long-test: finished after {number} iterations", flush=True)
    return 0


def main() -> None:
    import sys

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[1]").appName("long-test").getOrCreate()
    try:
        code = run(spark, sys.argv[1:])
    finally:
        spark.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
