"""A stream asks again who its caller is, and ends when the answer changes or the credential expires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from supportchat import Actor, InMemoryStore, StorageUnavailable, SupportDesk
from supportchat.realtime import Frame, LiveEvents

ADMIN = Actor.admin(1)
SIGNED_OUT = "credentials no longer valid"


@pytest.fixture
def live() -> LiveEvents:
    return LiveEvents(SupportDesk(InMemoryStore()), heartbeat=30.0, listen=False)


class Caller:
    """A recheck whose answer the test changes; counts its calls."""

    def __init__(self, actor: Actor | None = ADMIN) -> None:
        self.actor = actor
        self.calls = 0
        self.error: Exception | None = None

    def __call__(self) -> Actor | None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.actor


def run_until_it_ends(frames: list[Frame], stream_frames: object, limit: float) -> float:
    started = time.monotonic()
    for frame in stream_frames:  # type: ignore[attr-defined]
        frames.append(frame)
        assert time.monotonic() - started < limit, "the stream did not end"
    return time.monotonic() - started


@pytest.mark.parametrize(
    "change",
    [
        lambda caller: setattr(caller, "actor", None),  # revoked
        lambda caller: setattr(caller, "actor", Actor.admin(2)),  # the credentials now name someone else
        lambda caller: setattr(caller, "error", StorageUnavailable("registry down")),  # cannot vouch for it
    ],
)
def test_the_stream_ends_at_the_first_check_that_does_not_name_its_actor(
    live: LiveEvents, change: Callable[[Caller], None]
) -> None:
    caller = Caller()
    stream = live.stream(ADMIN, recheck=caller, recheck_interval=0.2)
    frames: list[Frame] = []
    generator = stream.frames()
    frames.append(next(generator))  # the opening
    live.desk.create_ticket(Actor.user(5), subject="Antes", description="d")
    frames.append(next(generator))
    assert frames[-1].event == "ticket_created"
    change(caller)
    lasted = run_until_it_ends(frames, generator, 5)
    assert lasted < 1.0
    assert frames[-1].comment == SIGNED_OUT
    assert caller.calls >= 1
    assert live.broker.listeners == 0


def test_checks_are_spaced_by_the_interval_not_made_per_event(live: LiveEvents) -> None:
    caller = Caller()
    stream = live.stream(ADMIN, recheck=caller, recheck_interval=60)
    generator = stream.frames()
    next(generator)
    for number in range(20):
        live.desk.create_ticket(Actor.user(5), subject=f"T{number}", description="d")
    events = [next(generator) for _ in range(20)]
    assert all(frame.event == "ticket_created" for frame in events)
    assert caller.calls == 0  # the caller was checked when the stream opened; the next check is a minute away
    generator.close()


def test_without_recheck_the_stream_still_ends_when_the_credential_expires(live: LiveEvents) -> None:
    stream = live.stream(ADMIN, expires_at=datetime.now(UTC) + timedelta(seconds=0.5))
    frames: list[Frame] = []
    lasted = run_until_it_ends(frames, stream.frames(), 5)
    assert 0.4 <= lasted < 1.5
    assert frames[-1].comment == SIGNED_OUT


def test_the_async_stream_ends_at_expiry_between_heartbeats(live: LiveEvents) -> None:
    caller = Caller()
    stream = live.stream(ADMIN, recheck=caller, expires_at=datetime.now(UTC) + timedelta(seconds=0.5))

    async def collect() -> tuple[list[Frame], float]:
        started = time.monotonic()
        frames = [frame async for frame in stream.aframes()]
        return frames, time.monotonic() - started

    # On a thread of its own: Playwright's sync API (the panel's browser tests) may keep a loop on this one.
    with ThreadPoolExecutor(max_workers=1) as runner:
        frames, lasted = runner.submit(asyncio.run, asyncio.wait_for(collect(), 5)).result(timeout=30)
    assert 0.4 <= lasted < 1.5  # heartbeats are 30 s apart: the expiry alone ended it
    assert frames[-1].comment == SIGNED_OUT


def test_a_bad_recheck_interval_is_refused(live: LiveEvents) -> None:
    with pytest.raises(ValueError):
        live.stream(ADMIN, recheck=Caller(), recheck_interval=0)
