"""Runbook pages: ``runbooks/<id>.py`` (jupytext percent files) → one Markdown page each + an index.

Where it sits: called by :func:`platform_kb.site.generate.generate_site` with the runbook files and
the output folder (``docs/_generated/runbooks/``). Each page shows, from the runbook itself
(``platform_kb.runner.source`` conventions): title, purpose, prerequisites, the parameters table
(name, type, default, constraints, description) and how to run it (``kb run`` and the plain
papermill equivalent); and, from ``records/<id>/`` (written by ``kb runs publish``), the published
record: status, date, findings, steps and the executed cells with their outputs.

Everything is plain Markdown (tables, fenced code, the Markdown the runbook API displays) so the
strict MkDocs build validates it; HTML outputs are kept only when they load nothing from another
host, papermill's error banner cells (raw HTML with in-page anchors) are replaced by a note, and
relative links in the runbook's Markdown are re-pointed from ``runbooks/`` to the generated page.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import KbError
from ..paths import ProjectPaths
from ..profiles import BastionSpec, NodeSpec, Profile
from ..runbook import manifest_yaml
from ..runner.params import ParamSpec, parse_parameters
from ..runner.publish import load_published
from ..runner.source import RunbookSource, read_notebook
from .labels import RECORD_HEADING, SEVERITY_LABEL, STATUS_LABEL, record_environment
from .layout import SiteLayout, relative_link

INDEX_NAME = "index.md"
# the parameters `kb run --profile` fills (Profile.as_parameters)
PROFILE_PARAMETERS = frozenset(Profile("example", BastionSpec("bastion"), NodeSpec("node")).as_parameters())
_STEP_LABEL = {"passed": "통과", "failed": "실패", "skipped": "건너뜀", "running": "중단됨"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\s+\"[^\"]*\")?\)")
_HEADING_LINE = re.compile(r"^(#{1,6})(\s)", re.MULTILINE)
_EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)
_ERROR_MARKER_TAG = "papermill-error-cell-tag"


@dataclass(frozen=True)
class RunbookInfo:
    """What a runbook page shows about one runbook."""

    id: str
    title: str
    purpose: str
    source: Path
    prerequisites: str = ""
    params: tuple[ParamSpec, ...] = ()
    summary: dict[str, Any] | None = field(default=None, compare=False)
    notebook: dict[str, Any] | None = field(default=None, compare=False)
    browser_matrix: dict[str, Any] | None = field(default=None, compare=False)
    problem: str = ""

    @property
    def first_paragraph(self) -> str:
        for block in re.split(r"\n\s*\n", self.purpose.strip()):
            if block.strip():
                return " ".join(line.strip() for line in block.splitlines())
        return ""


def read_runbook_info(path: Path) -> RunbookInfo:
    """Everything the page needs; an unreadable runbook still gets a page (``kb check`` says why)."""
    path = Path(path)
    runbook_id = path.stem
    try:
        nb = read_notebook(path)
        params = parse_parameters(nb, f"runbook {runbook_id}")
    except KbError as exc:
        return RunbookInfo(runbook_id, runbook_id, "", path, problem=str(exc))
    src = RunbookSource(id=runbook_id, path=path, nb=nb, params=params)
    published = load_published(path.parent.parent, runbook_id)
    summary, notebook = published if published else (None, None)
    return RunbookInfo(
        id=runbook_id,
        title=src.title,
        purpose=src.purpose,
        source=path,
        prerequisites=src.prerequisites,
        params=tuple(params),
        summary=summary,
        notebook=notebook,
        browser_matrix=load_browser_matrix(path),
    )


BROWSER_MATRIX_SUFFIX = ".browser-matrix.json"


def load_browser_matrix(runbook: Path) -> dict[str, Any] | None:
    """``runbooks/<id>.browser-matrix.json``: the runbook's verdicts checked against headless Chromium,
    written by its browser-matrix test (``KB_UPDATE_MATRIX=1``) and compared with it on every run."""
    data_file = runbook.with_name(runbook.stem + BROWSER_MATRIX_SUFFIX)
    if not data_file.is_file():
        return None
    try:
        data = json.loads(data_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("rows"), list) else None


def _browser_matrix_section(info: RunbookInfo) -> list[str]:
    matrix = info.browser_matrix
    if not matrix:
        return []
    rows = matrix["rows"]
    agree = sum(1 for r in rows if r.get("runbook_healthy") == r.get("chromium_works"))
    healthy = sum(1 for r in rows if r.get("runbook_healthy"))
    lines = [
        "## 브라우저로 검증한 판정 (Chromium 매트릭스)",
        "",
        f"랩에서 설정 {len(rows)}가지를 만들어 런북의 판정을 헤드리스 Chromium이 실제로 본 것과 비교했다: "
        f"**{agree}/{len(rows)} 일치**(정상 {healthy}, 문제 {len(rows) - healthy}). Chromium은 DAG 이름으로 "
        "사용자가 열 주소를 열고, 문서가 접두사 안에서 200으로 끝나는지, 모든 CSS/JS가 200이고 HTML이 아닌지, "
        "스타일이 적용됐는지, 리다이렉트가 돌지 않는지, 다른 호스트로 나간 요청이 없는지를 스스로 기록한다. "
        '런북이 "지금 동작하는 주소"를 주면 그 주소도 Chromium으로 열어 본다. 표는 테스트'
        "(`tests/spark_ui/test_browser_matrix.py`)가 매 실행마다 다시 만들어 이 파일과 같은지 확인한다.",
        "",
        "| 구성 | 런북 | 발견 사항 | Chromium이 본 것 | 지금 동작하는 주소 (Chromium) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        working = r.get("working_url") or ""
        shown = f"`{working}` ({r.get('working_url_in_chromium', '')})" if working else "없음"
        lines.append(
            f"| {_cell(r.get('config', ''))} | {'정상' if r.get('runbook_healthy') else '문제'} | "
            f"{_codes_cell(r.get('findings') or [])} | {_cell(r.get('chromium_saw', ''))} | {_cell(shown)} |"
        )
    return [*lines, ""]


def _codes_cell(ids: Sequence[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids) if ids else "없음"


# --- small Markdown helpers ---------------------------------------------------------------------


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _code(value: Any) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    ticks = "``" if "`" in text else "`"
    return f"{ticks}{text}{ticks}" if text else ""


def _fence(body: str, lang: str = "") -> str:
    runs = [len(m) for m in re.findall(r"`{3,}", body)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{lang}\n{body.rstrip()}\n{fence}"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _demote(markdown: str, by: int = 2) -> str:
    """Headings in runbook/notebook Markdown sit under the page's own sections."""
    out, in_fence = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence:
            line = _HEADING_LINE.sub(lambda m: "#" * min(6, len(m.group(1)) + by) + m.group(2), line)
        out.append(line)
    return "\n".join(out)


