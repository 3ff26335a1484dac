"""The one optimistic re-read loop (``supportchat.optimistic``) and the desk's use of it."""

from __future__ import annotations

from typing import Any

import pytest

from supportchat import ConcurrentUpdate, SupportDesk
from supportchat.optimistic import UPDATE_ATTEMPTS, retry_at_fresh_version
from supportchat.stores import InMemoryStore

from .helpers import ADMIN, open_ticket


def test_each_refused_write_is_decided_again_on_a_fresh_read() -> None:
    reads: list[int] = []

    def read() -> int:
        reads.append(len(reads) + 1)
        return reads[-1]

    def write(version: int) -> str:
        if version < 3:
            raise ConcurrentUpdate("moved on")
        return f"written at {version}"

    assert retry_at_fresh_version(write, read) == "written at 3"
    assert reads == [1, 2, 3]
    assert retry_at_fresh_version(write, read, first=7) == "written at 7"
    assert reads == [1, 2, 3]


def test_the_budget_is_one_number_and_then_the_caller_hears_of_it() -> None:
    tries: list[int] = []

    def write(version: int) -> None:
        tries.append(version)
        raise ConcurrentUpdate("moved on")

    with pytest.raises(ConcurrentUpdate, match="kept changing"):
        retry_at_fresh_version(write, lambda: 0, gave_up="kept changing")
    assert len(tries) == UPDATE_ATTEMPTS


class AlwaysMovedOn(InMemoryStore):
    """A store where some other writer always came first."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def update_ticket(self, *args: Any, **kwargs: Any) -> Any:
        self.refused += 1
        raise ConcurrentUpdate("moved on")

    def insert_message(self, *args: Any, **kwargs: Any) -> Any:
        self.refused += 1
        raise ConcurrentUpdate("moved on")


@pytest.mark.parametrize("write", ["priority", "message", "status"])
def test_every_desk_write_spends_the_same_budget(write: str) -> None:
    store = AlwaysMovedOn()
    desk = SupportDesk(store)
    ticket = open_ticket(desk)
    with pytest.raises(ConcurrentUpdate, match="too fast"):
        if write == "priority":
            desk.set_priority(ADMIN, ticket.id, "high")
        elif write == "message":
            desk.post_message(ADMIN, ticket.id, "hello")
        else:
            desk.change_status(ADMIN, ticket.id, "resolved")
    assert store.refused == UPDATE_ATTEMPTS
