"""The glossary (docs/glossary.md) is enforced by ``kb check``: the repo is clean, a planted variant
fails with exit 1 and ``file:line``; code keeps the English word."""

from __future__ import annotations

import shutil
from pathlib import Path

from platform_kb.terms import GLOSSARY, parse_glossary, term_problems

REPO = Path(__file__).resolve().parents[2]


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("issues", "runbooks", "docs"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("_generated"))
    shutil.copy2(REPO / "README.md", root / "README.md")
    for sub in ("checks", "install"):
        shutil.copytree(REPO / "src" / "platform_kb" / sub, root / "src" / "platform_kb" / sub)
    return root


def test_glossary_lists_the_terms_of_issue_15() -> None:
    terms = {t.spelling: t for t in parse_glossary((REPO / GLOSSARY).read_text(encoding="utf-8"))}
    assert {"데스크톱", "라벨", "매개변수", "배스천", "스크레이프(하다)", "ops@"} <= set(terms)
    assert terms["데스크톱"].variants == ("데스크탑",) and terms["배스천"].english == "bastion host"


def test_the_repository_is_clean() -> None:
    count, hits = term_problems(REPO)
    assert count >= 6
    assert [f"{h.path.relative_to(REPO)}:{h.line}: {h.message}" for h in hits] == []


def test_planted_variants_are_reported_with_file_and_line(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    page = root / "docs" / "architecture.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    lines[2:2] = [
        "홈랩 데스크탑에서 파라미터를 넘긴다.",
        "SSH bastion을 거쳐 간다.",
        "`bastion_host`와 `--bastion`, bastion.example.internal은 그대로 둔다.",
        "Grafana는 root_url 에 하위 경로를 넣는다.",
    ]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    finding = root / "src" / "platform_kb" / "checks" / "grafana.py"
    finding.write_text(
        finding.read_text(encoding="utf-8") + '\nX = "Prometheus가 긁는다"\n', encoding="utf-8"
    )
    last = len(finding.read_text(encoding="utf-8").splitlines())
    _count, hits = term_problems(root)
    found = {(str(h.path.relative_to(root)), h.line, h.message.split(":")[0]) for h in hits}
    assert found == {
        ("docs/architecture.md", 3, "term '데스크탑'"),
        ("docs/architecture.md", 3, "term '파라미터'"),
        ("docs/architecture.md", 4, "term 'bastion'"),
        ("docs/architecture.md", 6, "spacing"),
        ("src/platform_kb/checks/grafana.py", last, "term '긁'"),
    }


def test_placeholder_user_is_checked_inside_code_blocks(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    page = root / "docs" / "tunnel.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\n```bash\nssh -N operator@bastion.example.internal\n```\n",
        encoding="utf-8",
    )
    _count, hits = term_problems(root)
    assert [(h.path.name, "operator@" in h.message) for h in hits] == [("tunnel.md", True)]


def test_kb_check_exits_1_naming_file_and_line(make_project) -> None:
    project = make_project(with_runbooks=True)
    page = project.root / "docs" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n레이블로 고른다.\n", encoding="utf-8")
    line = len(page.read_text(encoding="utf-8").splitlines())
    result = project.kb("check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"docs/index.md:{line}: term '레이블': write '라벨'" in result.stderr