class _Links:
    """Re-points relative links written from ``runbooks/<id>.py`` to the generated page."""

    def __init__(self, source: Path) -> None:
        self.source = source
        root = source.parent.parent
        self.layout = SiteLayout(ProjectPaths(root))
        self.page = self.layout.runbook_page(source.stem)

    def __call__(self, markdown: str) -> str:
        return _LINK.sub(self._one, markdown)

    def _one(self, match: re.Match[str]) -> str:
        target, anchor, title = match.group(2), match.group(3) or "", match.group(4) or ""
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("/"):
            return match.group(0)
        repo_file = Path(os.path.normpath(self.source.parent / target))
        page = self.layout.page_for(repo_file)
        if page is None:
            return match.group(0)
        return f"{match.group(1)}{relative_link(self.page, page)}{anchor}{title})"


# --- the page -----------------------------------------------------------------------------------


def _parameters_section(info: RunbookInfo) -> list[str]:
    lines = ["## 매개변수", ""]
    if not info.params:
        return lines + ["이 런북은 매개변수를 선언하지 않는다.", ""]
    lines += [
        "`kb run`은 값을 **프로필 < `--params` 파일 < `-p`** 순서로 합치고, 셀을 실행하기 전에 형식·범위·필수 여부를 "
        "검사한다(틀리면 종료 코드 2, 아무것도 실행하지 않음).",
        "",
        "| 이름 | 형식 | 기본값 | 제약 | 설명 |",
        "|---|---|---|---|---|",
    ]
    for p in info.params:
        default = (
            "(필수)"
            if p.required and p.default in (None, "")
            else _code(json.dumps(p.default, ensure_ascii=False))
        )
        lines.append(
            f"| `{p.name}` | {_code(p.type_label())} | {default} | {_cell(_constraint_ko(p))} | {_cell(p.description)} |"
        )
    if any(p.secret for p in info.params):
        lines += [
            "",
            "비밀 매개변수에는 값이 아니라 참조(`env:NAME` 또는 `file:PATH`)를 넘긴다. 값은 커널 안에서 풀리고, "
            "`kb run`은 기록과 콘솔에서 그 값을 모두 가린다.",
        ]
    return lines + [""]


