# %% [markdown]
# # Spark UI 인그레스 진단 (#3-10)
#
# Airflow가 제출한 Spark 잡의 UI가 인그레스(NodePort 30998) 뒤에서 열리지 않을 때, #3-10(배포를 포함해 이틀에
# 걸친 작업)에서 찾은 원인들을 몇 초 만에 근거와 함께 찾고 무엇을 바꿀지 알려 줍니다: Airflow가 붙인 이름 접미사,
# 실제 Ingress 경로와 다른 주소, 드라이버가 끝나서 나는 503, `spark.ui.proxyBase`가 `/`라서 생기는
# `//jobs/` 리다이렉트와 깨진 CSS/JS, proxyBase와 Ingress 접두사의 불일치, rewrite-target 누락,
# 모든 경로를 `/`로 보내는 rewrite(#3-10에 적힌 수정 그대로)와 무한 리다이렉트.
# "정상"은 알려진 문제가 없다는 뜻이 아니라 **브라우저처럼 확인해서 동작했다**는 뜻입니다: 접두사 주소의
# 리다이렉트를 브라우저처럼 따라가 접두사 안의 200 HTML 페이지에 닿고, 그 페이지의 CSS/JS가 모두 200과
# HTML이 아닌 형식으로 로드될 때만 정상이라고 하고, 지금 동작하는 주소도 같은 확인에서 나옵니다.
# 동작하지 않는데 알려진 원인이 없으면 `ui-broken-unexplained`로 근거와 함께 알립니다.
# 고칠 곳은 값이 나온 곳으로 알려 줍니다(DAG의 sparkConf, 오퍼레이터의 Helm 값, Ingress annotation)
# — 발견 사항마다 기계가 읽는 remedy도 붙습니다. 아무것도 바꾸지 않습니다(읽기 전용).
#
# ## 준비물
#
# - 배스천 접속 프로필: 홈랩 프로필 또는 `kb lab up`이 만드는 `lab` 프로필 (`--profile lab`)
# - 그 프로필의 `kubeconfig`: SparkApplication, Service, Ingress, EndpointSlice, Pod를 읽을 권한
# - 실행 예: `kb run spark-ui-ingress --profile lab -p app_name long-test`
#   (사용자가 시도한 주소가 있으면 `-p url http://127.0.0.1:8080/long-test-jhcjbr18/`)
#
# ## 찾는 것 (발견 사항 id)
#
# | id | 뜻 |
# |---|---|
# | `app-name-suffix` | 실행 중인 앱 이름이 DAG 이름 + Airflow 난수 접미사(`-xxxxxxxx`) |
# | `ingress-path-mismatch` | 시도한 주소(`url`)가 Ingress 경로와 맞지 않음 |
# | `no-ready-endpoints` | UI Service에 준비된 엔드포인트가 없음 → 503 (드라이버 종료 등) |
# | `proxybase-root` | proxyBase가 `/` → `Location: //jobs/`, CSS/JS가 `//static/...` (DAG의 sparkConf 또는 urlFormat) |
# | `proxybase-mismatch` | proxyBase가 Ingress 접두사와 다름 → 링크와 CSS/JS가 인그레스 밖 |
# | `missing-rewrite` | Ingress 경로에 접두사가 있는데 rewrite-target이 없음 |
# | `rewrite-to-single-target` | `rewrite-target: /`처럼 캡처 그룹 없는 rewrite → 모든 경로가 `/`, 무한 리다이렉트 |
# | `redirect-loop` | 위 원인 없이 리다이렉트가 반복되거나 10번을 넘음 |
# | `x-forwarded-prefix-ignored` | `x-forwarded-prefix`는 Spark가 읽지 않음 (UI가 동작하면 info) |
# | `static-assets-broken` | 페이지가 참조하는 CSS/JS가 터널로 로드되지 않음 |
# | `ui-broken-unexplained` | 브라우저처럼 보면 동작하지 않는데 알려진 원인이 없음 (근거 포함) |
# | `app-not-found`, `ingress-not-found` | 앱 또는 그 UI Ingress가 없음 |
#
# ## 진단 → 고침 → 확인
#
# 로컬 랩에서는 기록의 remedy를 그대로 적용해 고침이 실제로 고치는지 볼 수 있습니다
# ([로컬 랩](../docs/lab.md)의 `kb lab apply-fix`):
#
# ```console
# $ kb lab up --scenario handset-proxybase       # #3-10에서 가장 그럴듯한 설정: DAG의 sparkConf에 proxyBase=/
# $ kb run spark-ui-ingress --profile lab        # 종료 코드 1: proxybase-root — 고칠 곳은 DAG의 sparkConf
# $ kb lab apply-fix runs/spark-ui-ingress/latest  # sparkConf에서 spark.ui.proxyBase를 지우고 다시 제출, 수렴까지 대기
# $ kb run spark-ui-ingress --profile lab        # 종료 코드 0: 페이지와 모든 CSS/JS가 브라우저처럼 로드됨
# ```
#
# `literal-fix`(#3-10에 적힌 `rewrite-target: /` + `x-forwarded-prefix`)는 Ingress annotation을, `proxybase-root`는
# 오퍼레이터의 Helm 값 urlFormat을 고쳐 같은 순환을 거칩니다. 이 세 순환은 테스트(`tests/spark_ui/test_e2e_lab.py`)가
# 매번 끝까지 돌려 확인합니다.

