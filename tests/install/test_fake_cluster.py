"""The fake cluster answers only the commands it models: anything else fails the test, never succeeds."""

from __future__ import annotations

import pytest

from platform_kb.install import commands as c

from .conftest import FakeCluster, UnknownCommand


def test_an_unknown_command_is_refused(cluster: FakeCluster) -> None:
    with pytest.raises(UnknownCommand, match="HelmUninstall"):
        cluster.runner().run(c.HelmUninstall("airflow", "airflow"))


def test_a_repo_update_needs_the_repo(cluster: FakeCluster) -> None:
    assert cluster.runner().run(c.HelmRepoUpdate("apache-airflow"), check=False).rc == 1
