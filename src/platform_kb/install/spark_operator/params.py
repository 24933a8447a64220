"""Spark Operator's parameters: the single schema of ``runbooks/install-spark-operator.py``."""

from __future__ import annotations

from dataclasses import dataclass

from ...runner.params import param
from .. import params as shared
from .. import sparkapp
from ..chart import ChartRef
from ..params import InstallParams
from .chart import CHART

DEFAULT_URL_FORMAT = "/spark-ui/{{$appNamespace}}/{{$appName}}"


@dataclass(frozen=True)
class Params(InstallParams):
    chart_repo_name: str = shared.chart_repo_name(CHART.repo_name)
    chart_repo_url: str = shared.chart_repo_url(CHART.repo_url)
    chart_version: str = param(CHART.version, "차트 버전 (2.3.0 이상이어야 함)")
    release: str = shared.release("spark-operator")
    namespace: str = param("spark-operator", "오퍼레이터 네임스페이스")
    job_namespaces: str = param("spark", "SparkApplication을 받을 네임스페이스 (쉼표로 여러 개)")
    url_format: str = param(DEFAULT_URL_FORMAT, "UI Ingress URL 형식 (경로가 있어야 함)")
    ingress_class: str = shared.ingress_class()
    webhook_enable: bool = param(True, "변경 웹훅 사용")
    extra_values: str = shared.extra_values()
    verify: bool = shared.verify()
    verify_only: bool = shared.verify_only()
    check_pods: bool = shared.check_pods("오퍼레이터")
    pod_timeout: float = shared.pod_timeout()
    smoke_app: str = sparkapp.smoke_app()
    smoke_namespace: str = param("", "검증 앱 네임스페이스 (비우면 job_namespaces의 첫 번째)")
    smoke_image: str = sparkapp.smoke_image()
    smoke_spark_version: str = sparkapp.smoke_spark_version()
    smoke_main_file: str = sparkapp.smoke_main_file()
    smoke_main_class: str = sparkapp.smoke_main_class()
    smoke_arguments: str = sparkapp.smoke_arguments("2000")
    smoke_service_account: str = sparkapp.smoke_service_account(
        "드라이버 서비스 계정 (차트가 만드는 <릴리스>-spark)"
    )
    smoke_timeout: float = sparkapp.smoke_timeout()

    @property
    def chart(self) -> ChartRef:
        return CHART.with_repo(self.chart_repo_name, self.chart_repo_url).with_version(self.chart_version)

    @property
    def namespaces(self) -> list[str]:
        return [n.strip() for n in str(self.job_namespaces).split(",") if n.strip()]