# %% tags=["parameters"]
params_schema = "platform_kb.runner.connection:ConnectionParams"  # the profile's connection parameters
namespace: str = "spark"  # SparkApplication이 있는 네임스페이스 [required]
app_name: str = "long-test"  # DAG에 적은 애플리케이션 이름 (Airflow 접미사 없이) [required]
url: str = ""  # 사용자가 브라우저에 넣어 본 주소 (선택, 예: http://127.0.0.1:8080/long-test-jhcjbr18/)
history_server_url: str = ""  # History Server 위치 (비우면 인그레스의 /spark-history/)

# %%
from platform_kb import runbook
from platform_kb.checks import spark_ui as ui
from platform_kb.probes import Prober
from platform_kb.runner.connection import ConnectionParams
from platform_kb.runner.params import build
from platform_kb.tunnel import Tunnel

rb = runbook.start("spark-ui-ingress")
kubeconfig = build(ConnectionParams, globals()).kubeconfig  # the connection parameters kb run injected
obs = ui.Observations(namespace=namespace, app_name=app_name, url=url)

# %% [markdown]
# ## 1. 터널 열기
#
# 배스천을 거쳐 노드의 인그레스(NodePort)와 쿠버네티스 API를 로컬 포트로 엽니다(`ssh -N -L`과 같음).
# 배스천 호스트 키는 항상 known_hosts로 확인합니다. 이후의 모든 요청은 이 터널의 로컬 끝(127.0.0.1)으로만 갑니다.

# %%
with rb.step("터널 열기"):
    tunnel = Tunnel.from_parameters(globals()).open()  # the profile parameters declared above
    obs.base_url = tunnel.url("ingress")
    reader = ui.KubeReader(ui.api_client_through(kubeconfig, tunnel.address("api")))
    prober = Prober()
    rb.table(ui.forward_rows(tunnel))

# %% [markdown]
# ## 2. SparkApplication 찾기
#
# DAG의 이름 그대로이거나, Airflow `SparkKubernetesOperator(random_name_suffix=True)`가 붙이는
# `-` + 8자리 `[a-z0-9]` 접미사가 달린 SparkApplication을 찾습니다. 네임스페이스의 앱을 **한 번의 LIST**로
# 읽어 이름 규칙으로 거르므로, 앱이 1,000개여도 API 호출 수는 같습니다. 가장 최근 것부터 보여 주고, 그것을 진단합니다.

# %%
with rb.step("SparkApplication 찾기"):
    ui.find_applications(reader, obs)
    rb.table(ui.app_rows(obs), title=f"`{namespace}`의 `{app_name}` 후보 (최신순)")
    rb.say(
        f"진단할 앱: **`{obs.app.name}`**" if obs.app else f"`{app_name}`에 맞는 SparkApplication이 없습니다."
    )

# %% [markdown]
# ## 3. UI Service와 Ingress (라벨로)
#
# spark-operator는 앱마다 `<앱>-ui-svc` Service와 `<앱>-ui-ingress` Ingress를 만들지만, 이름이 63자를 넘으면
# 잘라서 해시를 넣습니다. 그래서 이름을 다시 만들지 않고 라벨 `sparkoperator.k8s.io/app-name=<앱>`으로 찾습니다.
# Ingress는 `kubectl describe ingress`처럼 보여 줍니다(host, path, pathType, backend, annotations).

# %%
with rb.step("UI Service와 Ingress 찾기") as step:
    if obs.app is None:
        step.skip("진단할 앱이 없음")
    ui.collect_ui_objects(reader, obs)
    rb.table(ui.service_rows(obs), title="UI Service")
    if obs.ingress:
        rb.table(ui.ingress_rows(obs), title="UI Ingress")
        rb.say("```text\n" + ui.describe_ingress(obs.ingress) + "\n```")
    else:
        rb.say("라벨에 맞는 UI Ingress가 없습니다.")

