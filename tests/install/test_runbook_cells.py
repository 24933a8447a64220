"""The four install runbooks: one pipeline, their parameters from their component's Params, short cells."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

from platform_kb.install import airflow, history, monitoring, spark_operator
from platform_kb.runner.params import parse_parameters, schema_specs

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = {
    "install-airflow": airflow.Params,
    "install-spark-operator": spark_operator.Params,
    "install-spark-history-server": history.Params,
    "install-monitoring": monitoring.Params,
}


@pytest.mark.parametrize(("runbook", "schema"), RUNBOOKS.items())
def test_install_runbook_parameters_are_its_components_params(runbook: str, schema: type) -> None:
    nb = jupytext.read(REPO / "runbooks" / f"{runbook}.py")
    assert parse_parameters(nb, runbook) == schema_specs(schema, runbook)
    names = [s.name for s in schema_specs(schema, runbook)]
    assert names[:12] == [
        "bastion_host", "bastion_port", "bastion_user", "identity_file", "known_hosts", "host_key_policy",
        "proxy_jump", "node_host", "ingress_nodeport", "api_port", "local_port", "kubeconfig",
    ]  # fmt: skip


@pytest.mark.parametrize("runbook", RUNBOOKS)
def test_no_code_cell_of_an_install_runbook_is_longer_than_5_lines(runbook: str) -> None:
    nb = jupytext.read(REPO / "runbooks" / f"{runbook}.py")
    lengths = [len(c.source.strip().splitlines()) for c in nb.cells if c.cell_type == "code"]
    assert lengths and max(lengths) <= 5
