# %% [markdown]
# # 점검 런북
# 점검이 실패하면 오류 발견 사항을 남깁니다.

# %% tags=["parameters"]
healthy: bool = True  # 대상이 정상인지
stop: bool = False  # 오류가 있으면 중단할지
sleep_seconds: float = 0.0  # 잠깐 멈추기 (제한 시간 시험용) [0..60]

# %%
import time

from platform_kb import runbook

rb = runbook.start("check")
with rb.step("상태 점검"):
    time.sleep(sleep_seconds)
    if not healthy:
        rb.finding(
            id="target-down",
            severity="error",
            title="대상이 응답하지 않음",
            detail="503",
            evidence={"status": "503 Service Unavailable"},
            fix="드라이버를 다시 시작",
        )
if stop:
    rb.stop_on_errors()

# %%
with rb.step("다음 단계"):
    print("next")