# %% [markdown]
# ## 4. 엔드포인트와 드라이버 파드
#
# ingress-nginx는 Service에 준비된(ready) 엔드포인트가 없으면 503을 돌려줍니다. 드라이버가 끝나면 엔드포인트가 비웁니다.

# %%
with rb.step("엔드포인트와 드라이버 파드") as step:
    if obs.app is None:
        step.skip("진단할 앱이 없음")
    ui.collect_backends(reader, obs)
    rb.table(ui.endpoint_rows(obs))
    rb.table(ui.driver_rows(obs), title="드라이버 파드")
    rb.table(ui.api_call_rows(reader.calls), title="이번 실행의 쿠버네티스 API 호출")

# %% [markdown]
# ## 5. `spark.ui.proxyBase`와 `spark.ui.proxyRedirectUri`
#
# 기대값은 앱의 `sparkConf`(DAG가 제출한 값)에 spark-operator v2.3+ 규칙(urlFormat에 경로가 있으면, 설정이
# 없을 때만 proxyBase=경로, proxyRedirectUri=`/`; 경로가 정확히 `/`이면 `/`, 경로가 전혀 없으면 아무것도 넣지 않음)을
# 더한 것입니다. v2.2.0까지는 앱의 값을 덮어썼고, v2.2.1만 값을 드라이버에 전달하지 못했습니다(issue #2597). 드라이버가 살아 있으면 Spark REST API
# `/api/v1/applications/<id>/environment`로 드라이버가 **실제로** 가진 값을 인그레스를 거쳐 읽습니다.

# %%
with rb.step("proxyBase 읽기") as step:
    if obs.app is None:
        step.skip("진단할 앱이 없음")
    if not obs.driver_gone:
        ui.read_driver_conf(prober, obs)
    rb.table(ui.conf_rows(obs))
    if obs.driver_conf is None:
        rb.say("드라이버 REST API를 인그레스로 읽지 못해 기대값을 씁니다.")

# %% [markdown]
# ## 6. 터널로 HTTP 확인
#
# 브라우저가 하는 그대로 확인합니다: 접두사 주소에서 시작해 `Location`을 브라우저처럼 풀어 한 번씩 따라가고
# (같은 주소가 다시 나오면 무한 리다이렉트, 최대 10번), 닿은 페이지의 `<link rel=stylesheet>`와 `<script src>`를
# 페이지 주소(`<base href>` 포함) 기준으로 풀어 하나씩 요청합니다. 이 한 번의 확인이 판정과 "지금 동작하는 주소"를 정합니다.
# `//jobs/`, `//static/...`처럼 `//`로 시작하는 주소는 **다른 호스트**(`jobs`, `static`)를 뜻하므로 요청하지 않고 깨진 것으로 봅니다.

# %%
with rb.step("터널로 HTTP 확인") as step:
    if obs.ingress is None and not url:
        step.skip("요청할 Ingress 경로도, 시도한 주소도 없음")
    ui.probe_ui(prober, obs)
    rb.table(ui.page_rows(obs), title="브라우저처럼: 리다이렉트를 따라간 페이지와 CSS/JS (판정)")
    rb.table(ui.probe_rows(obs), title="요청과 응답 하나씩 (근거)")
    if obs.assets:
        rb.table(ui.asset_rows(obs), title=ui.assets_title(obs))

# %% [markdown]
# ## 7. History Server (드라이버가 없을 때)
#
# 드라이버가 끝났거나 엔드포인트가 없으면, History Server REST API `/api/v1/applications`에서 앱을 찾아
# 그 UI 주소를 확인합니다. 기본 위치는 인그레스의 `/spark-history/`입니다.

# %%
with rb.step("History Server 확인") as step:
    if obs.app is None or not obs.driver_gone:
        step.skip("드라이버가 살아 있음" if obs.app else "진단할 앱이 없음")
    rb.table(ui.history_rows(ui.lookup_history(prober, obs, history_server_url)))

# %% [markdown]
# ## 8. 진단
#
# 근거가 성립하는 발견 사항만 기록합니다. 여러 개가 동시에 성립할 수 있습니다(예: proxyBase가 `/`이면 CSS/JS도 깨짐).
# 정상 판정과 "지금 동작하는 주소"는 6단계의 같은 확인에서 나오므로 서로 어긋나지 않습니다.

# %%
with rb.step("진단"):
    findings = ui.diagnose(obs)
    for f in findings:
        rb.finding(**f.as_finding())
    for line in ui.verdict(obs, findings).lines():
        rb.say(line)

# %%
prober.close()
tunnel.close()
rb.report()
