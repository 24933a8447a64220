"""Lab Spark jobs: what a SparkApplication's ``mainApplicationFile`` runs inside a lab driver.

Where this sits: the lab driver runner (:func:`platform_kb_lab.driver.run_driver`) maps the file
name of ``mainApplicationFile`` (e.g. ``local:///opt/spark/work-dir/long_test.py``) to a module
here and calls its ``run(spark, arguments, stop)``; ``stop`` is set when the driver is asked to
end (SIGTERM), and the return value is the driver's exit code.
"""

from __future__ import annotations

import importlib
from pathlib import PurePosixPath
from types import ModuleType
from urllib.parse import urlsplit

# file stem (dashes or underscores) -> module
JOBS: dict[str, str] = {
    "long_test": "platform_kb_lab.jobs.long_test",
}


def job_key(main_application_file: str) -> str:
    path = urlsplit(main_application_file).path or main_application_file
    return PurePosixPath(path).stem.replace("-", "_")


def resolve_job(main_application_file: str) -> ModuleType:
    """The job module for ``mainApplicationFile``; LookupError naming the known jobs otherwise."""
    key = job_key(main_application_file)
    if key not in JOBS:
        known = ", ".join(f"{k}.py" for k in sorted(JOBS))
        raise LookupError(f"no lab job for mainApplicationFile {main_application_file!r} (lab jobs: {known})")
    return importlib.import_module(JOBS[key])
