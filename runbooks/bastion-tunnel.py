# %% [markdown]
# # 배스천 터널 열고 확인하기
#
# 클러스터에 닿는 길은 하나, 배스천입니다. 이 런북은 `ssh -L 8080:<노드>:30998 <배스천>`을 손으로
# 치는 대신 프로필로 터널을 열고, 그 터널로 **인그레스 NodePort(30998)** 가 HTTP로 답하는지,
# **쿠버네티스 API 서버**가 `/version`(또는 `/healthz`)에 답하는지 확인한 뒤, 같은 터널을 손으로 열
# `ssh -L` 명령을 보여 줍니다. 아무것도 바꾸지 않습니다(읽기 전용).
#
# ## 준비물
#
# - 배스천 접속 프로필: 홈랩 프로필(`profiles/homelab.example.yaml` 참고) 또는 `kb lab up`이 만드는 `lab`
# - 배스천 호스트 키가 들어 있는 known_hosts (정책 `yes`), 처음이라면 `accept-new`
# - 실행 예: `kb run bastion-tunnel --profile lab`, 또는 그냥 `python runbooks/bastion-tunnel.py`
#   (이때는 `profile` 매개변수의 프로필, 기본 `lab`을 읽습니다)
#
# ## 찾는 것 (발견 사항 id)
#
# | id | 뜻 |
# |---|---|
# | `host-key-refused` | 배스천(또는 점프 호스트)의 호스트 키가 known_hosts에 없거나 바뀜 — 접속하지 않음 |
# | `auth-failed` | 배스천이 어떤 키도 받아 주지 않음 |
# | `bastion-unreachable` | 제한 시간 안에 배스천에 SSH로 닿지 못함 |
# | `local-port-in-use` | 로컬 포트를 다른 프로세스가 쓰는 중 (`local_port: 0`이면 빈 포트) |
# | `forward-unreachable` | 배스천에서 노드의 포트로 연결이 거부됨 (터널을 열 때 미리 확인) |
# | `nodeport-no-http` | 인그레스 NodePort가 HTTP로 답하지 않음 |
# | `api-no-answer` | API 서버가 `/version`에도 `/healthz`에도 답하지 않음 |

# %% tags=["parameters"]
profile: str = "lab"  # bastion_host가 비었을 때 매개변수를 채울 프로필 (이름 또는 파일)
bastion_host: str = ""  # 배스천 호스트 (~/.ssh/config의 Host 별칭도 됨, 비우면 profile에서)
bastion_port: int = 22  # 배스천 SSH 포트 [1..65535]
bastion_user: str = ""  # 배스천 사용자 (비우면 ssh_config 또는 $USER)
identity_file: str = ""  # SSH 개인 키 파일 (비우면 ssh_config 또는 에이전트)
known_hosts: str = ""  # 배스천 호스트 키를 확인할 known_hosts 파일 (비우면 ~/.ssh/known_hosts)
host_key_policy: str = "yes"  # 호스트 키 정책 [yes|accept-new]
proxy_jump: str = ""  # 배스천 앞의 점프 호스트 (ssh -J 형식)
node_host: str = ""  # 배스천에서 본 쿠버네티스 노드 주소
ingress_nodeport: int = 30998  # ingress-nginx의 NodePort [1..65535]
api_port: int = 6443  # 노드의 쿠버네티스 API 포트 [1..65535]
local_port: int = 8080  # 인그레스를 열 로컬 포트 (0이면 빈 포트) [0..65535]
kubeconfig: str = ""  # API 서버용 kubeconfig (있으면 그 인증서와 주소 형식을 씀)
timeout: float = 5.0  # HTTP 요청 제한 시간(초) [0.1..]

# %%
import httpx
from kubernetes.client import VersionApi

from platform_kb import kube, runbook
from platform_kb.profiles import load_profile
from platform_kb.tunnel import (
    AuthenticationError,
    BastionUnreachable,
    HostKeyError,
    LocalPortInUse,
    Tunnel,
    TunnelError,
)

rb = runbook.start("bastion-tunnel")
params = dict(
    profile=profile, bastion_host=bastion_host, bastion_port=bastion_port, bastion_user=bastion_user,
    identity_file=identity_file, known_hosts=known_hosts, host_key_policy=host_key_policy,
    proxy_jump=proxy_jump, node_host=node_host, ingress_nodeport=ingress_nodeport, api_port=api_port,
    local_port=local_port, kubeconfig=kubeconfig,
)  # fmt: skip
if not bastion_host:
    params = load_profile(profile).as_parameters()
    rb.say(f"매개변수를 프로필 **`{params['profile']}`** 에서 읽었습니다.")
rb.table(
    [{"매개변수": k, "값": v} for k, v in params.items() if k not in ("profile",)],
    title="접속 정보",
)

# %% [markdown]
# ## 1. 터널 열기
#
# 배스천 하나의 SSH 연결에 포워드 두 개를 싣습니다: 인그레스 `노드:30998` → `127.0.0.1:8080`,
# API 서버 `노드:6443` → 빈 로컬 포트. 호스트 키는 항상 known_hosts로 확인하고(모르는 호스트는 정책
# `yes`에서 거부), 연결하자마자 배스천 쪽에서 두 포트에 실제로 닿는지 미리 찔러 봅니다. 그래서 노드 포트가
# 닫혀 있으면 첫 요청이 아니라 지금 알 수 있습니다.

