"""Airflow's own checks of the rendered values (besides ``helm template`` with the chart's schema)."""

from __future__ import annotations

from collections.abc import Mapping

from ...results import Check
from ..checking import (
    error,
    get,
    literal_secrets,
    refs,
    required,
    s3_endpoint_problems,
    unknown_keys,
)
from ..spec import InstallSpec
from .chart import KNOWN_KEYS
from .params import Params


def check(params: Params, spec: InstallSpec) -> list[Check]:
    assert spec.release is not None
    values = spec.release.values
    problems: list[Check] = []
    problems += unknown_keys(values, KNOWN_KEYS, "airflow")
    problems += required(
        values,
        "airflow",
        ["executor", "dags.gitSync.repo", "dags.gitSync.branch", "config.logging.remote_base_log_folder",
         "config.logging.remote_log_conn_id"],
    )  # fmt: skip
    problems += literal_secrets(values)
    problems += refs(
        params,
        ["s3_access_key_ref", "s3_secret_key_ref"],
        required=["s3_access_key_ref", "s3_secret_key_ref"],
    )
    problems += refs(params, ["git_username_ref", "git_password_ref", "git_ssh_key_ref"])
    executor = get(values, "executor")
    if executor and "KubernetesExecutor" not in str(executor):
        problems.append(
            error("executor", f"airflow values: executor is {executor!r}; #3-10 runs KubernetesExecutor")
        )
    if str(get(values, "config.logging.remote_logging")) != "True":
        problems.append(
            error("remote-logging", 'airflow values: config.logging.remote_logging must be "True"')
        )
    folder = str(get(values, "config.logging.remote_base_log_folder") or "")
    if folder and not folder.startswith("s3://"):
        problems.append(
            error("log-folder", f"airflow values: remote_base_log_folder {folder!r} must start with s3://")
        )
    conn_id = str(get(values, "config.logging.remote_log_conn_id") or "")
    env_names = {str(s.get("envName")) for s in values.get("secret") or [] if isinstance(s, Mapping)}
    if conn_id and "AIRFLOW_CONN_" + conn_id.upper() not in env_names:
        problems.append(
            error("log-connection", f"airflow values: no `secret` entry provides AIRFLOW_CONN_{conn_id.upper()}",
                   "the remote log connection must reach every Airflow container")
        )  # fmt: skip
    if params.git_uses_ssh and not params.git_ssh_key_ref:
        problems.append(
            error("git-ssh-key", f"git_repo {params.git_repo!r} is an SSH URL but git_ssh_key_ref is empty")
        )
    if params.git_uses_ssh and not params.git_known_hosts:
        problems.append(
            error("git-known-hosts", "git_known_hosts is empty: git-sync would not verify the git server's host key",
                   "give the git server's known_hosts line(s)")
        )  # fmt: skip
    if bool(params.git_username_ref) != bool(params.git_password_ref):
        problems.append(error("git-credentials", "git_username_ref and git_password_ref go together"))
    if not params.ui_path.startswith("/"):
        problems.append(error("ui-path", f"ui_path {params.ui_path!r} must start with /"))
    problems += s3_endpoint_problems(params.s3_endpoint)
    return problems
