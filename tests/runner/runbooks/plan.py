# %% [markdown]
# # 계획 모드 런북
# 변경은 모두 선언된 작업으로 합니다.

# %% tags=["parameters"]
workdir: str = "."  # 파일을 만들 폴더

# %%
import json
from pathlib import Path

from platform_kb import runbook

rb = runbook.start("plan")
work = Path(workdir)
with rb.step("읽기 전용 점검"):
    (work / "checked").write_text("yes")
    rb.say(f"계획 모드: {rb.plan}")

# %%
with rb.step("변경"):
    rb.action("파일 만들기", command=["touch", str(work / "created-by-command")])
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo"}}
    rb.action(
        "kubectl apply -f demo.yaml",
        manifest=manifest,
        apply=lambda: (work / "created-by-apply").write_text(json.dumps(manifest)),
    )
rb.report()