def _constraint_ko(p: ParamSpec) -> str:
    parts = []
    if p.low is not None or p.high is not None:
        parts.append(p.constraint_label().split(",")[0])
    if p.choices:
        parts.append(" / ".join(str(c) for c in p.choices))
    if p.required:
        parts.append("필수")
    if p.secret:
        parts.append("비밀(참조만)")
    return ", ".join(parts)


def _example_args(info: RunbookInfo) -> tuple[bool, list[tuple[str, str]]]:
    uses_profile = any(p.name in PROFILE_PARAMETERS for p in info.params)
    needed = [
        (p.name, "env:NAME" if p.secret else f"<{p.name}>")
        for p in info.params
        if p.required and p.default in (None, "") and not (uses_profile and p.name in PROFILE_PARAMETERS)
    ]
    return uses_profile, needed


def _how_to_run(info: RunbookInfo) -> list[str]:
    uses_profile, needed = _example_args(info)
    rel = f"runbooks/{info.source.name}"
    kb = ["kb", "run", info.id] + (["--profile", "lab"] if uses_profile else [])
    for name, value in needed:
        kb += ["-p", name, value]
    pm = ["papermill", f"/tmp/{info.id}.ipynb", f"/tmp/{info.id}-output.ipynb", "-k", "python3"]
    # without kb there is no --profile: the profile's main fields go in as -p
    from_profile = [
        (p.name, f"<{p.name}>")
        for p in info.params
        if uses_profile
        and p.name in PROFILE_PARAMETERS
        and (p.required or p.name in ("bastion_host", "node_host"))
        and p.default in (None, "")
    ]
    for name, value in from_profile + needed:
        pm += ["-p", name, value]
    lines = [
        "## 실행 방법",
        "",
        "`kb run`으로 실행하면 매개변수를 검사하고, 셀마다 진행 상황을 보여 주고, 비밀 값을 가린 기록을 "
        f"`runs/{info.id}/<UTC 시각>/`에 남긴다. `--plan`은 바꾸는 작업을 실행하지 않고 목록만 보여 준다.",
        "",
        _fence(
            f"{_join(kb)}\n{_join(kb + ['--plan'])}\n{_join(['kb', 'run', info.id, '--help'])}   # 매개변수 목록",
            "bash",
        ),
        "",
    ]
    if uses_profile:
        lines += [
            "`--profile`은 프로필(`profiles/NAME.yaml`, `kb lab up` 뒤에는 `lab`)의 접속 정보를 매개변수로 넘긴다. "
            "papermill로 직접 실행할 때는 그 값을 `-p`로 하나씩 넘긴다.",
            "",
        ]
    lines += [
        "같은 런북을 papermill로 직접 실행할 수도 있다(검사·기록·비밀 가리기는 `kb run`만 한다):",
        "",
        _fence(f"jupytext --to ipynb --output /tmp/{info.id}.ipynb {rel}\n{_join(pm)}", "bash"),
        "",
    ]
    return lines


