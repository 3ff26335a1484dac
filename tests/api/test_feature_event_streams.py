"""Features' entries on the live streams, over real sockets, through both adapters and the stream backends.

A transfer (the teams feature's route) and an SLA breach or bot handoff
(appended through the desk's seam as those features do) reach every admin
stream, with their ``data``; the ticket's owner sees the transfer's
``ticket_updated`` and nothing else of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from supportchat import Actor, SupportDesk
from supportchat.automation.bot import BOT_HANDOFF
from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.people import agent_store, parse_agent
from supportchat.realtime import LiveEvents
from supportchat.sla import SLA_BREACHED
from supportchat.teams.feature import feature as teams_feature

from .conftest import SECRET
from .live_server import serve
from .test_events import HEARTBEAT, Served, open_ticket, stream_store  # noqa: F401  (the fixture)


@pytest.fixture
def served(adapter: str, stream_store: object) -> Iterator[Served]:  # noqa: F811
    store = stream_store
    desk = SupportDesk(store)  # type: ignore[arg-type]
    for agent_id in (1, 2):
        agent_store(desk.store).put_agent(parse_agent(id=agent_id, name=f"agent {agent_id}"))
    live = LiveEvents(desk, heartbeat=HEARTBEAT, listen=False)
    tokens = InMemoryAdminTokens()
    _, admin_token = tokens.create("ana")
    users = UserTokens(SECRET)
    authenticator = TokenAuthenticator(tokens, users)
    with serve(adapter, desk, live=live, authenticator=authenticator, features=[teams_feature()]) as base:
        yield Served(base, desk, live, {"Authorization": f"Bearer {admin_token}"}, users)
        live.close()


def test_feature_entries_reach_admin_streams_and_never_the_owners(served: Served) -> None:
    ticket = open_ticket(served, 10, "Vuelo cambiado")
    admins = [served.stream("/events", served.admin), served.stream("/events", served.admin)]
    owner = served.stream("/user/10/events", served.user(10))

    moved = httpx.post(
        served.url(f"/tickets/{ticket}/transfer"),
        headers=served.admin,
        json={"to": 2, "reason": "habla alemán", "note": "cliente vip"},
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    served.desk.record_event(Actor.system(), ticket, SLA_BREACHED.name, data={"target": "first_response"})
    served.desk.record_event(Actor.admin(900), ticket, BOT_HANDOFF.name, data={"reason": "asked_for_human"})

    for admin in admins:
        seen = admin.events(4)
        assert [e.event for e in seen] == ["ticket_updated", "ticket_transferred", "sla_breached", "bot_handoff"]
        transferred = seen[1].payload
        assert transferred["type"] == "ticket_transferred" and transferred["ticket_id"] == ticket
        assert transferred["data"]["to_agent"] == 2 and transferred["data"]["reason"] == "habla alemán"
        assert transferred["ticket"]["assigned_to"] == 2
        assert seen[2].payload["data"] == {"target": "first_response"}
        assert all(e.id == str(e.payload["event_id"]) for e in seen)
    mine = owner.events(1) + owner.quiet_events(3 * HEARTBEAT)
    assert [e.event for e in mine] == ["ticket_updated"]
    assert "data" not in mine[0].payload and "alemán" not in mine[0].data and "first_response" not in mine[0].data

    # A reconnecting admin reads them from the log itself (the catch-up path renders the same frames).
    caught = served.stream("/events?last_event_id=0", served.admin).events(5)
    assert [e.event for e in caught] == [
        "ticket_created",
        "ticket_updated",
        "ticket_transferred",
        "sla_breached",
        "bot_handoff",
    ]
    resumed = served.stream("/user/10/events?last_event_id=0", served.user(10))
    assert [e.event for e in resumed.events(2) + resumed.quiet_events(3 * HEARTBEAT)] == [
        "ticket_created",
        "ticket_updated",
    ]
