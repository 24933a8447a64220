"""``kb runs publish ID [RUN]``: copy one record, scrubbed, to ``records/<id>/`` for the site.

Where this sits in the flow: after ``kb run`` (records under ``runs/``, git-ignored, private);
the site's runbook page (``platform_kb.site.runbooks``) shows ``records/<id>/`` when it exists.
``records/`` is tracked in git, so a clean clone's site shows the published record; publishing
again replaces it (one published record per runbook, its history is git's).

Scrubbing, on top of the masking every record already had when it was written:

* every secret reference the run used (``secret_references`` in summary.json) is resolved again
  if it can be, and its value masked — in case it leaked through a form the runner missed;
* PEM private key blocks are removed;
* the checkout's absolute path becomes relative and the home directory ``~``;
* papermill's ``environment_variables`` metadata is dropped.

Published files are 0644 (they are meant to be read); records under ``runs/`` stay 0600.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import UsageProblem
from ..paths import ProjectPaths
from ..secrets import Masker, SecretError, mask_private_keys, resolve
from .records import LATEST, NOTEBOOK, SUMMARY, check_record_name, read_summary, write_private

PUBLISHED = "records"  # <root>/records/<id>/{summary.json,output.ipynb}


def published_dir(root: Path, runbook_id: str) -> Path:
    return root / PUBLISHED / runbook_id


@dataclass(frozen=True)
class PublishedRecord:
    runbook_id: str
    run: str
    path: Path
    status: str


def find_run(base: Path, runbook_id: str, run: str | None) -> Path:
    folder = base / check_record_name(runbook_id)
    if run is not None:
        check_record_name(run, "run")
    if not folder.is_dir():
        raise UsageProblem(f"no records for runbook {runbook_id!r} in {base}")
    run_dir = folder / (run or LATEST)
    if not run_dir.is_dir():
        known = (
            ", ".join(sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.is_symlink())) or "none"
        )
        raise UsageProblem(f"no record {run!r} for runbook {runbook_id!r} (records: {known})")
    return run_dir.resolve()


def _scrubber(summary: dict[str, Any], root: Path) -> Masker:
    masker = Masker()
    for ref in summary.get("secret_references", []):
        try:
            masker.add(resolve(ref, base=root))
        except SecretError:
            continue
    return masker


def scrub_text(text: str, masker: Masker, root: Path) -> str:
    text = mask_private_keys(masker.text(text))
    for prefix, replacement in ((str(root.resolve()) + "/", ""), (str(Path.home()) + "/", "~/")):
        if len(prefix) > 2:
            text = text.replace(prefix, replacement)
            text = text.replace(json.dumps(prefix)[1:-1], replacement)
    return text


def publish_record(
    paths: ProjectPaths, runbook_id: str, run: str | None = None, base: Path | None = None
) -> PublishedRecord:
    """Copy ``runs/<id>/<run or latest>`` to ``records/<id>/`` scrubbed; returns where it went."""
    check_record_name(runbook_id)
    run_dir = find_run(base or paths.runs, runbook_id, run)
    summary = read_summary(run_dir)
    notebook = run_dir / NOTEBOOK
    if summary is None or not notebook.is_file():
        raise UsageProblem(f"record {run_dir} is incomplete (no {SUMMARY} or {NOTEBOOK})")
    if summary.get("status") == "running":
        raise UsageProblem(f"record {run_dir} is still running or was cut off; publish another run")
    masker = _scrubber(summary, paths.root)

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb.get("metadata", {}).get("papermill", {}).pop("environment_variables", None)
    summary["published"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    summary["published_run"] = run_dir.name

    dest = published_dir(paths.root, runbook_id)
    dest.mkdir(parents=True, exist_ok=True)
    nb_text = scrub_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", masker, paths.root)
    summary_text = scrub_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", masker, paths.root)
    write_private(dest / NOTEBOOK, nb_text, mode=0o644)
    write_private(dest / SUMMARY, summary_text, mode=0o644)
    return PublishedRecord(runbook_id, run_dir.name, dest, str(summary.get("status")))


def load_published(root: Path, runbook_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(summary, notebook JSON) of the published record, or None."""
    folder = published_dir(root, runbook_id)
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        notebook = json.loads((folder / NOTEBOOK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary, notebook
