# %% [markdown]
# # 멈출 때까지 기다리는 런북
# 두 번째 셀이 터널처럼 임시 폴더와 자식 프로세스를 만들고, 중단될 때까지 잠듭니다(신호 테스트용).

# %% tags=["parameters"]
pid_file: str = ""  # 커널과 자식 프로세스의 pid를 적을 파일

# %%
from platform_kb import runbook

rb = runbook.start("slow")

# %%
import os
import subprocess
import tempfile
import time
from pathlib import Path

with rb.step("기다리기"):
    workdir = tempfile.mkdtemp(prefix="kb-tunnel-")  # like the tunnel's private folder
    (Path(workdir) / "control").write_text("x")
    child = subprocess.Popen(["sleep", "3600"])  # like the tunnel's ssh process
    if pid_file:
        Path(pid_file).write_text(f"{os.getpid()} {child.pid} {workdir}\n")
    rb.say("잠듭니다")
    while True:
        time.sleep(3600)

# %%
rb.say("여기는 실행되지 않습니다")
