# %% [markdown]
# # Spark Operator 설치 (#3-10)
#
# kubeflow **spark-operator** Helm 차트를 설치(또는 업그레이드)하고, 잡마다 Spark UI용 Ingress가
# `/spark-ui/<네임스페이스>/<앱>` 경로로 생기도록 `controller.uiIngress`를 켭니다. #3-10에서 손으로 한
# 설치를 같은 값으로 되풀이하고, 바꾸기 전에 계획을 보여 주며, 끝나면 실제로 동작하는지 확인합니다.
#
# **무엇을 설치하나**
#
# | 항목 | 값 |
# |---|---|
# | 차트 | `spark-operator/spark-operator` (<https://kubeflow.github.io/spark-operator>) |
# | 고정 버전 | **2.4.0** — 2.3.0 미만은 거부 (2.2.1은 드라이버가 `spark.ui.proxyBase`를 못 받음 — kubeflow/spark-operator #2597 → PR #2599; 2.2.0까지는 앱이 정한 값을 덮어씀 — #1772) |
# | 핵심 values | `controller.uiIngress.enable: true`, `urlFormat: /spark-ui/{{$appNamespace}}/{{$appName}}`, `ingressClassName: nginx`, `spark.jobNamespaces: [spark]` |
# | 이 런북이 만드는 것 | 잡 네임스페이스(`spark`), Helm 릴리스 `spark-operator` |
#
# **순서:** values 렌더링과 검사 → 계획(정확한 `helm` / `kubectl` 명령과 values) → 적용 → 검증
# (오퍼레이터 파드 Ready, 검증용 SparkApplication의 UI Ingress 경로, 터널을 통한 UI와 CSS/JS).
# 두 번째 적용은 아무것도 바꾸지 않고 "변경 없음"이라고 알려 줍니다. `kb run install-spark-operator --plan`은
# 계획만 보여 줍니다.
#
# **되돌리기:** `helm rollback spark-operator --namespace spark-operator` (직전 리비전으로),
# `helm uninstall spark-operator --namespace spark-operator` (제거; CRD는 남으므로 필요하면 직접 지웁니다).
#
# 이 페이지 아래 **공개된 실행 기록**에 최근 기록이 무엇을 검증했는지(단계, 발견 사항, 실행한 명령)가 나옵니다.
#
# ## 준비물
#
# - 배스천 접속 프로필(홈랩 프로필 또는 `kb lab up`이 만드는 `lab`)과 그 `kubeconfig`(클러스터 관리자 권한)
# - `runner=local`이면 이 머신에, `runner=bastion`이면 배스천에 `helm`(3.x)과 `kubectl`
# - 실행 예: `kb run install-spark-operator --profile homelab --plan`으로 계획을 본 뒤 `--plan` 없이 적용

# %% tags=["parameters"]
params_schema = (
    "platform_kb.install.spark_operator:Params"  # the parameters: `kb run install-spark-operator --help`
)

# %%
from platform_kb.install import pipeline, spark_operator

job = pipeline.start("install-spark-operator", spark_operator.COMPONENT, globals())

# %% [markdown]
# ## 1. values 렌더링과 검사
#
# 매개변수로 Helm values를 만들고, 바꾸기 전에 프로젝트 자체 검사를 합니다: 모르는(오타) 키와 가장 가까운 키,
# 경로 없는 `urlFormat`, `proxyBase`가 `/`가 되는 `urlFormat`(→ `//jobs/`), 2.3.0 미만 차트.
# 하나라도 오류면 아무것도 바꾸지 않고 멈춥니다.

# %%
job.render()

# %% [markdown]
# ## 2. 터널과 실행기
#
# 배스천을 거쳐 인그레스(NodePort)와 쿠버네티스 API를 로컬 포트로 엽니다. 배스천 호스트 키는 항상 known_hosts로
# 확인합니다. helm/kubectl은 `runner`에 따라 이 머신(터널의 API 주소를 가리키는 kubeconfig)이나 배스천(SSH)에서 실행합니다.

# %%
job.connect()

# %% [markdown]
# ## 3. 계획
#
# `helm repo list`, `helm status`, `helm get values`, `kubectl get`으로 지금 상태를 읽고, 다른 곳만 명령으로 만듭니다.
# 표의 명령이 적용 단계에서 그대로(같은 순서로) 실행됩니다.

# %%
job.plan()

# %% [markdown]
# ## 4. 적용
#
# 계획의 명령을 하나씩 실행합니다(`--plan`이면 기록만). 바꿀 것이 없으면 "변경 없음"이라고 알려 줍니다.

# %%
job.apply()

# %% [markdown]
# ## 5. 검증
#
# 오퍼레이터 파드가 Ready인지, 검증용 SparkApplication에 `urlFormat`대로의 UI Ingress가 생기는지(라벨로 찾음),
# 터널을 통해 그 경로의 Spark UI와 CSS/JS가 열리는지 확인합니다. 검증 앱 제출은 변경이므로 `--plan`에서는 기록만 합니다.

# %%
job.verify()

# %%
job.report()
