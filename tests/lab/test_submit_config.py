"""Airflow-style names, lab settings from the environment, the driver's conf overlay, CLI input errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from platform_kb.cli import cli
from platform_kb.errors import MissingPrerequisite, UsageProblem
from platform_kb_lab import manager as manager_module
from platform_kb_lab.config import LabSettings
from platform_kb_lab.driver import DriverRequest, SparkDriverLauncher
from platform_kb_lab.jobs import job_key, resolve_job
from platform_kb_lab.operator import REWRITE_TARGET
from platform_kb_lab.scenarios import SCENARIOS, get_scenario
from platform_kb_lab.submit import add_unique_suffix, build_application, check_name, parse_conf


def test_airflow_suffix_shape():
    name = add_unique_suffix("long-test")
    assert re.fullmatch(r"long-test-[a-z0-9]{8}", name)
    assert add_unique_suffix("long-test") != add_unique_suffix("long-test")  # 36**8 choices


def test_airflow_suffix_cuts_to_54_and_strips_dashes_and_dots():
    base = "x" * 53 + "-.-tail"
    name = add_unique_suffix(base, suffix="-abcdefgh")
    # kubernetes_helper_functions.add_unique_suffix: name[: 63 - 9].strip("-.") + suffix
    assert name == base[:54].strip("-.") + "-abcdefgh"
    assert len(name) <= 63
    assert add_unique_suffix(".-job-.", suffix="-12345678") == "job-12345678"


def test_name_and_conf_validation():
    assert check_name("long-test") == "long-test"
    for bad in ("Long", "-x", "a_b", "", "x" * 254):
        with pytest.raises(UsageProblem):
            check_name(bad)
    assert parse_conf(["a=b", "spark.ui.proxyBase=/x=y"]) == {"a": "b", "spark.ui.proxyBase": "/x=y"}
    with pytest.raises(UsageProblem):
        parse_conf(["novalue"])


def test_application_looks_like_the_dag():
    app = build_application("long-test", "spark", 30, {"k": "v"})
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2" and app["kind"] == "SparkApplication"
    assert app["spec"]["sparkConf"]["spark.eventLog.dir"] == "s3a://datalake/logs/spark-log/"
    assert app["spec"]["sparkConf"]["k"] == "v"
    assert app["spec"]["arguments"] == ["--duration", "30"]
    assert job_key(app["spec"]["mainApplicationFile"]) == "long_test"
    assert resolve_job("local:///x/long-test.py").__name__ == "platform_kb_lab.jobs.long_test"
    with pytest.raises(LookupError):
        resolve_job("local:///x/other.py")


def test_settings_from_env(tmp_path):
    env = {
        "KB_LAB_DIR": str(tmp_path / "l"),
        "KB_LAB_NODE": "127.0.0.7",
        "KB_LAB_API_PORT": "16443",
        "KB_LAB_LOCAL_INGRESS": "127.0.0.1:9090",
    }
    s = LabSettings.from_env(env)
    assert s.root == (tmp_path / "l").resolve()
    assert (s.node, s.api_port, s.ingress_port, s.history_port) == ("127.0.0.7", 16443, 30998, 18080)
    assert s.api_url == "http://127.0.0.7:16443"
    assert LabSettings.from_json(s.to_json()) == s
    for bad in (
        {"KB_LAB_NODE": "10.0.0.1"},
        {"KB_LAB_NODE": "127.0.0.1"},
        {"KB_LAB_NODE": "nope"},
        {"KB_LAB_API_PORT": "70000"},
    ):
        with pytest.raises(UsageProblem):
            LabSettings.from_env({"KB_LAB_DIR": str(tmp_path), **bad})


def test_driver_conf_overlay(tmp_path):
    settings = LabSettings(root=tmp_path, node="127.0.0.9")
    launcher = SparkDriverLauncher(settings)
    request = DriverRequest(
        "spark", "long-test", "long-test-driver", "sub", "local:///long_test.py", (),
        {"spark.eventLog.dir": "s3a://datalake/logs/spark-log/", "spark.ui.proxyBase": "/p", "spark.master": "k8s://x"},
    )  # fmt: skip
    conf = launcher.driver_conf(request, 4077)
    assert conf["spark.master"] == "local[1]"
    assert conf["spark.driver.bindAddress"] == conf["spark.driver.host"] == "127.0.0.9"
    assert conf["spark.ui.port"] == "4077" and conf["spark.ui.proxyBase"] == "/p"
    assert conf["spark.eventLog.dir"] == settings.events_dir.as_uri()
    assert conf["spark.app.name"] == "long-test"


def test_scenarios_are_the_six_of_the_issue_and_the_two_setups_of_3_10():
    six = {
        "healthy",
        "suffix-mismatch",
        "proxybase-root",
        "driver-finished",
        "missing-rewrite",
        "proxybase-mismatch",
    }
    seed = {"handset-proxybase", "literal-fix"}  # issue 13: the two setups #3-10 itself records
    assert set(SCENARIOS) == six | seed | {"exporter-down"}  # #3-11 (monitoring) adds this scenario
    assert get_scenario("handset-proxybase").spark_conf == {"spark.ui.proxyBase": "/"}
    assert dict(get_scenario("literal-fix").set_ingress_annotations)[REWRITE_TARGET] == "/"
    assert all(not SCENARIOS[name].exporters_down for name in six)
    assert get_scenario("proxybase-root").operator.url_format == "/"
    assert get_scenario("suffix-mismatch").suffix and not get_scenario("healthy").suffix
    assert get_scenario("driver-finished").ready == "finished"
    with pytest.raises(UsageProblem):
        get_scenario("nope")


def test_missing_prerequisites_are_named(monkeypatch):
    def no_nginx():
        raise MissingPrerequisite("nginx not found: install the Debian package nginx-light")

    monkeypatch.setattr(manager_module, "find_nginx", no_nginx)
    with pytest.raises(MissingPrerequisite, match="nginx-light"):
        manager_module.check_prerequisites()


def test_cli_input_errors_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.setenv("KB_LAB_NODE", "127.0.0.9")
    runner = CliRunner()
    result = runner.invoke(cli, ["lab", "up", "--scenario", "nope"])
    assert result.exit_code == 2 and "nope" in result.output
    result = runner.invoke(cli, ["lab", "submit", "long-test", "--conf", "broken"], standalone_mode=False)
    assert isinstance(result.exception, UsageProblem)
    result = runner.invoke(cli, ["lab", "status"])
    assert result.exit_code == 0 and "not running" in result.output
    assert not Path(tmp_path / "lab" / "state.json").exists()


def test_cli_main_maps_missing_prerequisite_to_exit_2(tmp_path, monkeypatch, capsys):
    from platform_kb.cli import main

    def no_java():
        raise MissingPrerequisite("Java not found: install the Debian package openjdk-17-jre-headless")

    monkeypatch.setenv("KB_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.setenv("KB_LAB_NODE", "127.0.0.9")
    monkeypatch.setattr(manager_module, "find_java", no_java)
    with pytest.raises(SystemExit) as exit_info:
        main(["lab", "up", "--scenario", "healthy"])
    assert exit_info.value.code == 2
    assert "openjdk-17-jre-headless" in capsys.readouterr().err
    assert not (tmp_path / "lab" / "state.json").exists()
