"""Fixtures for the lab kube API tests: a fresh store, a server on a free loopback port, the official client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from platform_kb_lab.kubeapi import KubeApiServer, ObjectStore


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore()


@pytest.fixture
def server(store: ObjectStore) -> Iterator[KubeApiServer]:
    srv = KubeApiServer(store, host="127.0.0.1", port=0).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def api_client(server: KubeApiServer) -> Iterator[client.ApiClient]:
    configuration = client.Configuration(host=server.url)
    api = client.ApiClient(configuration)
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)
