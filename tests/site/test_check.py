"""``kb check``: the real project passes; bad write-ups, runbooks and links are rejected with exit 2."""

from __future__ import annotations

import pytest

from platform_kb.check import run_check
from platform_kb.cli import main
from platform_kb.paths import ProjectPaths
from platform_kb.writeups import render_template


def _messages(project) -> list[str]:
    return [p.format(project.root) for p in run_check(ProjectPaths(project.root)).problems]


def _kb_in_process(project, monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("KB_ROOT", str(project.root))
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out + captured.err


def test_real_project_passes(make_project):
    project = make_project(with_runbooks=True)
    result = project.kb("check")
    assert result.returncode == 0, result.stderr
    assert "kb check: ok (" in result.stdout


def test_writeup_naming_a_missing_runbook_is_rejected(make_project):
    project = make_project()
    project.set_front_matter("runbooks: []", "runbooks: [spark-ui-ingress]")
    result = project.kb("check")
    assert result.returncode == 2
    assert (
        "issues/3-10-airflow-spark-operator-ui-ingress.md: runbooks: no runbook 'spark-ui-ingress'"
        in result.stderr
    )
    assert "runbooks/spark-ui-ingress.py" in result.stderr
    assert "kb: error: check failed: 1 problem(s)" in result.stderr


def test_malformed_front_matter_is_rejected(make_project):
    project = make_project()
    project.set_front_matter("participants: [임성현, Gemini]", "participants: [임성현, Gemini")
    result = project.kb("check")
    assert result.returncode == 2
    assert "front matter is not valid YAML" in result.stderr
    assert "kb: error: check failed: 1 problem(s)" in result.stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("status: resolved", "status: done", "status: 'done' is not one of ['resolved', 'planned', 'open']"),
        ('id: "3-10"\n', "", "'id' is a required property"),
        ('id: "3-10"', "id: 310", "id: 310 is not of type 'string'"),
        ('id: "3-10"', 'id: "3-21"', "file name must be '3-21-<slug>.md'"),
        (
            "date: 2026-01-03 ~ 2026-01-04",
            "date: 2026-01-04 ~ 2026-01-03",
            "date range ends (2026-01-03) before it starts",
        ),
        ("date: 2026-01-03 ~ 2026-01-04", "date: 3 January 2026", "date: '3 January 2026' does not match"),
        ("date: 2026-01-03 ~ 2026-01-04", "date: 2026-02-30", "date: day is out of range for month"),
        ("participants: [임성현, Gemini]", "participants: []", "participants: [] should be non-empty"),
        (
            "tags: [",
            "owner: someone\ntags: [",
            "Additional properties are not allowed ('owner' was unexpected)",
        ),
        ("components: [airflow,", "components: [Airflow,", "components.0: 'Airflow' does not match"),
        ("---\nid:", "id:", "no front matter"),
        ("## 트러블슈팅\n", "## 문제\n", "heading '## 트러블슈팅' missing"),
        ("## 개요\n", "# 개요\n", "H1 '개요' not allowed"),
    ],
)
def test_each_front_matter_and_heading_rule(make_project, monkeypatch, capsys, old, new, expected):
    project = make_project()
    project.set_front_matter(old, new)
    code, output = _kb_in_process(project, monkeypatch, capsys, "check")
    assert code == 2
    assert expected in output


def test_duplicate_ids_are_rejected(make_project):
    project = make_project()
    copy = project.root / "issues" / "3-10-copy.md"
    copy.write_text(project.writeup.read_text(encoding="utf-8"), encoding="utf-8")
    assert any("id '3-10' is already used by" in m for m in _messages(project))


def test_runbooks_must_be_jupytext_percent_files_that_compile(make_project, sample_runbook):
    project = make_project()
    runbooks = project.root / "runbooks"
    (runbooks / "good.py").write_text(sample_runbook, encoding="utf-8")
    (runbooks / "plain-script.py").write_text("print('no cells')\n", encoding="utf-8")
    (runbooks / "broken.py").write_text(
        sample_runbook.replace("print(ingress_nodeport)", "print(ingress_nodeport"), encoding="utf-8"
    )
    (runbooks / "light.py").write_text(
        sample_runbook.replace("format_name: percent", "format_name: light"), encoding="utf-8"
    )
    (runbooks / "Bad_Name.py").write_text(sample_runbook, encoding="utf-8")
    (runbooks / "_helpers.py").write_text("x = (\n", encoding="utf-8")  # not a runbook: ignored
    messages = _messages(project)
    assert not [m for m in messages if m.startswith(("runbooks/good.py", "runbooks/_helpers.py"))]
    assert "runbooks/plain-script.py: no '# %%' cell marker: not a jupytext percent file" in messages
    broken = [m for m in messages if m.startswith("runbooks/broken.py")]
    assert broken and "cell 3: Python syntax error" in broken[0]
    assert broken[0].startswith("runbooks/broken.py:22:")  # the line of the unclosed call
    assert "runbooks/light.py: header declares format 'light', expected 'percent'" in messages
    assert any(m.startswith("runbooks/Bad_Name.py: runbook id 'Bad_Name'") for m in messages)


def test_ipython_magics_in_runbooks_are_not_syntax_errors(make_project, sample_runbook):
    project = make_project()
    text = sample_runbook.replace(
        "print(ingress_nodeport)", "# %pip install httpx\n# !ls\nprint(ingress_nodeport)"
    )
    (project.root / "runbooks" / "magic.py").write_text(text, encoding="utf-8")
    assert _messages(project) == []


