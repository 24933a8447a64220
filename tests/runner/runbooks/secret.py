# %% [markdown]
# # 비밀 값 런북
# 비밀 값을 일부러 여러 방식으로 출력합니다. 기록에는 남지 않아야 합니다.

# %% tags=["parameters"]
token: str = "env:KB_TEST_TOKEN"  # 테스트 토큰 [required] [secret]
extra_ref: str = ""  # 셀 안에서 직접 푸는 두 번째 비밀 (env:NAME)

# %%
import base64
import os
import sys

from platform_kb import runbook

rb = runbook.start("secret")
value = rb.secret(token)
with rb.step(f"토큰 길이 {len(value)}"):
    print("token is", value)
    print("stderr token", value, file=sys.stderr)
    print(repr({"token": value}))
    print(base64.b64encode(value.encode()).decode())
    os.system(f"echo fd-level {value}")
    rb.say(f"토큰: `{value}`")
    rb.table([{"key": "token", "value": value}])
    rb.finding(
        id="token-seen",
        severity="info",
        title=f"토큰 {value}",
        detail=value,
        evidence={"token": value},
        fix=value,
    )
    if extra_ref:
        other = rb.secret(extra_ref)
        print("other is", other)

# %%
value
