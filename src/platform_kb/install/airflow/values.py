"""Airflow's values: the official chart with KubernetesExecutor, git-sync and S3 remote logs on MinIO.

Upstream behaviour reproduced here is cited where it is used (Airflow chart ``chart/values.yaml``,
Airflow connection JSON format).
"""

from __future__ import annotations

import json
from typing import Any

from ..spec import DesiredSecret, InstallSpec, Release, deep_merge, ns_manifest, parse_extra_values
from .params import Params


def minio_connection_json(endpoint: str, region: str, access_key: str, secret_key: str) -> str:
    """An ``aws`` connection for MinIO in Airflow's JSON connection format (Airflow >= 2.3).

    ``endpoint_url`` points the Amazon provider at MinIO; ``config_kwargs.s3.addressing_style``
    forces path-style requests (MinIO without wildcard DNS). Note: Airflow's "Test connection"
    fails on MinIO (no STS) even when the credentials are right.
    """
    conn = {
        "conn_type": "aws",
        "login": access_key,
        "password": secret_key,
        "extra": {
            "endpoint_url": endpoint,
            "region_name": region,
            "config_kwargs": {"s3": {"addressing_style": "path"}},
        },
    }
    return json.dumps(conn, separators=(",", ":"))


def render(p: Params) -> InstallSpec:
    """Values for apache/airflow ``chart/`` (KubernetesExecutor, git-sync, S3 remote logs on MinIO)."""
    git_sync: dict[str, Any] = {
        "enabled": True,
        "repo": p.git_repo,
        "branch": p.git_branch,
        "ref": p.git_branch,  # git-sync v4 reads `ref`, v3 `branch` (chart/values.yaml dags.gitSync)
        "rev": "HEAD",
        "depth": 1,
        "subPath": p.git_subpath,
        "period": p.git_period,
    }
    objects: list[dict[str, Any] | DesiredSecret] = [ns_manifest(p.namespace)]
    if p.git_ssh_key_ref:
        git_sync["sshKeySecret"] = p.git_secret  # the chart expects the key under `gitSshKey`
        if p.git_known_hosts:
            git_sync["knownHosts"] = p.git_known_hosts
        objects.append(
            DesiredSecret(
                p.git_secret, p.namespace, {"git_ssh_key_ref": p.git_ssh_key_ref},
                lambda v: {"gitSshKey": v["git_ssh_key_ref"] + "\n"},
                purpose="git-sync SSH key",
            )
        )  # fmt: skip
    elif p.git_username_ref or p.git_password_ref:
        git_sync["credentialsSecret"] = p.git_secret
        objects.append(
            DesiredSecret(
                p.git_secret, p.namespace,
                {"git_username_ref": p.git_username_ref, "git_password_ref": p.git_password_ref},
                # git-sync v4 reads GITSYNC_*, v3 GIT_SYNC_* (chart/values.yaml comments)
                lambda v: {
                    "GITSYNC_USERNAME": v["git_username_ref"], "GITSYNC_PASSWORD": v["git_password_ref"],
                    "GIT_SYNC_USERNAME": v["git_username_ref"], "GIT_SYNC_PASSWORD": v["git_password_ref"],
                },
                purpose="git-sync HTTPS credentials",
            )
        )  # fmt: skip
    env_name = p.conn_env_name
    endpoint, region = p.s3_endpoint, p.s3_region
    objects.append(
        DesiredSecret(
            p.connection_secret, p.namespace,
            {"s3_access_key_ref": p.s3_access_key_ref, "s3_secret_key_ref": p.s3_secret_key_ref},
            lambda v: {env_name: minio_connection_json(endpoint, region, v["s3_access_key_ref"], v["s3_secret_key_ref"])},
            purpose=f"Airflow connection {p.log_conn_id} (aws, MinIO endpoint_url)",
        )
    )  # fmt: skip
    values: dict[str, Any] = {
        "executor": "KubernetesExecutor",
        "dags": {"gitSync": git_sync},
        "config": {
            "logging": {
                "remote_logging": "True",
                "remote_base_log_folder": p.remote_base_log_folder,
                "remote_log_conn_id": p.log_conn_id,
            }
        },
        # `secret` puts the connection into every Airflow container, KubernetesExecutor pods included
        "secret": [{"envName": env_name, "secretName": p.connection_secret, "secretKey": env_name}],
        "ingress": {
            "apiServer": {
                "enabled": True,
                "ingressClassName": p.ingress_class,
                "path": p.ui_path,
                "pathType": "Prefix",
            }
        },
    }
    values = deep_merge(values, parse_extra_values(p.extra_values))
    release = Release(p.release, p.namespace, p.chart, values, f"{p.release}-values.yaml")
    return InstallSpec("airflow", tuple(objects), release)
