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
runner: str = "local"  # kubectl을 실행할 곳: 이 머신(터널 경유) 또는 배스천(SSH) [local|bastion]
bastion_kubeconfig: str = ""  # runner가 `bastion`일 때 배스천의 kubeconfig 경로 (비우면 배스천의 기본값)
namespace: str = "spark-history"  # 네임스페이스
name: str = "spark-history-server"  # Deployment/Service/Ingress 이름
spark_version: str = "4.0.1"  # 이미지의 Spark 버전 (S3A jar 버전을 정함)
image: str = "apache/spark:4.0.1"  # History Server 이미지
s3_endpoint: str = "http://minio.minio.svc.cluster.local:9000"  # 클러스터 안에서 본 MinIO 주소
s3_region: str = "us-east-1"  # S3 리전 (MinIO 기본값)
bucket: str = "datalake"  # 버킷
log_prefix: str = "logs/spark-log/"  # 이벤트 로그 접두사
s3_access_key_ref: str = "env:MINIO_ACCESS_KEY"  # MinIO 액세스 키 [secret]
s3_secret_key_ref: str = "env:MINIO_SECRET_KEY"  # MinIO 비밀 키 [secret]
s3_path_style: bool = True  # 경로 방식 접근 (MinIO)
s3_secret: str = "spark-history-s3"  # S3 자격 증명 Secret 이름
ingress_class: str = "nginx"  # Ingress의 ingressClassName
ui_path: str = "/spark-history"  # 인그레스 경로 접두사 (proxyBase)
update_interval: str = "10s"  # 이벤트 로그를 다시 읽는 주기
maven_repo: str = "https://repo1.maven.org/maven2"  # S3A jar를 받을 Maven 저장소 (폐쇄망이면 내부 미러)
jar_fetch_image: str = "curlimages/curl:8.11.1"  # jar를 받는 init 컨테이너 이미지
verify: bool = True  # 적용 후 검증
verify_only: bool = False  # 설치 없이 검증만
check_pods: bool = True  # History Server 파드 Ready 확인
pod_timeout: float = 300.0  # 파드 Ready를 기다릴 최대 시간(초) [1..]
s3_verify_url: str = ""  # 이 머신에서 닿는 S3 API 주소 (비우면 S3 검증 생략)
probe_write: bool = True  # 검증 때 이벤트 로그 접두사에 작은 객체를 쓰고 지움
smoke_app: str = "kb-install-smoke"  # 검증용 SparkApplication 이름
smoke_namespace: str = "spark"  # 검증 앱 네임스페이스
smoke_image: str = "apache/spark:4.0.1"  # 검증 앱 이미지
smoke_spark_version: str = "4.0.1"  # 검증 앱의 Spark 버전
smoke_main_file: str = "local:///opt/spark/examples/src/main/python/pi.py"  # 검증 앱의 mainApplicationFile
smoke_main_class: str = ""  # Scala/Java 앱일 때 mainClass
smoke_arguments: str = "100"  # 검증 앱 인자 (공백으로 구분)
smoke_service_account: str = "spark-operator-spark"  # 드라이버 서비스 계정
smoke_fetch_jars: bool = (
    True  # 검증 앱에 spark.jars.packages로 hadoop-aws와 SDK를 받게 함 (이미지에 있으면 false)
)
smoke_event_log_secret: str = ""  # 검증 앱이 S3 키를 읽을 Secret (잡 네임스페이스, 비우면 키 없이)
smoke_timeout: float = 600.0  # 검증 앱을 기다릴 최대 시간(초) [1..]

# %%
from platform_kb import runbook
from platform_kb.install import steps, values
from platform_kb.tunnel import Tunnel

rb = runbook.start("install-spark-history-server")
params = steps.parameters(globals())

# %% [markdown]
# ## 1. 매니페스트 렌더링과 검사
#
# Spark 버전에 맞는 hadoop-aws / AWS SDK jar 쌍을 고르고(이미지의 Spark와 다르면 거부), `s3a://` 로그 위치,
# 경로 방식 접근, 자격 증명 참조를 검사합니다. 오류가 하나라도 있으면 아무것도 바꾸지 않고 멈춥니다.

# %%
with rb.step("매니페스트 렌더링과 검사") as step:
    if verify_only:
        step.skip("verify_only: 설치 단계를 건너뜀")
    rendered = steps.render(rb, "spark-history-server", params)

# %% [markdown]
# ## 2. 터널과 실행기
#
# 배스천을 거쳐 인그레스와 쿠버네티스 API를 엽니다(호스트 키는 known_hosts로 확인). kubectl은 `runner`에 따라
# 이 머신 또는 배스천에서 실행합니다.

# %%
with rb.step("터널과 실행기"):
    tunnel = Tunnel.from_parameters(steps.connection(params)).open()
    rb.table([{"포워드": name, "로컬 → 원격": tunnel.describe(name)} for name in tunnel.addresses])
    cmd_runner = None if verify_only else steps.make_runner(params, tunnel)

# %% [markdown]
# ## 3. 계획
#
# 각 객체를 `kubectl get`으로 읽어, 없거나 다른 것만 `kubectl apply -f -` 대상으로 만듭니다.

# %%
with rb.step("계획") as step:
    if verify_only:
        step.skip("verify_only")
    the_plan = steps.make_plan(rb, rendered, cmd_runner)

# %% [markdown]
# ## 4. 적용
#
# 네임스페이스 → Secret → ConfigMap → Deployment → Service → Ingress 순서로 적용합니다(`--plan`이면 기록만).
# 설정이 바뀌면 파드 템플릿의 체크섬 주석이 바뀌어 파드가 다시 뜹니다.

# %%
with rb.step("적용") as step:
    if verify_only:
        step.skip("verify_only")
    steps.apply(rb, the_plan, cmd_runner)
    steps.rollback_help(rb, rendered)

# %% [markdown]
# ## 5. 검증
#
# 파드 Ready, 터널을 통한 `/spark-history/` UI와 CSS/JS, `spark-log/` 접두사(S3 API)를 확인한 뒤,
# 검증용 SparkApplication을 제출해 끝날 때까지 기다리고 History Server가 그 앱을 나열하는지,
# 이벤트 로그가 접두사에 새로 생겼는지 봅니다. 검증 앱 제출은 변경이므로 `--plan`에서는 기록만 합니다.

# %%
with rb.step("검증") as step:
    if not verify or (rb.plan and not verify_only):
        step.skip("verify=false" if not verify else "계획 모드: 설치하지 않았으므로 검증하지 않음")
    checked = steps.verify_history(
        rb,
        steps.cluster(rb, params, tunnel),
        values.from_parameters(values.HistoryServerParams, params),
        params,
    )
    steps.report(rb, checked)

# %%
rb.report()
