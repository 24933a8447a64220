"""The project's own value checks stop broken values before any change, with a clear message."""

from __future__ import annotations

import pytest

from platform_kb.errors import UsageProblem
from platform_kb.install import airflow, chart, checking, history, s3a, spark_operator, verify
from platform_kb.install.plan import plan_install
from platform_kb.results import Check

from .conftest import FakeCluster


def airflow_problems(**overrides) -> list[Check]:
    p = airflow.Params(
        **{"git_repo": "https://git.example.internal/homelab/data-platform-core.git", **overrides}
    )
    return airflow.check(p, airflow.render(p))


def operator_problems(**overrides) -> list[Check]:
    p = spark_operator.Params(**overrides)
    return spark_operator.check(p, spark_operator.render(p))


def errors(problems: list[Check]) -> list[str]:
    return [p.id for p in problems if p.severity == "error"]


def test_defaults_pass() -> None:
    assert airflow_problems() == []
    assert errors(operator_problems()) == []
    hp = history.Params()
    assert history.check(hp, history.render(hp)) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"dags": {"gitSync": {"subpath": "dags"}}}, "unknown key `dags.gitSync.subpath` — did you mean `dags.gitSync.subPath`?"),
        ({"config": {"logging": {"remote_loging": "True"}}},
         "unknown key `config.logging.remote_loging` — did you mean `config.logging.remote_logging`?"),
        ({"executer": "KubernetesExecutor"}, "unknown key `executer` — did you mean `executor`?"),
        ({"ingress": {"apiServer": {"ingresClassName": "nginx"}}},
         "unknown key `ingress.apiServer.ingresClassName` — did you mean `ingress.apiServer.ingressClassName`?"),
    ],
)  # fmt: skip
def test_misspelt_airflow_keys_are_named_with_the_closest_key(extra: dict, message: str) -> None:
    problems = airflow_problems(extra_values=extra)
    assert errors(problems) == ["unknown-key"]
    with pytest.raises(UsageProblem) as exc:
        checking.ensure_ok(problems, "install-airflow")
    assert message in str(exc.value)
    assert "before any change was made" in str(exc.value)


def test_free_form_subtrees_are_not_flagged() -> None:
    extra = {"scheduler": {"resources": {"limits": {"cpu": "1"}}}, "config": {"core": {"anything_goes": "1"}},
             "ingress": {"apiServer": {"annotations": {"x/y": "z"}}}}  # fmt: skip
    assert airflow_problems(extra_values=extra) == []


def test_extra_values_as_yaml_text() -> None:
    assert errors(airflow_problems(extra_values="dags:\n  gitSync:\n    subpath: x\n")) == ["unknown-key"]
    with pytest.raises(UsageProblem, match="extra_values: expected a mapping"):
        airflow_problems(extra_values="- a\n- b\n")


@pytest.mark.parametrize(
    ("url_format", "problem", "text"),
    [
        ("spark.example.internal", "urlformat-no-path", "has no path"),
        ("{{$appName}}.spark.example.internal", "urlformat-no-path", "has no path"),
        ("/", "proxybase-root", "spark.ui.proxyBase=/"),
        ("spark.example.internal/", "proxybase-root", "`Location: //jobs/`"),
        ("/spark-ui/{{$appnamespace}}/{{$appName}}", "urlformat-variable", "did you mean {{$appNamespace}}?"),
        ("/spark-ui/all", "urlformat-not-unique", "names no application"),
        ("", "urlformat-empty", "urlFormat is empty"),
    ],
)
def test_bad_url_formats_are_refused(url_format: str, problem: str, text: str) -> None:
    problems = operator_problems(url_format=url_format)
    assert problem in errors(problems)
    assert any(text in p.text() for p in problems if p.id == problem)


def test_url_format_variants_that_work() -> None:
    for fmt in (
        "/spark-ui/{{$appNamespace}}/{{$appName}}",
        "http://node:30998/ui/{{$appName}}",
        "/ui/{{$appId}}",
    ):
        assert errors(operator_problems(url_format=fmt)) == [], fmt
    assert verify.url_format_path("spark.example/x/{{$appName}}") == "/x/{{$appName}}"


@pytest.mark.parametrize("version", ["2.2.1", "2.0.0", "1.4.6", "v2.2.0"])
def test_operator_chart_older_than_2_3_0_is_refused(version: str) -> None:
    problems = operator_problems(chart_version=version)
    assert "operator-too-old" in errors(problems)
    msg = next(p.text() for p in problems if p.id == "operator-too-old")
    assert (
        f"chart {version} is older than 2.3.0" in msg and "#2597" in msg and "use chart_version 2.4.0" in msg
    )


