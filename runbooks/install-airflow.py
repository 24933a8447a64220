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
params_schema = "platform_kb.install.airflow:Params"  # the parameters: `kb run install-airflow --help`

# %%
from platform_kb.install import airflow, pipeline

job = pipeline.start("install-airflow", airflow.COMPONENT, globals())

# %% [markdown]
# ## 1. values 렌더링과 검사
#
# 매개변수로 Helm values와 이 런북이 만들 Secret을 렌더링하고(값은 `***`로 표시), 프로젝트 자체 검사를 합니다:
# 모르는(오타) 키와 가장 가까운 키(`config.logging.*`의 Airflow 옵션 이름 포함 — 차트 스키마가 잡지 못함),
# 필수 값, 값으로 준 자격 증명. 오류가 하나라도 있으면 아무것도 바꾸지 않고 멈춥니다.

# %%
job.render()

# %% [markdown]
# ## 2. 터널과 실행기
#
# 배스천을 거쳐 인그레스와 쿠버네티스 API를 엽니다(호스트 키는 known_hosts로 확인). helm/kubectl은 `runner`에 따라
# 이 머신 또는 배스천에서 실행합니다.

# %%
job.connect()

# %% [markdown]
# ## 3. 계획
#
# 지금 상태(`helm repo list`, `helm status`, `helm get values`, `kubectl get`)를 읽고 다른 것만 명령으로 만듭니다.
# helm이 있으면 `helm template`으로 차트의 `values.schema.json` 검사도 합니다.

# %%
job.plan()

# %% [markdown]
# ## 4. 적용
#
# 네임스페이스 → Secret → `helm upgrade --install` 순서로 실행합니다(`--plan`이면 기록만).

# %%
job.apply()

# %% [markdown]
# ## 5. 검증
#
# Airflow 파드(`tier=airflow,release=<릴리스>`)가 Ready인지, 터널을 통해 UI와 CSS/JS가 열리는지,
# S3 API로 `datalake/logs/airflow-logs/` 접두사에 쓸 수 있는지(작은 객체를 쓰고 읽고 지움) 확인합니다.
# 작업 로그는 DAG가 한 번 돈 뒤에야 생기므로, 접두사가 비어 있으면 경고만 합니다.

# %%
job.verify()

# %%
job.report()
