# %% [markdown]
# # Spark History Server 설치 (#3-10)
#
# 끝난 Spark 잡의 UI를 보는 **Spark History Server**를 MinIO의 이벤트 로그(`s3a://datalake/logs/spark-log/`)에
# 연결해 설치하고, 인그레스의 `/spark-history/` 경로로 엽니다. 이 경로는 #3-10 기록에 없고(기록은 MinIO 연동만 적음)
# 이 지식 베이스가 정한 기본값입니다(매개변수 `ui_path`).
#
# 공식 Helm 차트가 없으므로 이 런북이 매니페스트를 직접 렌더링해 `kubectl apply`합니다: ConfigMap
# (`spark-defaults.conf`), S3 자격 증명 Secret(참조에서 만듦), Deployment, Service, Ingress.
#
# **무엇을 설치하나**
#
# | 항목 | 값 |
# |---|---|
# | 이미지 | `apache/spark:4.0.1` (Spark 4.0.1) |
# | S3A jar (고정) | Spark 4.0 → `hadoop-aws` **3.4.1** + AWS SDK v2 `bundle` **2.24.6**; Spark 3.5 → `hadoop-aws` 3.3.4 + `aws-java-sdk-bundle` 1.12.262 (Hadoop 버전을 섞지 않음) |
# | 설정 | `spark.history.fs.logDirectory s3a://datalake/logs/spark-log/`, `fs.s3a.path.style.access true`, `fs.s3a.endpoint` = MinIO, 키는 Secret → 환경 변수 |
# | 노출 | Ingress 경로 `/spark-history(/\|$)(.*)` → `rewrite-target: /$2`, `-Dspark.ui.proxyBase=/spark-history` (링크와 CSS/JS가 접두사 아래에 머묾) |
#
# **순서:** 렌더링과 검사 → 계획(`kubectl apply` 대상과 매니페스트, Secret 값은 `***`) → 적용 → 검증
# (파드 Ready, 터널을 통한 UI와 CSS/JS, `spark-log/` 접두사, 검증용 앱이 끝난 뒤 History Server에 나타나는지).
# 두 번째 적용은 "변경 없음".
#
# **되돌리기:** `kubectl rollout undo deployment/spark-history-server --namespace spark-history` (이전 설정으로),
# `kubectl delete deployment,service,ingress,configmap -l app.kubernetes.io/name=spark-history-server --namespace spark-history` (제거).
#
# 이 페이지 아래 **공개된 실행 기록**에 최근 기록이 무엇을 검증했는지(단계, 발견 사항, 실행한 명령)가 나옵니다.
#
# ## 준비물
#
# - 배스천 접속 프로필과 그 `kubeconfig`, `runner`에 따라 이 머신 또는 배스천에 `kubectl`
# - MinIO 키를 담은 환경 변수(기본 `MINIO_ACCESS_KEY`, `MINIO_SECRET_KEY`) 또는 파일 — 매개변수에는 참조만
# - 클러스터에서 Maven 저장소(`maven_repo`, 폐쇄망이면 내부 미러)에 닿을 것 — S3A jar를 init 컨테이너가 받음
# - 검증 앱이 이벤트 로그를 MinIO에 쓰려면 잡 네임스페이스의 S3 키 Secret(`smoke_event_log_secret`)
# - 실행 예: `kb run install-spark-history-server --profile homelab --plan`으로 계획을 본 뒤 `--plan` 없이 적용

# %% tags=["parameters"]
params_schema = (
    "platform_kb.install.history:Params"  # the parameters: `kb run install-spark-history-server --help`
)

# %%
from platform_kb.install import history, pipeline

job = pipeline.start("install-spark-history-server", history.COMPONENT, globals())

# %% [markdown]
# ## 1. 매니페스트 렌더링과 검사
#
# Spark 버전에 맞는 hadoop-aws / AWS SDK jar 쌍을 고르고(이미지의 Spark와 다르면 거부), `s3a://` 로그 위치,
# 경로 방식 접근, 자격 증명 참조를 검사합니다. 오류가 하나라도 있으면 아무것도 바꾸지 않고 멈춥니다.

# %%
job.render()

# %% [markdown]
# ## 2. 터널과 실행기
#
# 배스천을 거쳐 인그레스와 쿠버네티스 API를 엽니다(호스트 키는 known_hosts로 확인). kubectl은 `runner`에 따라
# 이 머신 또는 배스천에서 실행합니다.

# %%
job.connect()

# %% [markdown]
# ## 3. 계획
#
# 각 객체를 `kubectl get`으로 읽어, 없거나 다른 것만 `kubectl apply -f -` 대상으로 만듭니다.

# %%
job.plan()

# %% [markdown]
# ## 4. 적용
#
# 네임스페이스 → Secret → ConfigMap → Deployment → Service → Ingress 순서로 적용합니다(`--plan`이면 기록만).
# 설정이 바뀌면 파드 템플릿의 체크섬 주석이 바뀌어 파드가 다시 뜹니다.

# %%
job.apply()

# %% [markdown]
# ## 5. 검증
#
# 파드 Ready, 터널을 통한 `/spark-history/` UI와 CSS/JS, `spark-log/` 접두사(S3 API)를 확인한 뒤,
# 검증용 SparkApplication을 제출해 끝날 때까지 기다리고 History Server가 그 앱을 나열하는지,
# 이벤트 로그가 접두사에 새로 생겼는지 봅니다. 검증 앱 제출은 변경이므로 `--plan`에서는 기록만 합니다.

# %%
job.verify()

# %%
job.report()
