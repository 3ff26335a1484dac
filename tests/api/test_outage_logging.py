"""A storage outage is logged once per interval, not once per failed request (both adapters)."""

from __future__ import annotations

import logging

import pytest

from supportchat import SupportDesk
from supportchat.stores import InMemoryStore

from ..faults import FaultyStore
from .conftest import make_api


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_failed_requests_during_an_outage_logs_one_traceback(
    adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = FaultyStore(InMemoryStore())
    api = make_api(adapter, SupportDesk(store), store)  # type: ignore[arg-type]
    store.down = True
    caplog.set_level(logging.ERROR, logger="supportchat")
    for _ in range(300):
        assert api.call("GET", "/tickets", headers=api.admin).status == 503
    assert len([r for r in caplog.records if r.exc_info]) <= 1
    assert len(caplog.records) <= 1


def test_an_outage_is_logged_once_per_interval_with_the_count_held_back(
    adapter: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supportchat.http import envelope
    from supportchat.outages import OutageLog

    clock = Clock()
    monkeypatch.setattr(envelope, "storage_outages", OutageLog(envelope.logger, interval=10, clock=clock))
    store = FaultyStore(InMemoryStore())
    api = make_api(adapter, SupportDesk(store), store)  # type: ignore[arg-type]
    store.down = True
    caplog.set_level(logging.ERROR, logger="supportchat.http")

    for _ in range(300):
        reply = api.call("GET", "/tickets", headers=api.admin)
        assert reply.status == 503
    records = [r for r in caplog.records if r.name == "supportchat.http"]
    assert len(records) == 1, f"{len(records)} records for one outage"
    assert records[0].exc_info is not None and "storage_unavailable" in records[0].getMessage()

    clock.now += 10
    assert api.call("GET", "/tickets", headers=api.admin).status == 503
    records = [r for r in caplog.records if r.name == "supportchat.http"]
    assert len(records) == 2
    assert "299 more like it in the last 10 s were not logged" in records[1].getMessage()


def test_each_kind_of_failure_has_its_own_interval(caplog: pytest.LogCaptureFixture) -> None:
    from supportchat.outages import OutageLog

    clock = Clock()
    log = OutageLog(logging.getLogger("supportchat.test"), interval=5, clock=clock)
    caplog.set_level(logging.ERROR, logger="supportchat.test")
    failure = RuntimeError("down")
    assert log.report("a", "a failed", failure)
    assert not log.report("a", "a failed", failure)
    assert log.report("b", "b failed", failure)  # another kind is not held back by the first
    clock.now += 4.9
    assert not log.report("a", "a failed", failure)
    clock.now += 0.1
    assert log.report("a", "a failed", failure)
    assert [r.getMessage() for r in caplog.records] == [
        "a failed",
        "b failed",
        "a failed (2 more like it in the last 5 s were not logged)",
    ]
    with pytest.raises(ValueError):
        OutageLog(logging.getLogger("x"), interval=0)
