# %% [markdown]
# # 경로 파라미터 런북
# 프로필의 파일 경로와 `file:` 참조, 실수 파라미터를 받습니다. 잘못된 값이면 아무 셀도 실행되지 않아야 합니다.

# %% tags=["parameters"]
kubeconfig: str = ""  # 쿠버네티스 API용 kubeconfig
identity_file: str = ""  # SSH 개인 키 파일
known_hosts: str = ""  # known_hosts 파일
inventory: str = ""  # 호스트 목록 파일 [file]
remote_kubeconfig: str = ""  # 배스천의 경로 (이 머신에서 확인하지 않음)
s3_secret_key_ref: str = ""  # 비밀 키 참조 [secret]
pod_timeout: float = 5.0  # 파드 제한 시간(초) [0.1..]
marker_file: str = ""  # 첫 셀이 만드는 파일 (테스트용)

# %%
from pathlib import Path

from platform_kb import runbook

if marker_file:
    Path(marker_file).write_text("ran")
rb = runbook.start("paths")
rb.say("실행됨")
