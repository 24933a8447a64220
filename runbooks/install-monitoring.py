# %% [markdown]
# # 모니터링 설치: node-exporter, Prometheus Operator, Grafana (#3-11)
#
# #3-10의 차기 과제인 **호스트부터 클러스터까지의 모니터링**을 설치합니다.
#
# - 클러스터: Helm 차트 **kube-prometheus-stack**(Prometheus Operator, Prometheus, Alertmanager, Grafana,
#   kube-state-metrics, 클러스터 노드의 node-exporter DaemonSet)
# - 클러스터 밖 호스트(Proxmox 미니 PC 6대, 데스크톱): 호스트 목록(`inventory`)의 각 호스트에 배스천을 거쳐
#   SSH로 접속해 Debian 패키지 `prometheus-node-exporter`를 systemd 유닛으로 설치하고, Prometheus가
#   `additionalScrapeConfigs`의 잡 `hosts`로 스크레이프하게 합니다(라벨 `host`, `role`).
# - 노출: 인그레스(NodePort 30998, 배스천 터널)에서 Grafana는 `/grafana`(`root_url`에 하위 경로 +
#   `serve_from_sub_path: true`), Prometheus는 `/prometheus`(`routePrefix` + `externalUrl`).
#   #3-10의 Spark UI와 같은 종류의 문제(접두사 밖으로 나가는 리다이렉트, 깨지는 CSS/JS)를 값 검사와 검증으로 막습니다.
#
# **순서:** 값 렌더링과 검사 → 호스트 목록 → 터널 → 계획(클러스터: `helm`/`kubectl`, 호스트: SSH로 읽은 사실)
# → 적용(`--plan`이면 기록만) → 검증(파드 Ready, Prometheus UI, **모든 타깃 up**, Grafana 하위 경로).
# 두 번째 적용은 "변경 없음"입니다.
#
# **되돌리기:** `helm rollback kube-prometheus-stack --namespace monitoring`(이전 리비전),
# `helm uninstall kube-prometheus-stack --namespace monitoring`(제거; CRD는 남음). 호스트의 node-exporter는
# `sudo systemctl disable --now prometheus-node-exporter`로 멈춥니다.
#
# 이 페이지 아래 **공개된 실행 기록**에 최근 기록이 무엇을 했는지(단계, 발견 사항, 계획한 명령)가 나옵니다.
#
# ## 준비물
#
# - 배스천 접속 프로필과 그 `kubeconfig`, `runner`에 따라 이 머신 또는 배스천에 `helm`과 `kubectl`
# - 호스트 목록 파일(프로필의 `inventory:`, 예: `profiles/hosts.example.yaml`) — 각 호스트의 호스트 키가
#   known_hosts에 있고, root가 아니면 암호 없는 `sudo`가 될 것
# - Grafana 관리자 암호를 담은 환경 변수(기본 `GRAFANA_ADMIN_PASSWORD`) 또는 파일 — 매개변수에는 참조만
# - 실행 예: `kb run install-monitoring --profile homelab --plan`으로 계획을 본 뒤 `--plan` 없이 적용

# %% tags=["parameters"]
params_schema = "platform_kb.install.monitoring:Params"  # the parameters: `kb run install-monitoring --help`

# %%
from platform_kb.install import monitoring, pipeline

job = pipeline.start("install-monitoring", monitoring.COMPONENT, globals())

# %% [markdown]
# ## 1. 값 렌더링과 검사
#
# kube-prometheus-stack values를 만들고 검사합니다: 모르는 키(오타 제안), Grafana `root_url`의 경로와 인그레스
# 경로, `serve_from_sub_path`와 rewrite, Prometheus `routePrefix`/`externalUrl`, 보존 기간 형식, 관리자 암호가
# 값에 직접 들어갔는지, 호스트의 exporter 포트. 오류가 하나라도 있으면 아무것도 바꾸지 않고 멈춥니다.

# %%
job.render()

# %% [markdown]
# ## 2. 호스트 목록
#
# node-exporter를 설치하고 Prometheus가 스크레이프할 클러스터 밖 호스트입니다. 각 호스트에는 배스천을 거쳐(ProxyJump)
# 접속하고 호스트 키를 known_hosts로 확인합니다.

# %%
job.host_list()

# %% [markdown]
# ## 3. 터널과 실행기
#
# 배스천을 거쳐 인그레스와 쿠버네티스 API를 엽니다(호스트 키는 known_hosts로 확인). helm과 kubectl은
# `runner`에 따라 이 머신 또는 배스천에서 실행합니다.

# %%
job.connect()

# %% [markdown]
# ## 4. 계획: 클러스터
#
# `helm repo list`, `helm status`, `helm get values`, `kubectl get`으로 사실을 읽어, 없거나 다른 것만 바꿀 대상으로
# 만듭니다. 차트의 `values.schema.json`이 있으면 `helm template`으로도 검사합니다.

# %%
job.plan()

# %% [markdown]
# ## 5. 계획: 호스트
#
# 호스트마다 SSH로 패키지 상태(`dpkg-query`), 유닛 상태(`systemctl is-enabled`/`is-active`),
# `/etc/default/prometheus-node-exporter`의 `ARGS`를 읽고, 다른 것만 바꿀 대상으로 만듭니다.
# 닿지 않는 호스트나 암호 없는 sudo가 안 되는 호스트가 하나라도 있으면 적용 때 어떤 호스트도 바꾸지 않습니다.

# %%
job.plan_hosts()

# %% [markdown]
# ## 6. 적용
#
# 클러스터: Namespace → 관리자 Secret → `helm upgrade --install`. 호스트: 설치 → 설정 파일 → `systemctl enable --now`
# (설정이 바뀌었으면 재시작). `--plan`이면 모두 기록만 합니다.

# %%
job.apply()

# %% [markdown]
# ## 7. 검증
#
# 터널을 통해: Operator·Prometheus·Grafana 파드 Ready, `/prometheus/` UI와 CSS/JS, Prometheus HTTP API
# (`/api/v1/targets`)의 **모든 타깃이 up**인지(목록의 호스트가 모두 잡 `hosts`에 있는지 포함), Grafana가
# `/grafana/` 아래에서 리다이렉트·페이지·CSS/JS·`/api/health`를 접두사 안에서 내는지. down인 타깃은 잡에 맞는
# 해결 방법과 함께 발견 사항으로 남깁니다.

# %%
job.verify()

# %%
job.report()