@pytest.mark.parametrize(
    ("file", "link", "expected"),
    [
        ("docs/onboarding.md", "[x](missing.md)", "docs/onboarding.md:{line}: link 'missing.md': not found"),
        ("docs/onboarding.md", "[x](architecture.md#없는-제목)", "no heading or id '#없는-제목'"),
        ("docs/onboarding.md", "[x](#없는-제목)", "no heading or id '#없는-제목'"),
        ("docs/onboarding.md", "[x](/architecture.md)", "absolute path"),
        ("docs/onboarding.md", "[x](assets/)", "points to a folder"),
        ("docs/onboarding.md", "[x](_generated/issues/3-99-none.md)", "not found"),
        (
            "docs/onboarding.md",
            "[x](_generated/issues/3-10-airflow-spark-operator-ui-ingress.md#없는-제목)",
            "no heading or id",
        ),
        ("docs/onboarding.md", '<img src="assets/missing.svg">', "link 'assets/missing.svg': not found"),
        (
            "issues/3-10-airflow-spark-operator-ui-ingress.md",
            "[x](../pyproject.toml)",
            "not published on the site",
        ),
        ("issues/3-10-airflow-spark-operator-ui-ingress.md", "[x](../runbooks/missing.py)", "not found"),
        (
            "issues/3-10-airflow-spark-operator-ui-ingress.md",
            "[x](../docs/architecture.md#없는-제목)",
            "no heading or id",
        ),
        ("issues/3-10-airflow-spark-operator-ui-ingress.md", "[x](#없는-제목)", "no heading or id"),
    ],
)
def test_broken_internal_links_are_rejected(make_project, file, link, expected):
    project = make_project()
    path = project.root / file
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + link + "\n"
    path.write_text(text, encoding="utf-8")
    line = text.count("\n")
    messages = _messages(project)
    assert any(expected.format(line=line) in m for m in messages), messages
    assert all(m.startswith(file) for m in messages), messages


def test_valid_links_of_every_kind_pass(make_project, sample_runbook):
    project = make_project()
    (project.root / "runbooks" / "sample-check.py").write_text(sample_runbook, encoding="utf-8")
    links = {
        "docs/onboarding.md": [
            "[a](architecture.md#접속-경로)",
            "[b](_generated/issues/3-10-airflow-spark-operator-ui-ingress.md#트러블슈팅)",
            "[c](_generated/runbooks/sample-check.md)",
            "[d](https://example.org/external)",
            "`[not a link](nowhere.md)`",
            "```\n[not a link](nowhere.md)\n```",
        ],
        "issues/3-10-airflow-spark-operator-ui-ingress.md": [
            "[e](../docs/contributing.md#검사-kb-check)",
            "[f](../runbooks/sample-check.py)",
            "[g](#의사결정)",
        ],
    }
    for file, extra in links.items():
        path = project.root / file
        path.write_text(path.read_text(encoding="utf-8") + "\n" + "\n\n".join(extra) + "\n", encoding="utf-8")
    assert _messages(project) == []
    assert project.kb("docs", "build").returncode == 0


def test_the_writeup_template_passes_check(make_project):
    project = make_project()
    (project.root / "issues" / "3-21-new-record.md").write_text(
        render_template("3-21", "새 기록: 제목"), encoding="utf-8"
    )
    assert _messages(project) == []


def test_a_broken_link_in_a_runbook_narrative_is_rejected(make_project, sample_runbook):
    """The runbook page and a published record's cells show the narrative's links; they must resolve."""
    project = make_project()
    path = project.root / "runbooks" / "sample-check.py"
    path.write_text(
        sample_runbook.rstrip("\n") + "\n\n# %% [markdown]\n# [랩](../lab.md)\n", encoding="utf-8"
    )
    messages = _messages(project)
    assert any(
        m.startswith("runbooks/sample-check.py:") and "link '../lab.md': not found" in m for m in messages
    ), messages
    path.write_text(
        sample_runbook.rstrip("\n") + "\n\n# %% [markdown]\n# [랩](../docs/lab.md)\n", encoding="utf-8"
    )
    assert _messages(project) == []


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("platform_kb.install.nothing_here:Params", "parameter schema 'platform_kb.install.nothing_here:Params' cannot be imported"),
        ("platform_kb.install.airflow:Missing", "parameter schema 'platform_kb.install.airflow:Missing' cannot be imported"),
        ("platform_kb.install.airflow", 'params_schema must be a string "package.module:Class"'),
        ("platform_kb.errors:UsageProblem", "is not a dataclass"),
    ],
)  # fmt: skip
def test_a_runbook_whose_parameter_schema_does_not_resolve_is_rejected(
    make_project, sample_runbook, schema, expected
):
    project = make_project()
    text = sample_runbook.replace(
        "ingress_nodeport: int = 30998", f'params_schema = "{schema}"\ningress_nodeport: int = 30998'
    )
    (project.root / "runbooks" / "schema.py").write_text(text, encoding="utf-8")
    (message,) = [m for m in _messages(project) if m.startswith("runbooks/schema.py")]
    assert expected in message


def test_a_parameter_the_schema_declares_again_in_the_cell_is_rejected(make_project, sample_runbook):
    project = make_project()
    text = sample_runbook.replace(
        "ingress_nodeport: int = 30998",
        'params_schema = "platform_kb.runner.connection:ConnectionParams"\ningress_nodeport: int = 30998',
    )
    (project.root / "runbooks" / "twice.py").write_text(text, encoding="utf-8")
    (message,) = [m for m in _messages(project) if m.startswith("runbooks/twice.py")]
    assert "declared twice (cell and schema?): ingress_nodeport" in message