def _join(argv: list[str]) -> str:
    return " ".join(a if a.startswith("<") else shlex.quote(a) for a in argv)


def _record_section(info: RunbookInfo, links: _Links) -> list[str]:
    lines = [f"## {RECORD_HEADING}", ""]
    summary = info.summary
    if summary is None:
        return lines + [
            f"아직 공개된 기록이 없다. `kb run {info.id} ...`로 실행한 뒤 `kb runs publish {info.id}`로 "
            f"공개하면 `records/{info.id}/`에 복사되어 여기에 나타난다.",
            "",
        ]
    status = str(summary.get("status", "?"))
    lines += [
        "| 항목 | 내용 |",
        "|---|---|",
        f"| 상태 | {STATUS_LABEL.get(status, status)} |",
        f"| 실행 시각 (UTC) | {_cell(summary.get('started', ''))} |",
        f"| 실행 환경 | {record_environment(summary)} |",
        f"| 걸린 시간 | {_cell(_seconds(summary.get('seconds')))} |",
        f"| 모드 | {'계획(--plan): 변경은 실행하지 않음' if summary.get('plan_mode') else '실행'} |",
        f"| 기록 | `runs/{info.id}/{_cell(summary.get('run', ''))}` |",
        "",
    ]
    error = summary.get("error")
    if error:
        where = f"단계 「{error.get('step')}」" if error.get("step") else "셀"
        lines += [f"{where}에서 예외가 났다: `{_cell(error.get('ename'))}: {_cell(error.get('evalue'))}`", ""]
    lines += ["### 발견 사항", ""]
    findings = summary.get("findings") or []
    if findings:
        lines += ["| id | 심각도 | 제목 | 설명 | 해결 |", "|---|---|---|---|---|"]
        for f in findings:
            sev = str(f.get("severity", ""))
            lines.append(
                f"| `{_cell(f.get('id'))}` | {SEVERITY_LABEL.get(sev, sev)} | {_cell(f.get('title'))} | "
                f"{_cell(f.get('detail'))} | {_cell(f.get('fix'))} |"
            )
    else:
        lines.append("발견 사항 없음.")
    lines.append("")
    steps = summary.get("steps") or []
    if steps:
        lines += ["### 단계", "", "| 단계 | 상태 | 초 |", "|---|---|---|"]
        lines += [
            f"| {_cell(s.get('name'))} | {_cell(s.get('status'))} | {_cell(s.get('seconds'))} |"
            for s in steps
        ]
        lines.append("")
    plan = summary.get("plan") or []
    if plan:
        lines += ["### 계획된 작업 (실행하지 않음)", ""]
        for i, action in enumerate(plan, 1):
            lines.append(f"{i}. {_cell(action.get('description'))}")
            if action.get("command_line"):
                lines += ["", _indent(_fence(action["command_line"], "console"), 4)]
            if action.get("manifest") is not None:
                lines += ["", _indent(_fence(manifest_yaml(action["manifest"]), "yaml"), 4)]
            lines.append("")
    if info.notebook:
        lines += ["### 실행된 셀", ""] + _cells(info.notebook, links)
    return lines


def _seconds(value: Any) -> str:
    return f"{float(value):.1f}초" if isinstance(value, (int, float)) else ""


def _indent(text: str, n: int) -> str:
    return "\n".join((" " * n + line) if line else line for line in text.splitlines())


