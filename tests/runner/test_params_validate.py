"""Parameter declarations and validation, in-process (no kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from platform_kb.errors import UsageProblem
from platform_kb.paths import ProjectPaths
from platform_kb.runner.coerce import coerce
from platform_kb.runner.execute import RunRequest, validate_request
from platform_kb.runner.params import parse_parameter_source
from platform_kb.runner.source import load_runbook
from platform_kb.runner.validate import resolve_parameters

CELL = """
import os  # not a parameter
# 노드 주소
node_host: str = ""  # [required]
ingress_nodeport: int = 30998  # ingress-nginx의 NodePort [30000..32767]
ratio: float = 0.5  # 비율 [0..1]
mode: str = "check"  # 실행 모드 [check|fix]
minio_key: str = "env:MINIO_SECRET_KEY"  # MinIO 비밀 키 [secret]
note: str | None = None  # 메모 [see docs]
tags: list[str] = ["a"]  # 태그
verbose = False  # 자세히
"""


def specs():
    return {s.name: s for s in parse_parameter_source(CELL, "test")}


def test_parse_declarations() -> None:
    s = specs()
    assert list(s) == [
        "node_host",
        "ingress_nodeport",
        "ratio",
        "mode",
        "minio_key",
        "note",
        "tags",
        "verbose",
    ]
    assert s["node_host"].required and s["node_host"].description == "노드 주소"
    port = s["ingress_nodeport"]
    assert (port.type, port.default, port.low, port.high) == ("int", 30998, 30000, 32767)
    assert port.description == "ingress-nginx의 NodePort"
    assert s["mode"].choices == ("check", "fix")
    assert s["minio_key"].secret and s["minio_key"].type == "str"
    assert s["note"].nullable and s["note"].description == "메모 [see docs]"  # not a marker: kept
    assert s["tags"].type == "list" and s["verbose"].type == "bool"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x: int = foo()", "default must be a literal"),
        ("x: set = {1}", "unsupported type"),
        ("x: str = 'a'  # [1..3]", "range [1..3] needs an int or float"),
        ("k: str = 'plain'  # [secret]", "[secret] parameter"),
        ("x: int = 1  # [a|b]", "expected int"),
        ("x = (", "not valid Python"),
    ],
)
def test_bad_declarations(source: str, message: str) -> None:
    with pytest.raises(
        UsageProblem, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
    ):
        parse_parameter_source(source, "test")


def test_coerce() -> None:
    assert coerce("int", "42", "w") == 42
    assert coerce("float", "1", "w") == 1.0
    assert coerce("bool", "yes", "w") is True and coerce("bool", "off", "w") is False
    assert coerce("list", "[1, 2]", "w") == [1, 2]
    assert coerce("dict", "{a: 1}", "w") == {"a": 1}
    for type_name, value in (
        ("int", True),
        ("int", 1.5),
        ("int", "1.5"),
        ("bool", "maybe"),
        ("list", "a: 1"),
        ("str", [1]),
    ):
        with pytest.raises(UsageProblem):
            coerce(type_name, value, "w")


def test_merge_order_profile_then_file_then_cli() -> None:
    env = {"MINIO_SECRET_KEY": "minio-secret-value"}
    resolved = resolve_parameters(
        list(specs().values()),
        profile={
            "node_host": "from-profile",
            "ingress_nodeport": 30001,
            "bastion_user": "ignored-undeclared",
        },
        params_file={"ingress_nodeport": 30002, "ratio": 1},
        cli=[("ingress_nodeport", "30003"), ("note", "none"), ("verbose", "true")],
        environ=env,
    )
    v = resolved.values
    assert (v["node_host"], v["ingress_nodeport"], v["ratio"], v["note"], v["verbose"]) == (
        "from-profile",
        30003,
        1.0,
        None,
        True,
    )
    assert resolved.sources["node_host"] == "profile" and resolved.sources["ingress_nodeport"] == "-p"
    assert resolved.sources["ratio"] == "params file" and resolved.sources["mode"] == "default"
    assert v["minio_key"] == "env:MINIO_SECRET_KEY"  # the reference is injected, never the value
    assert resolved.secret_values == ("minio-secret-value",)


def test_every_problem_is_reported_with_its_parameter() -> None:
    with pytest.raises(UsageProblem) as caught:
        resolve_parameters(
            list(specs().values()),
            params_file={"ingres_nodeport": 1},
            cli=[("ingress_nodeport", "80"), ("mode", "nuke"), ("minio_key", "plaintext-secret")],
            environ={},
        )
    text = str(caught.value)
    assert "unknown parameter 'ingres_nodeport' (did you mean 'ingress_nodeport'?)" in text
    assert "parameter 'ingress_nodeport': 80 is outside the allowed range 30000..32767" in text
    assert "parameter 'mode': 'nuke' is not one of check | fix" in text
    assert "parameter 'minio_key' is a secret" in text and "plaintext-secret" not in text
    assert "parameter 'node_host' is required" in text


def test_optional_secret_that_does_not_resolve_is_left_to_the_kernel() -> None:
    resolved = resolve_parameters(list(specs().values()), cli=[("node_host", "n")], environ={})
    assert resolved.secret_values == ()


def test_validate_request_with_profile_and_params_file(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "runbooks").mkdir(parents=True)
    (root / "runbooks" / "probe.py").write_text(
        '# %% [markdown]\n# # 탐침\n\n# %% tags=["parameters"]\n'
        'bastion_host: str = ""  # [required]\nnode_host: str = ""  # [required]\n'
        "ingress_nodeport: int = 30998  # [30000..32767]\nlocal_port: int = 0\n\n# %%\nprint(node_host)\n"
    )
    profile = tmp_path / "home.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "bastion": {"host": "bastion.example.internal"},
                "node": {"host": "10.0.0.5", "ingress_nodeport": 30998},
            }
        )
    )
    params = tmp_path / "p.yaml"
    params.write_text("ingress_nodeport: 31000\n")
    paths = ProjectPaths(root)
    source = load_runbook("probe", paths)
    request = RunRequest(
        "probe", profile=str(profile), params_file=params, cli_params=(("local_port", "8081"),), paths=paths
    )
    values = validate_request(request, source).values
    assert values == {
        "bastion_host": "bastion.example.internal",
        "node_host": "10.0.0.5",
        "ingress_nodeport": 31000,
        "local_port": 8081,
    }


def test_locate_runbook_errors(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    with pytest.raises(UsageProblem, match="runbook 'nope' not found"):
        load_runbook("nope", paths)
    with pytest.raises(UsageProblem, match="runbook file not found"):
        load_runbook(str(tmp_path / "missing.py"), paths)


def test_source_purpose_and_prerequisites(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "x.py").write_text(
        "# %% [markdown]\n# # 제목\n#\n# 목적 첫 문단.\n#\n# 둘째 문단.\n#\n# ## 준비물\n#\n# - 프로필\n#\n# ## 실행\n# kb run x\n"
    )
    source = load_runbook("x", ProjectPaths(tmp_path))
    assert source.title == "제목"
    assert source.purpose == "목적 첫 문단.\n\n둘째 문단."
    assert source.prerequisites == "- 프로필"
    assert source.params == []


SCHEMA_CELL = """
params_schema = "platform_kb.runner.connection:ConnectionParams"
namespace: str = "spark"  # 네임스페이스 [required]
"""


def test_a_named_schema_declares_its_fields_where_the_cell_names_it() -> None:
    s = {spec.name: spec for spec in parse_parameter_source(SCHEMA_CELL, "test")}
    assert list(s)[:3] == ["bastion_host", "bastion_port", "bastion_user"] and list(s)[-1] == "namespace"
    assert "params_schema" not in s
    assert s["bastion_host"].required and s["bastion_host"].description.startswith("배스천 호스트")
    assert (s["bastion_port"].type, s["bastion_port"].default, s["bastion_port"].low) == ("int", 22, 1)
    assert s["host_key_policy"].choices == ("yes", "accept-new")
    assert s["kubeconfig"].path and s["kubeconfig"].required  # a profile file: checked as [file]


def test_schema_specs_validate_like_literal_ones() -> None:
    specs = parse_parameter_source(SCHEMA_CELL, "test")
    with pytest.raises(UsageProblem) as info:
        resolve_parameters(specs, cli=[("bastion_port", "0"), ("host_key_policy", "no")])
    text = str(info.value)
    assert "'bastion_port': 0 is outside the allowed range 1..65535" in text
    assert "'host_key_policy': 'no' is not one of yes | accept-new" in text
    assert "parameter 'bastion_host' is required" in text


def test_a_schema_field_without_param_is_refused() -> None:
    from dataclasses import dataclass

    from platform_kb.runner.params import schema_specs

    @dataclass(frozen=True)
    class Loose:
        x: int = 1

    with pytest.raises(UsageProblem, match="not declared with param"):
        schema_specs(Loose, "test")


def test_build_fills_defaults_and_converts_values() -> None:
    from platform_kb.runner.connection import ConnectionParams
    from platform_kb.runner.params import build

    p = build(ConnectionParams, {"bastion_host": "b", "api_port": "7443", "local_port": 0, "other": 1})
    assert (p.bastion_host, p.api_port, p.local_port, p.ingress_nodeport) == ("b", 7443, 0, 30998)
    assert p.tunnel_parameters()["node_host"] == ""
