"""Fixtures of the sync unit tests: a scripted loopback server and a client whose waits are recorded."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.client import PortalClient
from sync.retry import RetryPolicy

from fakes import FakePortal, FakeStore
from httpstub import Reply, Request, StubServer


class RecordingClient(PortalClient):
    """A PortalClient that records its backoff waits instead of sleeping them."""

    waits: list[float]

    def backoff_wait(self, seconds: float, why: str) -> None:
        self.waits.append(seconds)
        self._check_cancel()


@pytest.fixture
def stub() -> Iterator[Callable[[Callable[[Request], Reply]], StubServer]]:
    """Start scripted servers for a test; all are closed afterwards."""
    servers: list[StubServer] = []

    def start(handler: Callable[[Request], Reply]) -> StubServer:
        server = StubServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def make_client() -> Callable[..., RecordingClient]:
    """Build a client with fast, seeded retries whose waits are recorded."""

    def build(url: str, token: str | None = "tok", **kwargs: object) -> RecordingClient:
        policy = RetryPolicy(attempts=4, base_delay=0.05, max_delay=1.0, max_retry_after=30.0, rng=random.Random(7))
        client = RecordingClient(url, token=token, retry=policy, **kwargs)  # type: ignore[arg-type]
        client.waits = []
        return client

    return build


@pytest.fixture
def portal() -> FakePortal:
    """An in-memory portal speaking the protocol (tests/sync/fakes.py)."""
    return FakePortal()


@pytest.fixture
def store(tmp_path: Path) -> FakeStore:
    """The sync-facing half of a store, in memory."""
    return FakeStore(tmp_path)