def _cells(notebook: dict[str, Any], links: _Links) -> list[str]:
    lines: list[str] = []
    for cell in notebook.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if _ERROR_MARKER_TAG in tags:
            continue
        source = _text(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            lines += [links(_demote(source, 2)), ""]
            continue
        if cell.get("cell_type") != "code":
            continue
        if "injected-parameters" in tags:
            lines += ["_`kb run`이 넣은 매개변수:_", ""]
        if source.strip():
            lines += [_fence(source, "python"), ""]
        for output in cell.get("outputs", []):
            lines += _output(output, links)
    return lines


def _output(output: dict[str, Any], links: _Links) -> list[str]:
    kind = output.get("output_type")
    if kind == "stream":
        return [_fence(_ANSI.sub("", _text(output.get("text"))), "text"), ""]
    if kind == "error":
        body = _ANSI.sub(
            "", "\n".join(output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"])
        )
        return ['!!! failure "셀에서 예외 발생"', "", _indent(_fence(body, "text"), 4), ""]
    data = output.get("data", {})
    if "text/markdown" in data:
        return [links(_demote(_text(data["text/markdown"]), 3)), ""]
    if "text/html" in data and not _EXTERNAL.search(_text(data["text/html"])):
        return ['<div class="kb-output" markdown="0">', _text(data["text/html"]).strip(), "</div>", ""]
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return [f'<img alt="출력 이미지" src="data:{mime};base64,{_text(data[mime]).strip()}">', ""]
    if "text/plain" in data:
        return [_fence(_ANSI.sub("", _text(data["text/plain"])), "text"), ""]
    return []


def render_runbook_page(info: RunbookInfo) -> str:
    links = _Links(info.source)
    status = ""
    if info.summary:
        s = str(info.summary.get("status", "?"))
        status = f"{STATUS_LABEL.get(s, s)} ({_cell(info.summary.get('started', ''))})"
    lines = [
        f"# {info.title}",
        "",
        "| 항목 | 내용 |",
        "|---|---|",
        f"| 런북 ID | `{info.id}` |",
        f"| 원본 | `runbooks/{info.source.name}` |",
        f"| 공개된 기록 | {status or '없음'} |",
        "",
    ]
    if info.problem:
        lines += ['!!! warning "런북을 읽을 수 없다"', f"    {_cell(info.problem)}", ""]
    lines += [
        "## 목적",
        "",
        links(_demote(info.purpose, 2)) if info.purpose else "(런북에 목적이 적혀 있지 않다.)",
        "",
    ]
    lines += [
        "## 준비물",
        "",
        links(_demote(info.prerequisites, 1)) if info.prerequisites else "따로 적힌 준비물이 없다.",
        "",
    ]
    lines += _parameters_section(info)
    lines += _how_to_run(info)
    lines += _browser_matrix_section(info)
    lines += _record_section(info, links)
    return "\n".join(lines).rstrip() + "\n"


def render_runbooks_index(infos: Sequence[RunbookInfo]) -> str:
    lines = [
        "# 런북",
        "",
        "런북은 `runbooks/` 폴더의 jupytext percent 파일(`.py`)이다. 노트북으로 열어 한 셀씩 실행하거나, "
        "`kb run <id> --profile <프로필>`로 처음부터 끝까지 실행한다. 이 목록은 `runbooks/`에서 자동으로 만들어진다.",
        "",
    ]
    if not infos:
        lines += [
            '!!! info "아직 런북이 없다"',
            "    `runbooks/`에 런북이 추가되면 여기에 목록이 나타난다.",
            "",
        ]
        return "\n".join(lines)
    lines += ["| 런북 | 제목 | 목적 | 공개된 기록 |", "|---|---|---|---|"]
    for info in infos:
        record = "-"
        if info.summary:
            s = str(info.summary.get("status", "?"))
            record = f"{STATUS_LABEL.get(s, s)} {str(info.summary.get('started', ''))[:10]}"
        lines.append(
            f"| [`{info.id}`]({info.id}.md) | {_cell(info.title)} | {_cell(info.first_paragraph)} | {_cell(record)} |"
        )
    lines.append("")
    return "\n".join(lines)


def generate_runbook_pages(paths: Sequence[Path], out_dir: Path) -> list[Path]:
    """Write ``<id>.md`` for every runbook in ``paths`` and ``index.md`` into ``out_dir``; return them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    infos = sorted((read_runbook_info(Path(p)) for p in paths), key=lambda i: i.id)
    written = []
    for info in infos:
        page = out_dir / f"{info.id}.md"
        page.write_text(render_runbook_page(info), encoding="utf-8")
        written.append(page)
    index = out_dir / INDEX_NAME
    index.write_text(render_runbooks_index(infos), encoding="utf-8")
    written.append(index)
    return written
