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
bastion_host: str = ""  # 배스천 호스트 (~/.ssh/config의 Host 별칭도 됨) [required]
bastion_port: int = 22  # 배스천 SSH 포트 [1..65535]
bastion_user: str = ""  # 배스천 사용자 (비우면 ssh_config 또는 $USER)
identity_file: str = ""  # SSH 개인 키 파일 (비우면 ssh_config 또는 에이전트)
known_hosts: str = ""  # 배스천과 호스트의 호스트 키를 확인할 known_hosts 파일
host_key_policy: str = "yes"  # 호스트 키 정책 [yes|accept-new]
proxy_jump: str = ""  # 배스천 앞의 점프 호스트 (ssh -J)
node_host: str = ""  # 배스천에서 본 쿠버네티스 노드 주소 [required]
ingress_nodeport: int = 30998  # ingress-nginx의 NodePort [1..65535]
api_port: int = 6443  # 노드의 쿠버네티스 API 포트 [1..65535]
local_port: int = 8080  # 인그레스를 열 로컬 포트 (0이면 빈 포트) [0..65535]
kubeconfig: str = ""  # 쿠버네티스 API용 kubeconfig (서버 주소는 터널로 바꿔 씀) [required]
runner: str = "local"  # helm/kubectl을 실행할 곳: 이 머신(터널 경유) 또는 배스천(SSH) [local|bastion]
bastion_kubeconfig: str = ""  # runner가 `bastion`일 때 배스천의 kubeconfig 경로 (비우면 배스천의 기본값)
inventory: str = ""  # 호스트 목록 YAML (프로필의 inventory; 비우면 클러스터 밖 호스트는 건너뜀)
hosts: str = ""  # 목록 중 이번에 다룰 호스트 이름 (쉼표로 구분, 비우면 전부)
install_hosts: bool = True  # 호스트에 node-exporter 설치 (false면 스크레이프 설정만)
host_sudo: str = "auto"  # 호스트에서 root 권한: root가 아니면 sudo -n(auto) [auto|always|never]
exporter_extra_args: str = ""  # node-exporter에 더 줄 플래그 (공백으로 구분, 예: --collector.systemd)
release: str = "kube-prometheus-stack"  # Helm 릴리스 이름
namespace: str = "monitoring"  # 네임스페이스
chart_version: str = "81.4.5"  # kube-prometheus-stack 차트 버전 (고정)
ingress_class: str = "nginx"  # Ingress의 ingressClassName
prometheus_path: str = "/prometheus"  # Prometheus의 인그레스 경로 (routePrefix)
grafana_path: str = "/grafana"  # Grafana의 인그레스 경로
external_url_base: str = (
    "http://localhost:8080"  # 브라우저가 터널로 여는 주소 (Prometheus externalUrl의 앞부분)
)
grafana_root_url: str = ""  # Grafana root_url (비우면 external_url_base + grafana_path + /)
serve_from_sub_path: bool = True  # Grafana server.serve_from_sub_path
retention: str = "15d"  # Prometheus 보존 기간
retention_size: str = ""  # Prometheus 보존 크기 (예: 40GB, 비우면 제한 없음)
storage_class: str = ""  # Prometheus PVC의 StorageClass (비우면 클러스터 기본값)
storage_size: str = ""  # Prometheus PVC 크기 (예: 50Gi, 비우면 emptyDir: 파드가 다시 뜨면 데이터가 사라짐)
grafana_admin_user: str = "admin"  # Grafana 관리자 사용자 이름 (비밀 아님, Secret에 암호와 함께 저장)
grafana_admin_password_ref: str = "env:GRAFANA_ADMIN_PASSWORD"  # Grafana 관리자 암호 [secret]
grafana_admin_secret: str = "grafana-admin"  # 관리자 계정 Secret 이름 (grafana.admin.existingSecret)
cluster_node_exporter: bool = True  # 클러스터 노드의 node-exporter DaemonSet (nodeExporter.enabled)
hosts_job: str = "hosts"  # 호스트 node-exporter의 스크레이프 잡 이름
hosts_scrape_interval: str = ""  # 호스트 잡의 스크레이프 주기 (비우면 Prometheus 전역값)
extra_values: str = ""  # 더 얹을 Helm values (JSON 또는 YAML)
verify: bool = True  # 적용 후 검증
verify_only: bool = False  # 설치 없이 검증만
check_pods: bool = True  # Operator, Prometheus, Grafana 파드 Ready 확인
pod_timeout: float = 300.0  # 파드 Ready를 기다릴 최대 시간(초) [1..]
targets_timeout: float = 180.0  # 모든 타깃이 up이 되기를 기다릴 최대 시간(초) [1..]

# %%
from platform_kb import runbook
from platform_kb.install import steps, values
from platform_kb.tunnel import Tunnel

rb = runbook.start("install-monitoring")
params = steps.parameters(globals())