# %%
ERROR_FINDINGS = {
    HostKeyError: ("host-key-refused", "배스천 호스트 키를 확인하지 못해 접속하지 않았습니다",
                   "지문을 배스천 관리자에게 확인한 뒤 known_hosts에 넣으세요(처음 한 번은 host_key_policy: accept-new)."),
    AuthenticationError: ("auth-failed", "배스천이 키를 받아 주지 않습니다",
                          "identity_file과 배스천의 ~/.ssh/authorized_keys를 확인하세요."),
    BastionUnreachable: ("bastion-unreachable", "배스천에 닿지 못했습니다",
                         "주소·포트·VPN을 확인하세요. `ssh -v`로 같은 주소에 접속해 보면 어디서 막히는지 보입니다."),
    LocalPortInUse: ("local-port-in-use", "로컬 포트를 이미 누군가 쓰고 있습니다",
                     "local_port를 바꾸거나 0(빈 포트)으로 두세요. 이미 떠 있는 `kb tunnel up`이 있는지도 보세요."),
}  # fmt: skip

tunnel = None
with rb.step("터널 열기"):
    try:
        tunnel = Tunnel.from_parameters(params).open()
    except TunnelError as exc:
        finding_id, title, fix = next(v for k, v in ERROR_FINDINGS.items() if isinstance(exc, k))
        rb.finding(id=finding_id, severity="error", title=title, detail=str(exc),
                   evidence={"bastion": f"{params['bastion_host']}:{params['bastion_port']}"}, fix=fix)  # fmt: skip
    if tunnel is not None:
        rb.table(
            [
                {"포워드": name, "로컬 → 원격": tunnel.describe(name), "방식": tunnel.backend}
                for name in tunnel.addresses
            ]
        )
        for probe in tunnel.probes:
            if not probe.ok:
                rb.finding(
                    id="forward-unreachable",
                    severity="error",
                    title=f"배스천에서 {probe.target}에 연결할 수 없습니다 ({probe.name})",
                    detail=probe.detail,
                    evidence={"forward": probe.name, "target": probe.target},
                    fix="노드 주소와 포트(NodePort/API 포트)를 확인하세요. 서비스가 떠 있는지, 배스천에서 "
                    "`nc -vz 노드 포트`로 열리는지 보세요.",
                )
rb.stop_on_errors("터널을 열지 못해 이후 확인을 하지 않습니다.")

# %% [markdown]
# ## 2. 인그레스 NodePort가 HTTP로 답하는지
#
# ingress-nginx는 맞는 규칙이 없는 경로에도 404로 답합니다. 그래서 상태 코드가 무엇이든 **HTTP로 답하면**
# NodePort까지의 길은 열린 것입니다. 연결이 끊기거나 HTTP가 아닌 답이면 문제입니다.

# %%
with rb.step("NodePort HTTP 응답"):
    url = tunnel.url("ingress", "/")
    try:
        response = httpx.get(url, timeout=timeout)
        rb.table([{"주소": url, "상태": response.status_code, "Server": response.headers.get("server", ""),
                   "시간(ms)": round(response.elapsed.total_seconds() * 1000, 1)}])  # fmt: skip
    except httpx.HTTPError as exc:
        rb.finding(
            id="nodeport-no-http",
            severity="error",
            title=f"NodePort {params['ingress_nodeport']}가 HTTP로 답하지 않습니다",
            detail=f"{type(exc).__name__}: {exc}",
            evidence={"url": url, "remote": tunnel.describe("ingress")},
            fix="ingress-nginx 컨트롤러 Service의 NodePort와 파드 상태를 확인하세요.",
        )

# %% [markdown]
# ## 3. API 서버가 답하는지
#
# `kubeconfig`가 있으면 그 인증서로 공식 클라이언트가 `/version`을 읽습니다(서버 주소만 터널 쪽으로 바꿉니다).
# 없으면 `/version`, 그다음 `/healthz`를 HTTPS와 HTTP로 차례로 찔러 봅니다. 이 두 경로는 보통 인증 없이도
# 열려 있습니다(`system:public-info-viewer`).

# %%
with rb.step("API 서버 응답"):
    host, port = tunnel.address("api")
    answers = []
    if kubeconfig := params.get("kubeconfig"):
        try:
            # the tunnel's address with the kubeconfig's scheme (https in the homelab, http in the lab)
            api = kube.api_client_via(kubeconfig, (host, port))
            version = VersionApi(api).get_code()
            answers.append({"요청": "/version (kubeconfig)", "결과": version.git_version})
        except Exception as exc:  # the official client raises many types; all mean "no answer"
            answers.append({"요청": "/version (kubeconfig)", "결과": f"{type(exc).__name__}: {exc}"[:200]})
    if not any(a["결과"].startswith("v") for a in answers):
        for path in ("/version", "/healthz"):
            for scheme in ("https", "http"):
                try:
                    r = httpx.get(f"{scheme}://{host}:{port}{path}", timeout=timeout, verify=False)
                    answers.append(
                        {"요청": f"{scheme} {path}", "결과": f"HTTP {r.status_code} {r.text[:80]!r}"}
                    )
                    break
                except httpx.HTTPError as exc:
                    answers.append({"요청": f"{scheme} {path}", "결과": f"{type(exc).__name__}"})
    rb.table(answers, title="API 서버")
    if not any(a["결과"].startswith(("v", "HTTP")) for a in answers):
        rb.finding(
            id="api-no-answer",
            severity="error",
            title="API 서버가 /version, /healthz 어디에도 답하지 않습니다",
            evidence={"remote": tunnel.describe("api")},
            fix="api_port(기본 6443)와 kube-apiserver 상태를 확인하세요.",
        )

# %% [markdown]
# ## 4. 같은 터널을 손으로 열려면
#
# 런북 없이 브라우저만 쓸 때는 아래 명령이 같은 터널을 엽니다(또는 `kb tunnel up --profile <프로필>`).

# %%
rb.say("```bash\n" + tunnel.equivalent_command() + "\n```")
tunnel.close()
rb.report()
