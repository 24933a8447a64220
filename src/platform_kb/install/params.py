"""The parameters every install component shares, declared once.

A component's ``Params`` (its runbook's whole parameter schema, ``runner.params`` reads it) inherits
:class:`InstallParams` — the twelve connection parameters of :class:`~platform_kb.runner.connection.
ConnectionParams`, then where helm/kubectl run — and takes the other shared fields from the factories
below (``verify: bool = verify()``), so each keeps its place in the runbook's parameter table while
its default and description live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..runner.connection import ConnectionParams
from ..runner.params import param
from .runners import RUNNER_KINDS

MINIO_ENDPOINT = "http://minio.minio.svc.cluster.local:9000"
DATALAKE_BUCKET = "datalake"


def runner_kind(tools: str = "helm/kubectl") -> Any:
    return param("local", f"{tools}을 실행할 곳: 이 머신(터널 경유) 또는 배스천(SSH)", choices=RUNNER_KINDS)


@dataclass(frozen=True)
class InstallParams(ConnectionParams):
    runner: str = runner_kind()
    bastion_kubeconfig: str = param(
        "", "runner가 `bastion`일 때 배스천의 kubeconfig 경로 (비우면 배스천의 기본값)"
    )


# --- chart and release ---------------------------------------------------------------------------
def chart_repo_name(default: str) -> Any:
    return param(default, "Helm 저장소 이름")


def chart_repo_url(default: str) -> Any:
    return param(default, "Helm 저장소 주소")


def release(default: str) -> Any:
    return param(default, "Helm 릴리스 이름")


def ingress_class(what: str = "UI Ingress") -> Any:
    return param("nginx", f"{what}의 ingressClassName")


def extra_values() -> Any:
    return param("", "추가 Helm values (YAML 매핑, 렌더링한 값 위에 덮어씀)")


# --- MinIO (S3) -----------------------------------------------------------------------------------
def s3_endpoint() -> Any:
    return param(MINIO_ENDPOINT, "클러스터 안에서 본 MinIO 주소")


def s3_region() -> Any:
    return param("us-east-1", "S3 리전 (MinIO 기본값)")


def bucket() -> Any:
    return param(DATALAKE_BUCKET, "버킷")


def s3_access_key_ref() -> Any:
    return param("env:MINIO_ACCESS_KEY", "MinIO 액세스 키", secret=True)


def s3_secret_key_ref() -> Any:
    return param("env:MINIO_SECRET_KEY", "MinIO 비밀 키", secret=True)


# --- verification ---------------------------------------------------------------------------------
def verify() -> Any:
    return param(True, "적용 후 검증")


def verify_only() -> Any:
    return param(False, "설치 없이 검증만")


def check_pods(what: str) -> Any:
    return param(True, f"{what} 파드 Ready 확인")


def pod_timeout() -> Any:
    return param(300.0, "파드 Ready를 기다릴 최대 시간(초)", low=1)


def s3_verify_url() -> Any:
    return param("", "이 머신에서 닿는 S3 API 주소 (비우면 S3 검증 생략)")


def probe_write(prefix: str) -> Any:
    return param(True, f"검증 때 {prefix}에 작은 객체를 쓰고 지움")
