"""The connection parameters, declared once: how a runbook reaches the cluster through the bastion.

Every runbook that opens the tunnel declares these twelve (an install component's ``Params`` inherits
them; ``runbooks/spark-ui-ingress.py`` names this class as its ``params_schema``). ``kb run --profile``
fills them from the profile by name (:meth:`platform_kb.profiles.Profile.as_parameters`), and
:meth:`ConnectionParams.tunnel_parameters` is what :meth:`platform_kb.tunnel.Tunnel.from_parameters` takes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .params import param


@dataclass(frozen=True)
class ConnectionParams:
    bastion_host: str = param("", "배스천 호스트 (~/.ssh/config의 Host 별칭도 됨)", required=True)
    bastion_port: int = param(22, "배스천 SSH 포트", low=1, high=65535)
    bastion_user: str = param("", "배스천 사용자 (비우면 ssh_config 또는 $USER)")
    identity_file: str = param("", "SSH 개인 키 파일 (비우면 ssh_config 또는 에이전트)")
    known_hosts: str = param("", "배스천 호스트 키를 확인할 known_hosts 파일")
    host_key_policy: str = param("yes", "호스트 키 정책", choices=("yes", "accept-new"))
    proxy_jump: str = param("", "배스천 앞의 점프 호스트 (ssh -J)")
    node_host: str = param("", "배스천에서 본 쿠버네티스 노드 주소", required=True)
    ingress_nodeport: int = param(30998, "ingress-nginx의 NodePort", low=1, high=65535)
    api_port: int = param(6443, "노드의 쿠버네티스 API 포트", low=1, high=65535)
    local_port: int = param(8080, "인그레스를 열 로컬 포트 (0이면 빈 포트)", low=0, high=65535)
    kubeconfig: str = param("", "쿠버네티스 API용 kubeconfig (서버 주소는 터널로 바꿔 씀)", required=True)

    def tunnel_parameters(self) -> dict[str, Any]:
        """The flat connection parameters ``Tunnel.from_parameters`` takes."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(ConnectionParams)}
