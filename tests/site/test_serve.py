"""``kb docs serve``: serves on 127.0.0.1 and regenerates pages when a write-up changes."""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request

from platform_kb.processes import free_port, spawn, wait_for_port, wait_until


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def test_serve_regenerates_when_a_writeup_changes(make_project, tmp_path):
    project = make_project()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    proc, record = spawn(
        "kb-docs-serve",
        [_kb(), "docs", "serve", "--port", str(port)],
        log,
        env=project.env(),
        cwd=project.root,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60, proc=proc, log=log)
        page = f"{base}/_generated/issues/3-10-airflow-spark-operator-ui-ingress/"
        assert wait_until(lambda: _get(page)[0] == 200, 30), log.read_text()
        status, html = _get(page)
        assert "인그레스" in html and 'lang="ko"' in html
        assert _get(f"{base}/")[0] == 200

        project.set_front_matter(
            "title: Airflow·Spark Operator 배포와 Spark UI 인그레스 접속 문제 해결", "title: 제목을 바꾼 기록"
        )
        assert wait_until(lambda: "제목을 바꾼 기록" in _get(page)[1], 45, interval=0.5), log.read_text()
        assert "제목을 바꾼 기록" in _get(f"{base}/_generated/issues/")[1]

        # SIGTERM to `kb docs serve` alone (not its group) also stops its mkdocs child
        os.kill(record.pid, signal.SIGTERM)
        assert wait_until(lambda: proc.poll() is not None, 15), log.read_text()
        assert wait_until(lambda: _get(f"{base}/")[0] == 0, 15)
    finally:
        assert record.stop(timeout=10)
    assert not record.alive()


def test_serve_refuses_a_busy_port(make_project):
    import socket

    project = make_project()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = project.kb("docs", "serve", "--port", str(port), timeout=60)
    assert result.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr


def _kb() -> str:
    import sys
    from pathlib import Path

    return str(Path(sys.executable).with_name("kb"))
