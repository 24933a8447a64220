"""Write-up pages: ``issues/*.md`` → one page per write-up + the issues index, from front matter.

Where it sits: called by :func:`platform_kb.site.generate.generate_site` with validated
:class:`~platform_kb.writeups.Writeup` records. Each page gets its H1 and a header table from the
front matter; links the write-up makes to repository files (``../docs/...``, ``../runbooks/<id>.py``,
other write-ups) are rewritten to the pages those files become.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..writeups import Writeup
from .labels import RECORD_ANCHOR, record_environment, status_label
from .layout import SiteLayout, relative_link
from .links import is_external, rewrite_links, split_anchor

INDEX_NAME = "index.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _codes(values: Sequence[str]) -> str:
    return ", ".join(f"`{v}`" for v in values) or "—"


def _runbook_links(writeup: Writeup, layout: SiteLayout, from_page: Path, runbook_ids: set[str]) -> str:
    """Runbook ids linked to their pages; an id with no runbook yet stays plain code."""
    parts = []
    for runbook_id in writeup.runbooks:
        if runbook_id in runbook_ids:
            parts.append(f"[`{runbook_id}`]({relative_link(from_page, layout.runbook_page(runbook_id))})")
        else:
            parts.append(f"`{runbook_id}`")
    return ", ".join(parts) or "—"


def rewrite_writeup_links(writeup: Writeup, layout: SiteLayout, page: Path) -> str:
    """The write-up body with repository-relative links turned into links between site pages."""

    def rewrite(target: str) -> str:
        path, anchor = split_anchor(target)
        if not path or is_external(target) or path.startswith("/"):
            return target
        published = layout.page_for(writeup.path.parent / path)
        return relative_link(page, published, anchor) if published else target

    return rewrite_links(writeup.body, rewrite)


def _records_box(
    writeup: Writeup, layout: SiteLayout, page: Path, records: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """An admonition beside the write-up: each linked runbook's latest published record."""
    shown = [rid for rid in writeup.runbooks if rid in records]
    if not shown:
        return []
    lines = [
        '!!! example "런북 최근 실행 기록"',
        "    이 기록의 조치는 런북으로 자동화되어 있다. 아래는 각 런북의 최근 공개 기록이다.",
        "",
        "    | 런북 | 결과 | 실행 시각 (UTC) | 실행 환경 | 발견 사항 |",
        "    |---|---|---|---|---|",
    ]
    for rid in shown:
        summary = records[rid]
        link = relative_link(page, layout.runbook_page(rid), RECORD_ANCHOR)
        status = str(summary.get("status", "?"))
        mode = " (계획 모드)" if summary.get("plan_mode") else ""
        findings = ", ".join(f"`{f.get('id')}`" for f in summary.get("findings") or []) or "없음"
        lines.append(
            f"    | [`{rid}`]({link}) | {status_label(status)}{mode} | "
            f"{_cell(str(summary.get('started', '')))} | {record_environment(summary)} | {findings} |"
        )
    return lines + [""]


def render_issue_page(
    writeup: Writeup,
    layout: SiteLayout,
    runbook_ids: set[str],
    records: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    page = layout.issue_page(writeup.path)
    header = [
        f"# #{writeup.id} {writeup.title}",
        "",
        "| 항목 | 내용 |",
        "|---|---|",
        f"| 날짜 | {writeup.date} |",
        f"| 상태 | {writeup.status_label} |",
        f"| 참여자 | {_cell(', '.join(writeup.participants))} |",
        f"| 구성 요소 | {_codes(writeup.components)} |",
        f"| 런북 | {_runbook_links(writeup, layout, page, runbook_ids)} |",
        f"| 태그 | {_codes(writeup.tags)} |",
        f"| 원본 | `issues/{writeup.path.name}` |",
        "",
        *_records_box(writeup, layout, page, records or {}),
    ]
    return "\n".join(header) + "\n" + rewrite_writeup_links(writeup, layout, page).lstrip("\n")


def render_issues_index(writeups: Sequence[Writeup], layout: SiteLayout, runbook_ids: set[str]) -> str:
    index = layout.issues_dir / INDEX_NAME
    lines = [
        "# 이슈 기록",
        "",
        "플랫폼에서 겪은 문제와 작업을 한 건씩 정리한 기록이다. 각 기록은 `issues/` 폴더의 Markdown 파일에서 "
        "자동으로 만들어지며, 관련 런북이 있으면 런북 열에서 바로 이동할 수 있다.",
        "",
    ]
    if not writeups:
        lines += [
            '!!! info "아직 기록이 없다"',
            "    `issues/`에 기록이 추가되면 여기에 목록이 나타난다.",
            "",
        ]
        return "\n".join(lines)
    lines += ["| ID | 제목 | 날짜 | 상태 | 구성 요소 | 런북 |", "|---|---|---|---|---|---|"]
    for writeup in writeups:
        link = relative_link(index, layout.issue_page(writeup.path))
        lines.append(
            f"| [#{writeup.id}]({link}) | [{_cell(writeup.title)}]({link}) | {writeup.date} | "
            f"{writeup.status_label} | {_codes(writeup.components)} | "
            f"{_runbook_links(writeup, layout, index, runbook_ids)} |"
        )
    lines.append("")
    return "\n".join(lines)


def generate_issue_pages(
    writeups: Sequence[Writeup],
    layout: SiteLayout,
    out_dir: Path,
    runbook_ids: set[str],
    records: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Write the pages into ``out_dir`` (named as in ``layout.issues_dir``); return them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for writeup in writeups:
        target = out_dir / layout.issue_page(writeup.path).name
        target.write_text(render_issue_page(writeup, layout, runbook_ids, records), encoding="utf-8")
        written.append(target)
    index = out_dir / INDEX_NAME
    index.write_text(render_issues_index(writeups, layout, runbook_ids), encoding="utf-8")
    written.append(index)
    return written
