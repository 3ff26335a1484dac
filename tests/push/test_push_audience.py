"""Property: a user is only ever pushed about their own tickets, with what their customer projection holds.

Random conversations between users, agents and admins, with devices that
are registered, moved to another user (one phone, a new login) and removed,
sometimes while a push for them is still waiting. Every push FCM (the
emulator) receives is checked against who owned the token when it was sent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.jobs import JobRunner
from supportchat.push import FANOUT, NewDevice, OwnerKind, Platform, PushService, PushSettings

from ..push_emulator import FcmEmulator
from .conftest import fcm_client

USERS = (1, 2, 3)
AGENTS = (10, 11)
TOKENS = ("phone-a:x", "phone-b:x", "tablet-c:x", "agent-d:x")

action = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(TOKENS), st.sampled_from([*USERS, *AGENTS])),
    st.tuples(st.just("remove"), st.sampled_from(TOKENS), st.none()),
    st.tuples(st.just("ticket"), st.sampled_from(USERS), st.none()),
    st.tuples(st.just("admin_reply"), st.integers(0, 5), st.none()),
    st.tuples(st.just("user_reply"), st.integers(0, 5), st.none()),
    st.tuples(st.just("assign"), st.integers(0, 5), st.sampled_from(AGENTS)),
    st.tuples(st.just("resolve"), st.integers(0, 5), st.none()),
)
#: An action, and whether its pushes wait (fanned out, not sent) while the next action runs.
step = st.tuples(action, st.booleans())


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[FcmEmulator]:
    with FcmEmulator() as emulator:
        yield emulator


def _drain(runner: JobRunner) -> None:
    while runner.run_once():
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, min_size=1, max_size=25))
# A phone changes hands while a reply's push to its first owner waits: the push must not follow the phone.
@example(
    [
        (("ticket", 1, None), False),
        (("register", TOKENS[0], 1), False),
        (("admin_reply", 0, None), True),
        (("register", TOKENS[0], 2), False),
    ]
)
def test_a_user_never_receives_a_push_about_another_users_ticket(
    shared_emulator: FcmEmulator, steps: list[tuple[tuple[str, object, object], bool]]
) -> None:
    emulator = shared_emulator
    emulator.reset()
    store = InMemoryStore()
    desk = SupportDesk(store)
    client = fcm_client(emulator)
    service = PushService(store, client, PushSettings(quiet_window=0.0))
    kinds = {kind.name: kind for kind in service.kinds()}
    fan_out = JobRunner(store, [kinds[FANOUT]], jobs=service.jobs)
    everything = JobRunner(store, list(kinds.values()), jobs=service.jobs)
    owner: dict[str, tuple[OwnerKind, int]] = {}
    tickets: list[int] = []
    texts: dict[int, list[str]] = {}
    checked = 0
    try:
        for number, ((action, first, second), late) in enumerate(steps):
            if action == "register":
                assert isinstance(first, str) and isinstance(second, int)
                kind = OwnerKind.AGENT if second in AGENTS else OwnerKind.USER
                service.devices.register(NewDevice(first, kind, second, Platform.ANDROID, "en"))
                owner[first] = (kind, second)
            elif action == "remove":
                assert isinstance(first, str)
                service.devices.unregister(first)
                owner.pop(first, None)
            elif action == "ticket":
                assert isinstance(first, int)
                ticket = desk.create_ticket(Actor.user(first), subject=f"subject {number}", description="d")
                tickets.append(ticket.id)
                texts[ticket.id] = []
            elif tickets:
                assert isinstance(first, int) or first is None
                ticket_id = tickets[(first or 0) % len(tickets)]
                current = store.get_ticket(ticket_id)
                assert current is not None
                if current.status.value == "closed":
                    continue
                if action == "admin_reply":
                    text = f"admin says {number} on {ticket_id}"
                    desk.post_message(Actor.admin(AGENTS[0]), ticket_id, text)
                    texts[ticket_id].append(text)
                elif action == "user_reply":
                    desk.post_message(Actor.user(current.user_id), ticket_id, f"user says {number}")
                elif action == "assign":
                    desk.change_status(Actor.admin(AGENTS[0]), ticket_id, "in_progress", assigned_to=second)
                elif action == "resolve":
                    desk.change_status(Actor.admin(AGENTS[0]), ticket_id, "resolved")
            if late:
                _drain(fan_out)  # deliveries recorded, sends still waiting: the next step may move the token
                continue
            _drain(everything)
            for sent in emulator.accepted[checked:]:
                data = sent.message["data"]
                ticket = store.get_ticket(int(data["ticket_id"]))
                assert ticket is not None
                kind, who = owner[sent.token]  # the token is registered to someone right now
                if data["event"] in ("admin_reply", "resolved"):
                    assert (kind, who) == (OwnerKind.USER, ticket.user_id), (sent.token, data)
                    assert data["ticket_number"] == ticket.ticket_number
                    if data["event"] == "admin_reply":
                        assert sent.message["notification"]["body"] in texts[ticket.id]
                else:
                    assert kind is OwnerKind.AGENT, (sent.token, data)
                    if data["event"] == "user_reply":
                        assert who == ticket.assigned_to
            checked = len(emulator.accepted)
    finally:
        client.close()
