"""Where an install runbook's commands run and how its verification reaches the cluster.

``runner=local``: helm/kubectl here, with a kubeconfig pointed at the tunnel's API forward;
``runner=bastion``: the same commands on the bastion over SSH (:mod:`.runners`). Verification reads
through :class:`Cluster`: the Kubernetes API through the tunnel, HTTP to the ingress, and S3 when the
component has an ``s3_verify_url``.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..errors import UsageProblem
from ..probes import Prober
from ..profiles import BastionSpec
from . import runners
from .params import InstallParams
from .s3 import S3Client
from .secrets import try_resolve


def api_scheme(kubeconfig: str) -> str:
    """The scheme of the kubeconfig's API server: ``http`` for the lab stand-in, else ``https``."""
    from .. import kube

    return kube.server_scheme(kubeconfig)


def bastion_spec(p: InstallParams) -> BastionSpec:
    """The profile's bastion as an SSH destination (host keys verified per ``host_key_policy``)."""
    if not p.bastion_host:
        raise UsageProblem("bastion_host is required")
    return BastionSpec(
        host=p.bastion_host,
        port=int(p.bastion_port or 22),
        user=p.bastion_user or None,
        identity_file=p.identity_file or None,
        known_hosts=p.known_hosts or None,
        host_key_policy=p.host_key_policy or "yes",
        proxy_jump=p.proxy_jump or None,
    )


def make_runner(p: InstallParams, tunnel: Any, workdir: Path | None = None) -> runners.Runner:
    """``runner=local``: subprocess here with a kubeconfig for the tunnel's API forward;
    ``runner=bastion``: the same commands on the bastion over SSH."""
    kind = p.runner or "local"
    if kind not in runners.RUNNER_KINDS:
        raise UsageProblem(f"runner must be one of {', '.join(runners.RUNNER_KINDS)}, got {kind!r}")
    if kind == "bastion":
        env = {"KUBECONFIG": p.bastion_kubeconfig} if p.bastion_kubeconfig else {}
        spec = bastion_spec(p)
        return runners.BastionRunner(spec, remote_env=env, name=f"bastion {spec.host}")
    if not p.kubeconfig:
        raise UsageProblem(
            "runner=local needs the profile's kubeconfig (the API server is reached through the tunnel)"
        )
    owned = workdir is None
    # 0700, created only now that it is needed; it holds a copy of the user's credentials
    workdir = workdir or Path(tempfile.mkdtemp(prefix="kb-install-"))
    try:
        host, port = tunnel.address("api")
        scheme = api_scheme(p.kubeconfig)
        kubeconfig = runners.write_tunnel_kubeconfig(
            p.kubeconfig, f"{scheme}://{host}:{port}", workdir / "kubeconfig"
        )
        runner = runners.LocalRunner(workdir / "files", kubeconfig, env={"KUBECONFIG": str(kubeconfig)})
    except BaseException:
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    if owned:
        # removed with the runner or, at the latest, when the kernel's interpreter exits; a killed
        # kernel's TMPDIR is the run's private folder, which kb run removes (runner.interrupt)
        runner.cleanup = weakref.finalize(runner, shutil.rmtree, str(workdir), True)
    return runner


@dataclass
class Cluster:
    """Read-only handles for verification: kube API (through the tunnel), HTTP to the ingress, S3."""

    core: Any
    net: Any
    custom: Any
    http: httpx.Client
    base_url: str
    s3: S3Client | None = None
    prober: Prober = field(default_factory=Prober)  # UI pages through the tunnel (checks.pages.ui_check)


def cluster(rb: Any, p: InstallParams, tunnel: Any) -> Cluster:
    from kubernetes import client

    from .. import kube

    api = kube.api_client_via(p.kubeconfig, tunnel.address("api"))
    s3 = None
    if getattr(p, "s3_verify_url", ""):  # the components that keep data on MinIO declare it
        access = try_resolve(p.s3_access_key_ref, rb.secret, "s3_access_key_ref")  # type: ignore[attr-defined]
        secret = try_resolve(p.s3_secret_key_ref, rb.secret, "s3_secret_key_ref")  # type: ignore[attr-defined]
        if access and secret:
            s3 = S3Client(p.s3_verify_url, access, secret, p.s3_region or "us-east-1")  # type: ignore[attr-defined]
    return Cluster(
        client.CoreV1Api(api), client.NetworkingV1Api(api), client.CustomObjectsApi(api),
        httpx.Client(timeout=15.0), tunnel.url("ingress"), s3,
    )  # fmt: skip
