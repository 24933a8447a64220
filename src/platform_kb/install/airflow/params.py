"""Airflow's parameters: the single schema of ``runbooks/install-airflow.py`` (``params_schema``)."""

from __future__ import annotations

from dataclasses import dataclass

from ...runner.params import param
from .. import params as shared
from ..chart import ChartRef
from ..params import InstallParams
from .chart import CHART

LOG_PREFIX = "logs/airflow-logs/"


@dataclass(frozen=True)
class Params(InstallParams):
    chart_repo_name: str = shared.chart_repo_name(CHART.repo_name)
    chart_repo_url: str = shared.chart_repo_url(CHART.repo_url)
    chart_version: str = param(CHART.version, "차트 버전")
    release: str = shared.release("airflow")
    namespace: str = param("airflow", "네임스페이스")
    s3_endpoint: str = shared.s3_endpoint()
    s3_region: str = shared.s3_region()
    bucket: str = shared.bucket()
    log_prefix: str = param(LOG_PREFIX, "작업 로그 접두사")
    s3_access_key_ref: str = shared.s3_access_key_ref()
    s3_secret_key_ref: str = shared.s3_secret_key_ref()
    log_conn_id: str = param("minio_s3", "원격 로그 연결 id (환경 변수 AIRFLOW_CONN_<ID>)")
    connection_secret: str = param("airflow-minio-connection", "연결을 담을 Secret 이름")
    # required, no default: the record names the repository (data-platform-core) but not its URL
    git_repo: str = param(
        "", "DAG 저장소 data-platform-core의 git URL (기록에 URL이 없어 기본값 없음)", required=True
    )
    git_branch: str = param("main", "브랜치")
    git_subpath: str = param("dags", "저장소 안의 DAG 폴더")
    git_period: str = param("60s", "동기화 주기")
    git_username_ref: str = param("", "HTTPS 저장소 사용자 (비공개 저장소일 때)", secret=True)
    git_password_ref: str = param("", "HTTPS 저장소 토큰", secret=True)
    git_ssh_key_ref: str = param("", "SSH 저장소 개인 키 (예: file:~/.ssh/id_ed25519)", secret=True)
    git_known_hosts: str = param("", "SSH 저장소일 때 git 서버의 known_hosts 줄 (공개 정보)")
    git_secret: str = param("airflow-git-credentials", "git 자격 증명 Secret 이름")
    ingress_class: str = shared.ingress_class()
    ui_path: str = param("/", "UI 경로 (인그레스)")
    extra_values: str = shared.extra_values()
    verify: bool = shared.verify()
    verify_only: bool = shared.verify_only()
    check_pods: bool = shared.check_pods("Airflow")
    check_ui: bool = param(True, "터널을 통한 UI와 CSS/JS 확인")
    pod_timeout: float = shared.pod_timeout()
    s3_verify_url: str = shared.s3_verify_url()
    probe_write: bool = shared.probe_write("로그 접두사")

    @property
    def chart(self) -> ChartRef:
        return CHART.with_repo(self.chart_repo_name, self.chart_repo_url).with_version(self.chart_version)

    @property
    def remote_base_log_folder(self) -> str:
        return f"s3://{self.bucket}/{self.log_prefix.strip('/')}"

    @property
    def conn_env_name(self) -> str:
        # Airflow reads connection <conn_id> from env AIRFLOW_CONN_<CONN_ID upper-cased>
        # (apache/airflow airflow-core/src/airflow/secrets/environment_variables.py).
        return "AIRFLOW_CONN_" + self.log_conn_id.upper()

    @property
    def git_uses_ssh(self) -> bool:
        return self.git_repo.startswith(("git@", "ssh://"))
