from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings

from supportchat import SupportDesk
from supportchat.stores import Store

from .stores import BACKEND_MARKS, BACKENDS, StoreMaker

settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: Any) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(params=[pytest.param(name, marks=BACKEND_MARKS.get(name, [])) for name in BACKENDS])
def make_store(request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    """A factory of fresh empty stores, one parameter per backend in ``tests/stores.py``."""
    created: list[Store] = []
    with BACKENDS[request.param](request) as make:  # type: ignore[attr-defined]

        def fresh() -> Store:
            store = make()
            created.append(store)
            return store

        yield fresh
        for store in created:
            store.close()


@pytest.fixture
def store(make_store: StoreMaker) -> Store:
    return make_store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def desk(store: Store, clock: FakeClock) -> SupportDesk:
    return SupportDesk(store, clock=clock)


REDIS_URL = os.environ.get("SUPPORTCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for the shared rate-limit tests: unreachable skips them, or fails them when ``CI`` is set."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        reason = f"Redis is unreachable at {REDIS_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return REDIS_URL
