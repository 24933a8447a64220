"""Label and field selector parsing and matching, against the upstream grammar."""

from __future__ import annotations

import pytest

from platform_kb_lab.kubeapi.selectors import FieldSelector, LabelSelector, SelectorError, field_value

LABELS = {"app": "spark", "spark-role": "driver", "sparkoperator.k8s.io/app-name": "long-test", "n": "5"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("app=spark", True),
        ("app==spark", True),
        ("app=other", False),
        ("app!=other", True),
        ("app!=spark", False),
        ("missing!=x", True),  # != matches objects without the label
        ("spark-role in (driver,executor)", True),
        ("spark-role in (executor)", False),
        ("spark-role notin (executor)", True),
        ("spark-role notin (driver)", False),
        ("missing notin (a)", True),
        ("missing in (a)", False),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("sparkoperator.k8s.io/app-name=long-test,spark-role=driver", True),
        ("sparkoperator.k8s.io/app-name=long-test,spark-role=executor", False),
        (" app = spark , spark-role in ( driver , x ) ", True),
        ("n>4", True),
        ("n<5", False),
        ("app=", False),
        ("empty=", False),
    ],
)
def test_label_selector_matches(text: str, expected: bool) -> None:
    assert LabelSelector.parse(text).matches(LABELS) is expected


def test_empty_value_matches_empty_label() -> None:
    assert LabelSelector.parse("a=").matches({"a": ""})
    assert not LabelSelector.parse("a=").matches({})


@pytest.mark.parametrize(
    "text",
    [
        "app=spark,",
        "=x",
        "app in driver",
        "app in ()",
        "app in (a",
        "a b",
        "bad key=x",
        "app=-x",
        "n>x",
        "!",
        "a,,b",
    ],
)
def test_label_selector_rejects(text: str) -> None:
    with pytest.raises(SelectorError):
        LabelSelector.parse(text)


def test_label_selector_round_trips_to_string() -> None:
    text = "app=spark,spark-role in (driver,executor),!gone,tier"
    assert LabelSelector.parse(str(LabelSelector.parse(text))) == LabelSelector.parse(text)


def test_structured_label_selector() -> None:
    selector = LabelSelector.from_label_selector(
        {
            "matchLabels": {"app": "spark"},
            "matchExpressions": [
                {"key": "spark-role", "operator": "In", "values": ["driver"]},
                {"key": "gone", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches(LABELS)
    assert not selector.matches({**LABELS, "gone": "1"})
    assert LabelSelector.from_match_labels({"spark-role": "driver"}).matches(LABELS)
    with pytest.raises(SelectorError):
        LabelSelector.from_label_selector({"matchExpressions": [{"key": "a", "operator": "Near"}]})


OBJ = {
    "metadata": {"name": "long-test-driver", "namespace": "spark"},
    "status": {"phase": "Running"},
    "spec": {"hostNetwork": False},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metadata.name=long-test-driver", True),
        ("metadata.name==long-test-driver", True),
        ("metadata.name!=long-test-driver", False),
        ("metadata.namespace=spark,status.phase=Running", True),
        ("status.phase=Pending", False),
        ("status.phase!=Pending", True),
        ("spec.nodeName=", True),  # absent fields compare as ""
        ("spec.hostNetwork=false", True),
    ],
)
def test_field_selector_matches(text: str, expected: bool) -> None:
    assert FieldSelector.parse(text).matches(lambda label: field_value(OBJ, label)) is expected


def test_field_selector_escapes() -> None:
    selector = FieldSelector.parse(r"metadata.name=a\,b\=c")
    assert selector.requirements[0].value == "a,b=c"
    assert str(selector) == r"metadata.name=a\,b\=c"
    with pytest.raises(SelectorError):
        FieldSelector.parse("metadata.name")
    with pytest.raises(SelectorError):
        FieldSelector.parse(r"metadata.name=a\x")
