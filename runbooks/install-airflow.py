# %% [markdown]
# # Airflow 설치 (#3-10)
#
# 공식 **Apache Airflow** Helm 차트를 #3-10의 구성 그대로 설치(또는 업그레이드)합니다:
# `KubernetesExecutor`, `data-platform-core` 저장소의 DAG를 git-sync로 동기화, 작업 로그는 MinIO의
# `s3://datalake/logs/airflow-logs`에 원격 저장(`aws` 연결의 extra에 MinIO `endpoint_url`).
#
# **무엇을 설치하나**
#
# | 항목 | 값 |
# |---|---|
# | 차트 | `apache-airflow/airflow` (<https://airflow.apache.org>) |
# | 고정 버전 | **1.18.0** (#3-10 설치 당시의 최신 차트) |
# | 핵심 values | `executor: KubernetesExecutor`, `dags.gitSync.*`, `config.logging.remote_logging: "True"`, `remote_base_log_folder`, `remote_log_conn_id: minio_s3` |
# | 이 런북이 만드는 것 | 네임스페이스, Secret `airflow-minio-connection`(연결 `AIRFLOW_CONN_MINIO_S3`, 참조에서 만듦), git 자격 증명 Secret(필요할 때), Helm 릴리스 `airflow` |
#
# 자격 증명은 `env:이름` 또는 `file:경로` **참조로만** 받습니다(값을 매개변수로 주면 실행 기록에 평문으로 남음).
# Airflow의 "Test connection"은 MinIO에서 STS가 없어 실패하지만 연결 자체는 정상일 수 있습니다 — 검증은 S3 API로 합니다.
#
# **순서:** values 렌더링과 검사 → 계획(정확한 `helm` / `kubectl` 명령, values, 만드는 Secret) → 적용 → 검증
# (파드 Ready, 터널을 통한 UI와 CSS/JS, `datalake/logs/airflow-logs/` 접두사). 두 번째 적용은 "변경 없음".
#
# **되돌리기:** `helm rollback airflow --namespace airflow` (직전 리비전으로),
# `helm uninstall airflow --namespace airflow` (제거; Secret과 PVC는 남으므로 필요하면 직접 지웁니다).
#
# 이 페이지 아래 **공개된 실행 기록**에 최근 기록이 무엇을 검증했는지(단계, 발견 사항, 실행한 명령)가 나옵니다.
#
# ## 준비물
#
# - 배스천 접속 프로필과 그 `kubeconfig`(클러스터 관리자 권한), `runner`에 따라 이 머신 또는 배스천에 `helm`(3.x)과 `kubectl`
# - MinIO 키를 담은 환경 변수(기본 `MINIO_ACCESS_KEY`, `MINIO_SECRET_KEY`) 또는 파일 — 매개변수에는 참조만
# - 비공개 DAG 저장소면 git 자격 증명 참조(`git_username_ref`/`git_password_ref` 또는 `git_ssh_key_ref` + `git_known_hosts`)
# - 검증에서 S3를 보려면 이 머신에서 닿는 S3 API 주소(`s3_verify_url`)
# - 실행 예: `kb run install-airflow --profile homelab --plan`으로 계획을 본 뒤 `--plan` 없이 적용

# %% tags=["parameters"]
bastion_host: str = ""  # 배스천 호스트 (~/.ssh/config의 Host 별칭도 됨) [required]
bastion_port: int = 22  # 배스천 SSH 포트 [1..65535]
bastion_user: str = ""  # 배스천 사용자 (비우면 ssh_config 또는 $USER)
identity_file: str = ""  # SSH 개인 키 파일 (비우면 ssh_config 또는 에이전트)
known_hosts: str = ""  # 배스천 호스트 키를 확인할 known_hosts 파일
host_key_policy: str = "yes"  # 호스트 키 정책 [yes|accept-new]
proxy_jump: str = ""  # 배스천 앞의 점프 호스트 (ssh -J)
node_host: str = ""  # 배스천에서 본 쿠버네티스 노드 주소 [required]
ingress_nodeport: int = 30998  # ingress-nginx의 NodePort [1..65535]
api_port: int = 6443  # 노드의 쿠버네티스 API 포트 [1..65535]
local_port: int = 8080  # 인그레스를 열 로컬 포트 (0이면 빈 포트) [0..65535]
kubeconfig: str = ""  # 쿠버네티스 API용 kubeconfig (서버 주소는 터널로 바꿔 씀) [required]
runner: str = "local"  # helm/kubectl을 실행할 곳: 이 머신(터널 경유) 또는 배스천(SSH) [local|bastion]
bastion_kubeconfig: str = ""  # runner가 `bastion`일 때 배스천의 kubeconfig 경로 (비우면 배스천의 기본값)
chart_repo_name: str = "apache-airflow"  # Helm 저장소 이름
chart_repo_url: str = "https://airflow.apache.org"  # Helm 저장소 주소
chart_version: str = "1.18.0"  # 차트 버전
release: str = "airflow"  # Helm 릴리스 이름
namespace: str = "airflow"  # 네임스페이스
s3_endpoint: str = "http://minio.minio.svc.cluster.local:9000"  # 클러스터 안에서 본 MinIO 주소
s3_region: str = "us-east-1"  # S3 리전 (MinIO 기본값)
bucket: str = "datalake"  # 버킷
log_prefix: str = "logs/airflow-logs/"  # 작업 로그 접두사
s3_access_key_ref: str = "env:MINIO_ACCESS_KEY"  # MinIO 액세스 키 [secret]
s3_secret_key_ref: str = "env:MINIO_SECRET_KEY"  # MinIO 비밀 키 [secret]
log_conn_id: str = "minio_s3"  # 원격 로그 연결 id (환경 변수 AIRFLOW_CONN_<ID>)
connection_secret: str = "airflow-minio-connection"  # 연결을 담을 Secret 이름
git_repo: str = ""  # DAG 저장소 data-platform-core의 git URL (기록에 URL이 없어 기본값 없음) [required]
git_branch: str = "main"  # 브랜치
git_subpath: str = "dags"  # 저장소 안의 DAG 폴더
git_period: str = "60s"  # 동기화 주기
git_username_ref: str = ""  # HTTPS 저장소 사용자 (비공개 저장소일 때) [secret]
git_password_ref: str = ""  # HTTPS 저장소 토큰 [secret]
git_ssh_key_ref: str = ""  # SSH 저장소 개인 키 (예: file:~/.ssh/id_ed25519) [secret]
git_known_hosts: str = ""  # SSH 저장소일 때 git 서버의 known_hosts 줄 (공개 정보)
git_secret: str = "airflow-git-credentials"  # git 자격 증명 Secret 이름
ingress_class: str = "nginx"  # UI Ingress의 ingressClassName
ui_path: str = "/"  # UI 경로 (인그레스)
extra_values: str = ""  # 추가 Helm values (YAML 매핑, 렌더링한 값 위에 덮어씀)
verify: bool = True  # 적용 후 검증
verify_only: bool = False  # 설치 없이 검증만
check_pods: bool = True  # Airflow 파드 Ready 확인
check_ui: bool = True  # 터널을 통한 UI와 CSS/JS 확인
pod_timeout: float = 300.0  # 파드 Ready를 기다릴 최대 시간(초) [1..]
s3_verify_url: str = ""  # 이 머신에서 닿는 S3 API 주소 (비우면 S3 검증 생략)
probe_write: bool = True  # 검증 때 로그 접두사에 작은 객체를 쓰고 지움

