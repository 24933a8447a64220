"""Pinned Helm charts and the value keys a chart knows: the records every component's chart facts use.

Each component keeps its own chart facts (``<component>/chart.py``: the :class:`ChartRef` with its
pinned version, the known-key tree); this module holds the shapes. A key tree is built from dotted
paths by :func:`key_tree`: a dict node is closed (only its keys are known), :data:`OPEN` marks a
free-form subtree (``annotations.*``), ``None`` a scalar leaf. ``checking.unknown_keys`` walks
rendered values against it to catch misspelt keys before anything is applied; ``plan.py`` builds
the ``helm`` command lines from :class:`ChartRef`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageProblem

OPEN = "*"  # a subtree whose keys are free-form (annotations, resources, env lists, ...)


@dataclass(frozen=True)
class ChartRef:
    """One pinned Helm chart: ``helm repo add <repo_name> <repo_url>``, ``<repo_name>/<chart>@<version>``."""

    repo_name: str
    repo_url: str
    chart: str
    version: str
    keys_confirmed_for: str  # the chart version whose values.yaml the known keys were read from
    source: str  # upstream path the key list was read from

    @property
    def ref(self) -> str:
        return f"{self.repo_name}/{self.chart}"

    def with_version(self, version: str) -> ChartRef:
        return ChartRef(
            self.repo_name, self.repo_url, self.chart, version, self.keys_confirmed_for, self.source
        )

    def with_repo(self, repo_name: str, repo_url: str) -> ChartRef:
        return ChartRef(repo_name, repo_url, self.chart, self.version, self.keys_confirmed_for, self.source)


def parse_version(text: str) -> tuple[int, int, int]:
    """``"2.3.0"`` / ``"v2.3.0"`` / ``"2.3"`` -> (2, 3, 0); a UsageProblem for anything else."""
    raw = text.strip().lstrip("v").split("-", 1)[0].split("+", 1)[0]
    parts = raw.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise UsageProblem(f"chart version {text!r} is not a version like 2.3.0")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return numbers[0], numbers[1], numbers[2]


def key_tree(paths: list[str]) -> dict:
    """Dotted key paths -> nested dict of known keys.

    A dict node is closed (only its keys are known); :data:`OPEN` marks a free-form subtree
    (``annotations.*``); ``None`` marks a scalar leaf.
    """
    root: dict = {}
    for path in paths:
        parts = path.split(".")
        is_open = parts[-1] == OPEN
        if is_open:
            parts = parts[:-1]
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        leaf = parts[-1]
        if is_open:
            node[leaf] = OPEN
        elif leaf not in node:
            node[leaf] = None
    return root


def partly_open(tree: dict, *path: str) -> None:
    """Mark the dict node at ``path`` as partly open: its listed keys are closed, any other key is free."""
    node = tree
    for part in path:
        node = node.setdefault(part, {})
    node[OPEN] = OPEN
