"""Kubeconfig read through the official loader: ``kube.context_server`` and the clients built from it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_kb import kube
from platform_kb.errors import UsageProblem


def write(path: Path, *, current: str | None = "lab", contexts: Any = None, clusters: Any = None) -> Path:
    data: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters
        if clusters is not None
        else [{"name": "lab", "cluster": {"server": "https://k8s-node.example.internal:6443"}}],
        "contexts": contexts
        if contexts is not None
        else [{"name": "lab", "context": {"cluster": "lab", "user": "lab"}}],
        "users": [{"name": "lab", "user": {"token": "t"}}],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_current_context_names_its_server(tmp_path: Path) -> None:
    clusters = [
        {
            "name": "lab",
            "cluster": {"server": "https://10.0.0.1:6443", "tls-server-name": "k8s-node.example.internal"},
        }
    ]
    found = kube.context_server(write(tmp_path / "config", clusters=clusters))
    assert (found.context, found.cluster, found.server) == ("lab", "lab", "https://10.0.0.1:6443")
    assert (found.scheme, found.hostname, found.tls_server_name) == (
        "https",
        "10.0.0.1",
        "k8s-node.example.internal",
    )


def test_a_server_without_scheme_is_https_and_http_stays_http(tmp_path: Path) -> None:
    http = [{"name": "lab", "cluster": {"server": "http://127.0.0.2:6443"}}]
    assert kube.server_scheme(write(tmp_path / "http", clusters=http)) == "http"
    assert (
        kube.context_server(write(tmp_path / "none", clusters=[{"name": "lab", "cluster": {}}])).scheme
        == "https"
    )


def test_several_files_merge_as_kubectl_merges_them(tmp_path: Path) -> None:
    """First file setting current-context decides; the first entry of each name wins."""
    first = write(
        tmp_path / "a",
        current=None,
        contexts=[{"name": "one", "context": {"cluster": "c"}}],
        clusters=[{"name": "c", "cluster": {"server": "https://first:6443"}}],
    )
    second = write(
        tmp_path / "b",
        current="one",
        contexts=[{"name": "two", "context": {"cluster": "c"}}],
        clusters=[{"name": "c", "cluster": {"server": "https://second:6443"}}],
    )
    third = write(tmp_path / "c", current="two", contexts=[], clusters=[])
    found = kube.context_server([first, second, third])
    assert (found.context, found.server) == ("one", "https://first:6443")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"current": None}, kube.NO_CURRENT_CONTEXT),
        ({"current": "gone"}, kube.UNKNOWN_CONTEXT),
        ({"contexts": [{"name": "lab", "context": {"cluster": "missing"}}]}, kube.UNKNOWN_CLUSTER),
    ],
)
def test_an_unresolved_context_says_which_part(tmp_path: Path, kwargs: dict[str, Any], reason: str) -> None:
    path = write(tmp_path / "config", **kwargs)
    with pytest.raises(kube.KubeconfigError) as caught:
        kube.context_server(path)
    assert caught.value.reason == reason and caught.value.where == str(path)
    assert kube.server_scheme(path) == "https"  # unknown: the client's default


@pytest.mark.parametrize("text", ["a: [b\n", "- 1\n- 2\n", ""])
def test_an_unreadable_file_is_named(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad"
    bad.write_text(text)
    good = write(tmp_path / "good")
    with pytest.raises(kube.KubeconfigError) as caught:
        kube.context_server([good, bad])
    assert caught.value.reason == kube.UNREADABLE and caught.value.where == str(bad)
    with pytest.raises(kube.KubeconfigError):
        kube.server_scheme(bad)  # unreadable is an error, not "https"


def test_a_missing_file_is_a_usage_problem(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem):
        kube.server_scheme(tmp_path / "nothing")
    with pytest.raises(UsageProblem):
        kube.api_client(tmp_path / "nothing")


def test_the_tunnel_client_keeps_scheme_and_certificate_name(tmp_path: Path) -> None:
    path = write(tmp_path / "config")
    api = kube.api_client_via(path, ("127.0.0.1", 40123))
    assert isinstance(api, kube.TunnelApiClient)
    assert api.configuration.host == "https://127.0.0.1:40123"
    assert api.configuration.tls_server_name == "k8s-node.example.internal"
    assert api.original == "https://k8s-node.example.internal:6443"
    http = write(
        tmp_path / "http", clusters=[{"name": "lab", "cluster": {"server": "http://127.0.0.2:6443"}}]
    )
    assert kube.api_client_via(http, ("127.0.0.1", 40123)).configuration.host == "http://127.0.0.1:40123"


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "config")
    assert kube.context_server("~" + os.sep + "config").context == "lab"
