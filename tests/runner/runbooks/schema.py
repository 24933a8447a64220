# %% [markdown]
# # 스키마 런북
# 매개변수를 `params_schema`가 가리키는 데이터클래스에서 받는 작은 런북입니다.
#
# ## 준비물
# - 없음

# %% tags=["parameters"]
params_schema = "platform_kb.runner.connection:ConnectionParams"

# %%
from platform_kb import runbook

rb = runbook.start("schema")
with rb.step("매개변수"):
    rb.say(f"{bastion_host} → {node_host}:{ingress_nodeport}")  # noqa: F821 - injected by kb run