# %% [markdown]
# ## 1. 값 렌더링과 검사
#
# kube-prometheus-stack values를 만들고 검사합니다: 모르는 키(오타 제안), Grafana `root_url`의 경로와 인그레스
# 경로, `serve_from_sub_path`와 rewrite, Prometheus `routePrefix`/`externalUrl`, 보존 기간 형식, 관리자 암호가
# 값에 직접 들어갔는지, 호스트의 exporter 포트. 오류가 하나라도 있으면 아무것도 바꾸지 않고 멈춥니다.

# %%
with rb.step("값 렌더링과 검사") as step:
    if verify_only:
        step.skip("verify_only: 설치 단계를 건너뜀")
    rendered = steps.render(rb, "kube-prometheus-stack", params)

# %% [markdown]
# ## 2. 호스트 목록
#
# node-exporter를 설치하고 Prometheus가 스크레이프할 클러스터 밖 호스트입니다. 각 호스트에는 배스천을 거쳐(ProxyJump)
# 접속하고 호스트 키를 known_hosts로 확인합니다.

# %%
with rb.step("호스트 목록") as step:
    host_inventory = steps.monitoring_inventory(params)
    if host_inventory is None:
        step.skip("inventory가 없어 클러스터 밖 호스트는 다루지 않음")
    steps.show_inventory(rb, host_inventory)

# %% [markdown]
# ## 3. 터널과 실행기
#
# 배스천을 거쳐 인그레스와 쿠버네티스 API를 엽니다(호스트 키는 known_hosts로 확인). helm과 kubectl은
# `runner`에 따라 이 머신 또는 배스천에서 실행합니다.

# %%
with rb.step("터널과 실행기"):
    tunnel = Tunnel.from_parameters(steps.connection(params)).open()
    rb.table([{"포워드": name, "로컬 → 원격": tunnel.describe(name)} for name in tunnel.addresses])
    cmd_runner = None if verify_only else steps.make_runner(params, tunnel)

# %% [markdown]
# ## 4. 계획: 클러스터
#
# `helm repo list`, `helm status`, `helm get values`, `kubectl get`으로 사실을 읽어, 없거나 다른 것만 바꿀 대상으로
# 만듭니다. 차트의 `values.schema.json`이 있으면 `helm template`으로도 검사합니다.

# %%
with rb.step("계획: 클러스터") as step:
    if verify_only:
        step.skip("verify_only")
    the_plan = steps.make_plan(rb, rendered, cmd_runner)

# %% [markdown]
# ## 5. 계획: 호스트
#
# 호스트마다 SSH로 패키지 상태(`dpkg-query`), 유닛 상태(`systemctl is-enabled`/`is-active`),
# `/etc/default/prometheus-node-exporter`의 `ARGS`를 읽고, 다른 것만 바꿀 대상으로 만듭니다.
# 닿지 않는 호스트나 암호 없는 sudo가 안 되는 호스트가 하나라도 있으면 적용 때 어떤 호스트도 바꾸지 않습니다.

# %%
with rb.step("계획: 호스트") as step:
    if verify_only or not install_hosts or host_inventory is None:
        step.skip("verify_only" if verify_only else "install_hosts=false 또는 inventory 없음")
    hosts_plan = steps.plan_hosts(rb, params, host_inventory)

# %% [markdown]
# ## 6. 적용
#
# 클러스터: Namespace → 관리자 Secret → `helm upgrade --install`. 호스트: 설치 → 설정 파일 → `systemctl enable --now`
# (설정이 바뀌었으면 재시작). `--plan`이면 모두 기록만 합니다.

# %%
with rb.step("적용") as step:
    if verify_only:
        step.skip("verify_only")
    steps.apply(rb, the_plan, cmd_runner)
    if install_hosts and host_inventory is not None:
        steps.apply_hosts(rb, hosts_plan)
    steps.rollback_help(rb, rendered)

# %% [markdown]
# ## 7. 검증
#
# 터널을 통해: Operator·Prometheus·Grafana 파드 Ready, `/prometheus/` UI와 CSS/JS, Prometheus HTTP API
# (`/api/v1/targets`)의 **모든 타깃이 up**인지(목록의 호스트가 모두 잡 `hosts`에 있는지 포함), Grafana가
# `/grafana/` 아래에서 리다이렉트·페이지·CSS/JS·`/api/health`를 접두사 안에서 내는지. down인 타깃은 잡에 맞는
# 해결 방법과 함께 발견 사항으로 남깁니다.

# %%
with rb.step("검증") as step:
    if not verify or (rb.plan and not verify_only):
        step.skip("verify=false" if not verify else "계획 모드: 설치하지 않았으므로 검증하지 않음")
    checked = steps.verify_monitoring(
        rb,
        steps.cluster(rb, params, tunnel),
        values.from_parameters(values.MonitoringParams, params),
        params,
        host_inventory,
    )
    steps.report(rb, checked)

# %%
rb.report()
