# %% [markdown]
# # 실패하는 런북
# 두 번째 단계에서 예외가 납니다.

# %% tags=["parameters"]
marker_dir: str = ""  # 셀이 흔적을 남기는 폴더

# %%
from pathlib import Path

from platform_kb import runbook

rb = runbook.start("fail")
with rb.step("준비"):
    if marker_dir:
        (Path(marker_dir) / "first").write_text("ran")

# %%
with rb.step("망가지는 단계"):
    print("before the error")
    raise ValueError("boom-from-the-runbook")

# %%
if marker_dir:
    (Path(marker_dir) / "after").write_text("ran")
