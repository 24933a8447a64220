# %% [markdown]
# # 터널을 연 채 기다리는 런북
# 배스천 터널을 열고 중단될 때까지 잠듭니다(신호 테스트용).

# %% tags=["parameters"]
bastion_host: str = ""  # 배스천 호스트 [required]
bastion_port: int = 22  # 배스천 SSH 포트 [1..65535]
bastion_user: str = ""  # 배스천 사용자
identity_file: str = ""  # SSH 개인 키 파일
known_hosts: str = ""  # known_hosts 파일
host_key_policy: str = "yes"  # 호스트 키 정책 [yes|accept-new]
proxy_jump: str = ""  # 점프 호스트
node_host: str = ""  # 노드 주소 [required]
ingress_nodeport: int = 30998  # NodePort [1..65535]
api_port: int = 6443  # API 포트 [1..65535]
local_port: int = 0  # 로컬 포트 (0이면 빈 포트) [0..65535]
pid_file: str = ""  # 커널 pid를 적을 파일

# %%
import os
import time
from pathlib import Path

from platform_kb import runbook
from platform_kb.tunnel import Tunnel

rb = runbook.start("slow-tunnel")
with rb.step("터널 열고 기다리기"):
    tunnel = Tunnel.from_parameters(globals()).open()
    Path(pid_file).write_text(f"{os.getpid()} {tunnel.url('ingress')}\n")
    while True:
        time.sleep(3600)
