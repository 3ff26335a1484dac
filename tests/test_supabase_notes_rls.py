"""Internal notes and tags under the shipped SQL's row-level security, for real on PostgreSQL.

Through the real ``supabase`` client and the PostgREST emulator (which switches to the JWT's
role and claims): a ticket's owner cannot select a note row or a tag row of their own ticket,
nor the change records and events that tell of them, nor write either; admins and the service
role do both.
"""

from __future__ import annotations

import pytest
from postgrest.exceptions import APIError

from supportchat import Actor, SupportDesk
from supportchat.errors import Forbidden
from supportchat.models import ActorKind, EventType, NewNote

from .postgrest_emulator import user_token
from .postgrest_emulator.session import shared_project

pytestmark = pytest.mark.postgres

ALICE, BOB, ADMIN = 1, 2, 100
SECRET_NOTE = "QXNOTE: refund approved by finance"


def test_an_owner_cannot_select_a_note_or_a_tag_of_their_own_ticket(request: pytest.FixtureRequest) -> None:
    project = shared_project(request)
    project.reset()
    desk = SupportDesk(project.store())
    ticket = desk.create_ticket(Actor.user(ALICE), subject="Alice's", description="card declined")
    desk.post_message(Actor.admin(ADMIN), ticket.id, "looking into it")
    note = desk.add_note(Actor.admin(ADMIN), ticket.id, SECRET_NOTE)
    desk.set_tags(Actor.admin(ADMIN), ticket.id, ["vip", "refund"])

    alice = project.client(token=user_token(ALICE))
    assert len(alice.table("support_tickets").select("*").execute().data) == 1  # RLS lets her see her ticket
    assert alice.table("support_ticket_notes").select("*").execute().data == []
    assert alice.table("support_ticket_notes").select("*").eq("id", note.id).execute().data == []
    assert alice.table("support_ticket_tags").select("*").execute().data == []
    changes = alice.table("support_ticket_changes").select("*").execute().data
    assert changes == [] and all(c["field"] not in ("note", "tags") for c in changes)
    events = alice.table("support_events").select("*").execute().data
    assert {e["type"] for e in events} == {EventType.TICKET_CREATED.value, EventType.MESSAGE_CREATED.value}
    assert all(SECRET_NOTE not in str(row) for row in (*events, *changes))

    # Her store (what a Flutter app holding her JWT could do) learns nothing either, and writes nothing.
    own = project.store(token=user_token(ALICE))
    assert own.list_notes(ticket.id) == [] and own.ticket_tags([ticket.id]) == {}
    assert own.statistics().by_tag == {}
    assert not [e for e in own.events_after(0) if e.type in (EventType.NOTE_CREATED, EventType.TAGS_CHANGED)]
    with pytest.raises(Forbidden):
        own.insert_note(
            NewNote(
                ticket_id=ticket.id,
                author_id=ALICE,
                author_kind=ActorKind.ADMIN,
                note="forged",
                created_at=note.created_at,
                uid="forged-1",
            )
        )
    with pytest.raises(Forbidden):
        own.replace_tags(ticket.id, expected=("refund", "vip"), tags=())
    for table in ("support_ticket_notes", "support_ticket_tags"):
        with pytest.raises(APIError):
            alice.table(table).delete().eq("ticket_id", ticket.id).execute()
        with pytest.raises(APIError):
            alice.table(table).insert({"ticket_id": ticket.id, "tag": "x", "note": "x"}).execute()

    # Even asking for a staff search, her JWT finds nothing through the note (row-level security decides).
    found = (
        alice.rpc(
            "support_search_tickets",
            {
                "p_search": {
                    "any": "refund:*",
                    "terms": ["refund:*"],
                    "numbers": [],
                    "staff": True,
                    "limit": 20,
                    "offset": 0,
                }
            },
        )
        .execute()
        .data
    )
    assert found["total"] == 0
    staff = desk.list_tickets(Actor.admin(ADMIN), q="refund")
    assert [t.id for t in staff.items] == [ticket.id]  # the service role's staff search does read it

    # Another user, and anon, see nothing; an admin's JWT and the service role see it all.
    assert project.client(token=user_token(BOB)).table("support_ticket_notes").select("*").execute().data == []
    with pytest.raises(APIError):
        project.client().table("support_ticket_notes").select("*").execute()
    admin = project.store(token=user_token(ADMIN, admin=True))
    assert [n.note for n in admin.list_notes(ticket.id)] == [SECRET_NOTE]
    assert admin.ticket_tags([ticket.id]) == {ticket.id: ("refund", "vip")}
    assert admin.statistics().by_tag == {"refund": 1, "vip": 1}
    assert {c.field for c in admin.list_changes(ticket.id)} >= {"note", "tags"}
    assert desk.store.ticket_tags([ticket.id]) == {ticket.id: ("refund", "vip")}
