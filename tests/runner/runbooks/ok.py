# %% [markdown]
# # 테스트 런북
# 성공하는 작은 런북입니다.
#
# ## 준비물
# - 없음

# %% tags=["parameters"]
count: int = 2  # 반복 횟수 [1..10]
name: str = "world"  # 인사할 이름
mode: str = "check"  # 실행 모드 [check|fix]
marker_file: str = ""  # 첫 셀이 만드는 파일 (테스트용)

# %%
from pathlib import Path

from platform_kb import runbook

if marker_file:
    Path(marker_file).write_text("ran")
rb = runbook.start("ok")

# %%
with rb.step("인사"):
    for i in range(count):
        print(f"hello {name} {i}")
    rb.say(f"**{name}** 에게 {count}번 인사했습니다.")

# %%
with rb.step("표"):
    rb.table([{"이름": name, "횟수": count}], title="결과")
    rb.finding(id="just-info", severity="info", title="정보성 발견", detail="설명", fix="없음")
rb.report()
