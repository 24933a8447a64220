"""Patch formats: RFC 7386 merge patch, the strategic-merge subset, RFC 6902 JSON patch."""

from __future__ import annotations

import pytest

from platform_kb_lab.kubeapi.errors import Invalid
from platform_kb_lab.kubeapi.patch import json_patch, merge_patch, strategic_merge_patch


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [  # RFC 7386 appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_rfc7386(target: object, patch: object, expected: object) -> None:
    assert merge_patch(target, patch) == expected


def test_merge_patch_leaves_input_untouched_and_shares_unchanged_parts() -> None:
    target = {"spec": {"a": 1}, "status": {"big": [1, 2, 3]}}
    result = merge_patch(target, {"spec": {"a": 2}})
    assert target == {"spec": {"a": 1}, "status": {"big": [1, 2, 3]}}
    assert result["status"] is target["status"]


def test_strategic_merge_merges_containers_by_name() -> None:
    pod = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}
    patched = strategic_merge_patch(
        pod, {"spec": {"containers": [{"name": "b", "image": "z"}, {"name": "c"}]}}
    )
    assert patched["spec"]["containers"] == [
        {"name": "a", "image": "x"},
        {"name": "b", "image": "z"},
        {"name": "c"},
    ]
    deleted = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}})
    assert [c["name"] for c in deleted["spec"]["containers"]] == ["b"]
    replaced = strategic_merge_patch(
        {"metadata": {"labels": {"a": "1"}}}, {"metadata": {"labels": {"$patch": "replace", "b": "2"}}}
    )
    assert replaced == {"metadata": {"labels": {"b": "2"}}}
    assert strategic_merge_patch({"args": ["a"]}, {"args": ["b"]}) == {"args": ["b"]}


def test_json_patch_rfc6902() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 2]}}
    ops = [
        {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
        {"op": "replace", "path": "/metadata/labels/a", "value": "3"},
        {"op": "add", "path": "/spec/list/-", "value": 3},
        {"op": "remove", "path": "/spec/list/0"},
        {"op": "copy", "from": "/spec/list", "path": "/spec/copy"},
        {"op": "move", "from": "/spec/copy", "path": "/spec/moved"},
        {"op": "test", "path": "/spec/moved/0", "value": 2},
    ]
    assert json_patch(doc, ops) == {
        "metadata": {"labels": {"a": "3", "b/c": "2"}},
        "spec": {"list": [2, 3], "moved": [2, 3]},
    }
    assert doc["spec"]["list"] == [1, 2]
    with pytest.raises(Invalid):
        json_patch(doc, [{"op": "test", "path": "/spec/list/0", "value": 9}])
    with pytest.raises(Invalid):
        json_patch(doc, [{"op": "replace", "path": "/nope", "value": 1}])