# %%
from platform_kb import runbook
from platform_kb.install import steps, values
from platform_kb.tunnel import Tunnel

rb = runbook.start("install-airflow")
params = steps.parameters(globals())

# %% [markdown]
# ## 1. values 렌더링과 검사
#
# 매개변수로 Helm values와 이 런북이 만들 Secret을 렌더링하고(값은 `***`로 표시), 프로젝트 자체 검사를 합니다:
# 모르는(오타) 키와 가장 가까운 키(`config.logging.*`의 Airflow 옵션 이름 포함 — 차트 스키마가 잡지 못함),
# 필수 값, 값으로 준 자격 증명. 오류가 하나라도 있으면 아무것도 바꾸지 않고 멈춥니다.

# %%
with rb.step("values 렌더링과 검사") as step:
    if verify_only:
        step.skip("verify_only: 설치 단계를 건너뜀")
    rendered = steps.render(rb, "airflow", params)

# %% [markdown]
# ## 2. 터널과 실행기
#
# 배스천을 거쳐 인그레스와 쿠버네티스 API를 엽니다(호스트 키는 known_hosts로 확인). helm/kubectl은 `runner`에 따라
# 이 머신 또는 배스천에서 실행합니다.

# %%
with rb.step("터널과 실행기"):
    tunnel = Tunnel.from_parameters(steps.connection(params)).open()
    rb.table([{"포워드": name, "로컬 → 원격": tunnel.describe(name)} for name in tunnel.addresses])
    cmd_runner = None if verify_only else steps.make_runner(params, tunnel)

# %% [markdown]
# ## 3. 계획
#
# 지금 상태(`helm repo list`, `helm status`, `helm get values`, `kubectl get`)를 읽고 다른 것만 명령으로 만듭니다.
# helm이 있으면 `helm template`으로 차트의 `values.schema.json` 검사도 합니다.

# %%
with rb.step("계획") as step:
    if verify_only:
        step.skip("verify_only")
    the_plan = steps.make_plan(rb, rendered, cmd_runner)

# %% [markdown]
# ## 4. 적용
#
# 네임스페이스 → Secret → `helm upgrade --install` 순서로 실행합니다(`--plan`이면 기록만).

# %%
with rb.step("적용") as step:
    if verify_only:
        step.skip("verify_only")
    steps.apply(rb, the_plan, cmd_runner)
    steps.rollback_help(rb, rendered)

# %% [markdown]
# ## 5. 검증
#
# Airflow 파드(`tier=airflow,release=<릴리스>`)가 Ready인지, 터널을 통해 UI와 CSS/JS가 열리는지,
# S3 API로 `datalake/logs/airflow-logs/` 접두사에 쓸 수 있는지(작은 객체를 쓰고 읽고 지움) 확인합니다.
# 작업 로그는 DAG가 한 번 돈 뒤에야 생기므로, 접두사가 비어 있으면 경고만 합니다.

# %%
with rb.step("검증") as step:
    if not verify or (rb.plan and not verify_only):
        step.skip("verify=false" if not verify else "계획 모드: 설치하지 않았으므로 검증하지 않음")
    checked = steps.verify_airflow(
        rb, steps.cluster(rb, params, tunnel), values.from_parameters(values.AirflowParams, params), params
    )
    steps.report(rb, checked)

# %%
rb.report()