def test_operator_chart_2_3_0_and_later_pass_and_appid_needs_2_3() -> None:
    for version in ("2.3.0", "2.4.0", "2.3.1-rc1"):
        assert errors(operator_problems(chart_version=version)) == []
    assert "urlformat-appid" in errors(operator_problems(chart_version="2.2.0", url_format="/ui/{{$appId}}"))
    assert "chart-version" in errors(operator_problems(chart_version="latest"))


def test_operator_keys_and_toggles() -> None:
    problems = operator_problems(extra_values={"controller": {"uiIngres": {"enable": True}}})
    assert "unknown-key" in errors(problems)
    assert any("did you mean `controller.uiIngress`?" in p.text() for p in problems)
    assert "ui-service-off" in errors(
        operator_problems(extra_values={"controller": {"uiService": {"enable": False}}})
    )
    assert "ui-ingress-off" in errors(
        operator_problems(extra_values={"controller": {"uiIngress": {"enable": False}}})
    )
    assert "job-namespaces" in errors(operator_problems(job_namespaces=" , "))


def test_literal_credentials_are_refused_without_echoing_them() -> None:
    literal = "Sup3r-s3cret-value"
    problems = airflow_problems(s3_secret_key_ref=literal)
    assert errors(problems) == ["secret-literal"]
    text = " ".join(p.text() for p in problems)
    assert "s3_secret_key_ref: expected a reference like env:VARIABLE or file:/path" in text
    assert literal not in text
    problems = airflow_problems(
        extra_values={"webserverSecretKey": literal, "data": {"metadataConnection": {"pass": literal}}}
    )
    assert errors(problems) == ["literal-secret", "literal-secret"]
    assert literal not in " ".join(p.text() for p in problems)
    assert "secret-missing" in errors(airflow_problems(s3_access_key_ref=""))


def test_airflow_required_fields_and_git() -> None:
    assert "required" in errors(airflow_problems(git_repo=""))
    ssh = airflow_problems(git_repo="git@github.com:homelab/data-platform-core.git")
    assert {"git-ssh-key", "git-known-hosts"} <= set(errors(ssh))
    ok = airflow_problems(git_repo="git@github.com:homelab/data-platform-core.git", git_ssh_key_ref="file:/k",
                          git_known_hosts="github.com ssh-ed25519 AAAA")  # fmt: skip
    assert ok == []
    assert "git-credentials" in errors(airflow_problems(git_username_ref="env:GIT_USER"))
    assert "executor" in errors(airflow_problems(extra_values={"executor": "CeleryExecutor"}))
    assert "log-folder" in errors(
        airflow_problems(extra_values={"config": {"logging": {"remote_base_log_folder": "/tmp"}}})
    )


def test_history_server_checks() -> None:
    def problems(**kw) -> list[str]:
        p = history.Params(**kw)
        try:
            spec = history.render(p)
        except UsageProblem:
            spec = None
        return errors(history.check(p, spec))  # type: ignore[arg-type]

    assert "image-spark-version" in problems(image="apache/spark:3.5.5")  # jars would not match the image
    assert "spark-version" in problems(spark_version="3.4.1", image="apache/spark:3.4.1")
    assert "ui-path" in problems(ui_path="/")
    assert "s3-endpoint" in problems(s3_endpoint="minio:9000")
    with pytest.raises(UsageProblem, match="no known hadoop-aws / AWS SDK pairing"):
        s3a.s3a_jars_for("3.4.1")


def test_check_runs_before_any_command(cluster: FakeCluster) -> None:
    """The runbooks check first; nothing reaches the runner when a check fails."""
    p = spark_operator.Params(chart_version="2.2.0")
    spec = spark_operator.render(p)
    runner = cluster.runner()
    with pytest.raises(UsageProblem, match="operator-too-old"):
        checking.ensure_ok(spark_operator.check(p, spec), "install-spark-operator")
        plan_install(spec, runner)  # pragma: no cover - never reached
    assert runner.commands == []


def test_known_key_tree_matches_upstream_samples() -> None:
    keys = airflow.chart.KNOWN_KEYS
    assert {
        "enabled",
        "repo",
        "branch",
        "rev",
        "subPath",
        "sshKeySecret",
        "credentialsSecret",
        "knownHosts",
    } <= set(keys["dags"]["gitSync"])
    assert {"remote_logging", "remote_base_log_folder", "remote_log_conn_id"} <= set(
        keys["config"]["logging"]
    )
    op = spark_operator.chart.KNOWN_KEYS["controller"]["uiIngress"]
    assert set(op) == {"enable", "urlFormat", "ingressClassName", "tls", "annotations"}
    assert chart.parse_version("v2.3.0") == (2, 3, 0)
