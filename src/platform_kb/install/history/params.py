"""The History Server's parameters: the single schema of ``runbooks/install-spark-history-server.py``."""

from __future__ import annotations

from dataclasses import dataclass

from ...runner.params import param
from .. import params as shared
from .. import sparkapp
from ..params import InstallParams
from ..spec import MANAGED_BY

LOG_PREFIX = "logs/spark-log/"


@dataclass(frozen=True)
class Params(InstallParams):
    runner: str = shared.runner_kind("kubectl")
    namespace: str = param("spark-history", "네임스페이스")
    name: str = param("spark-history-server", "Deployment/Service/Ingress 이름")
    spark_version: str = param("4.0.1", "이미지의 Spark 버전 (S3A jar 버전을 정함)")
    image: str = param("apache/spark:4.0.1", "History Server 이미지")
    s3_endpoint: str = shared.s3_endpoint()
    s3_region: str = shared.s3_region()
    bucket: str = shared.bucket()
    log_prefix: str = param(LOG_PREFIX, "이벤트 로그 접두사")
    s3_access_key_ref: str = shared.s3_access_key_ref()
    s3_secret_key_ref: str = shared.s3_secret_key_ref()
    s3_path_style: bool = param(True, "경로 방식 접근 (MinIO)")
    s3_secret: str = param("spark-history-s3", "S3 자격 증명 Secret 이름")
    ingress_class: str = shared.ingress_class("Ingress")
    ui_path: str = param("/spark-history", "인그레스 경로 접두사 (proxyBase)")
    update_interval: str = param("10s", "이벤트 로그를 다시 읽는 주기")
    maven_repo: str = param(
        "https://repo1.maven.org/maven2", "S3A jar를 받을 Maven 저장소 (폐쇄망이면 내부 미러)"
    )
    jar_fetch_image: str = param("curlimages/curl:8.11.1", "jar를 받는 init 컨테이너 이미지")
    verify: bool = shared.verify()
    verify_only: bool = shared.verify_only()
    check_pods: bool = shared.check_pods("History Server")
    pod_timeout: float = shared.pod_timeout()
    s3_verify_url: str = shared.s3_verify_url()
    probe_write: bool = shared.probe_write("이벤트 로그 접두사")
    smoke_app: str = sparkapp.smoke_app()
    smoke_namespace: str = param("spark", "검증 앱 네임스페이스")
    smoke_image: str = sparkapp.smoke_image()
    smoke_spark_version: str = sparkapp.smoke_spark_version()
    smoke_main_file: str = sparkapp.smoke_main_file()
    smoke_main_class: str = sparkapp.smoke_main_class()
    smoke_arguments: str = sparkapp.smoke_arguments("100")
    smoke_service_account: str = sparkapp.smoke_service_account()
    smoke_fetch_jars: bool = param(
        True, "검증 앱에 spark.jars.packages로 hadoop-aws와 SDK를 받게 함 (이미지에 있으면 false)"
    )
    smoke_event_log_secret: str = param("", "검증 앱이 S3 키를 읽을 Secret (잡 네임스페이스, 비우면 키 없이)")
    smoke_timeout: float = sparkapp.smoke_timeout()

    @property
    def log_directory(self) -> str:
        return f"s3a://{self.bucket}/{self.log_prefix.strip('/')}/"

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, **MANAGED_BY}
