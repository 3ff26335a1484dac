"""Row-level security and the functions' own checks, run for real on PostgreSQL.

Each request goes through the real ``supabase`` client and the emulator,
which switches to the JWT's role and publishes its claims before running the
statement, so these tests exercise the shipped SQL's grants, policies and
SECURITY DEFINER re-checks, not Python code.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from postgrest.exceptions import APIError
from supabase import Client

from supportchat import Actor, SupportDesk
from supportchat.errors import Forbidden, TicketClosed, TicketNotFound
from supportchat.models import Message, MessageType, NewMessage, SenderType, Ticket, TicketQuery, TicketStatus
from supportchat.stores.supabase import SupabaseStore

from .postgrest_emulator import EmulatedProject, mint, user_token
from .postgrest_emulator.session import shared_project

pytestmark = pytest.mark.postgres

ALICE, BOB, ADMIN = 1, 2, 100


@dataclass
class World:
    project: EmulatedProject
    service: SupabaseStore
    alice_ticket: Ticket
    bob_ticket: Ticket
    alice_message: Message

    def client(self, user_id: int | None = None, *, admin: bool = False) -> Client:
        token = None if user_id is None else user_token(user_id, admin=admin)
        return self.project.client(token=token)

    def store(self, user_id: int, *, admin: bool = False) -> SupabaseStore:
        return self.project.store(token=user_token(user_id, admin=admin))


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    project = shared_project(request)
    project.reset()
    service = project.store()
    desk = SupportDesk(service)
    alice_ticket = desk.create_ticket(Actor.user(ALICE), subject="Alice's", description="card declined")
    bob_ticket = desk.create_ticket(Actor.user(BOB), subject="Bob's", description="flight moved")
    alice_message = desk.post_message(Actor.user(ALICE), alice_ticket.id, "any news?")
    desk.post_message(Actor.admin(ADMIN), alice_ticket.id, "looking into it")
    desk.change_status(Actor.admin(ADMIN), alice_ticket.id, "in_progress")
    alice_ticket = service.get_ticket(alice_ticket.id) or alice_ticket
    return World(project, service, alice_ticket, bob_ticket, alice_message)


def rows(client: Client, table: str) -> list[dict[str, object]]:
    data: list[dict[str, object]] = client.table(table).select("*").execute().data  # type: ignore[assignment]
    return data


def refused(call: object, code: str = "42501") -> APIError:
    with pytest.raises(APIError) as raised:
        call.execute()  # type: ignore[attr-defined]
    assert raised.value.code == code, raised.value
    return raised.value


# -- reading ------------------------------------------------------------------


def test_a_user_reads_only_their_own_rows(world: World) -> None:
    bob = world.client(BOB)
    assert {row["id"] for row in rows(bob, "support_tickets")} == {world.bob_ticket.id}
    assert rows(bob, "support_messages") == []
    assert rows(bob, "support_ticket_changes") == []
    assert {row["user_id"] for row in rows(bob, "support_events")} == {BOB}
    alice = world.client(ALICE)
    assert {row["id"] for row in rows(alice, "support_tickets")} == {world.alice_ticket.id}
    assert len(rows(alice, "support_messages")) == 2
    assert len(rows(alice, "support_ticket_changes")) == 1


def test_user_b_cannot_read_or_list_user_as_tickets_through_the_store(world: World) -> None:
    bob = world.store(BOB)
    assert bob.get_ticket(world.alice_ticket.id) is None
    assert bob.get_ticket_by_number(world.alice_ticket.ticket_number) is None
    assert bob.list_messages(world.alice_ticket.id) == []
    assert bob.list_changes(world.alice_ticket.id) == []
    assert bob.get_message_by_uid(world.alice_message.uid or "") is None
    tickets, total = bob.list_tickets(TicketQuery())
    assert [t.id for t in tickets] == [world.bob_ticket.id]
    assert total == 1
    assert bob.list_tickets(TicketQuery(user_id=ALICE)) == ([], 0)
    assert bob.statistics().total_tickets == 1
    assert {e.user_id for e in bob.events_after(0)} == {BOB}


def test_anon_sees_nothing_and_calls_nothing(world: World) -> None:
    anon = world.client()
    for table in ("support_tickets", "support_messages", "support_ticket_changes", "support_events"):
        with pytest.raises(APIError) as raised:
            anon.table(table).select("*").execute()
        assert raised.value.code == "42501"
    refused(anon.rpc("support_statistics", {}))
    refused(anon.rpc("support_mark_read", {"p_ticket_id": world.alice_ticket.id, "p_sender_type": "user"}))


def test_admins_by_app_metadata_and_the_service_role_see_everything(world: World) -> None:
    admin = world.client(ADMIN, admin=True)
    assert len(rows(admin, "support_tickets")) == 2
    assert len(rows(admin, "support_messages")) == 2
    assert world.store(ADMIN, admin=True).statistics().total_tickets == 2
    assert world.service.statistics().total_tickets == 2
    # The same user id without the app_metadata claim is an ordinary user.
    assert rows(world.client(ADMIN), "support_tickets") == []


def test_a_token_signed_with_another_secret_is_refused(world: World) -> None:
    forged = mint({"sub": str(ADMIN), "role": "service_role"}, secret="not-the-project-secret-0123456789abcdef")
    with pytest.raises(APIError) as raised:
        world.project.client(token=forged).table("support_tickets").select("*").execute()
    assert raised.value.code == "PGRST301"


# -- writing ------------------------------------------------------------------


def test_user_b_cannot_post_to_user_as_ticket(world: World) -> None:
    bob = SupportDesk(world.store(BOB))
    with pytest.raises(TicketNotFound):
        bob.post_message(Actor.user(BOB), world.alice_ticket.id, "let me in")
    forged = world.client(BOB).rpc(
        "support_insert_message",
        {
            "p_message": {
                "ticket_id": world.alice_ticket.id,
                "sender_id": BOB,
                "sender_type": "user",
                "message": "let me in",
                "uid": "bob-1",
            }
        },
    )
    refused(forged, "PT404")
    assert len(world.service.list_messages(world.alice_ticket.id)) == 2


def test_a_user_cannot_open_a_ticket_for_someone_else(world: World) -> None:
    ticket = {
        "ticket_number": "TKT-0000000B",
        "user_id": ALICE,
        "subject": "s",
        "description": "d",
        "priority": "low",
        "category": "general",
    }
    refused(world.client(BOB).rpc("support_insert_ticket", {"p_ticket": ticket}))
    refused(world.client(BOB).table("support_tickets").insert(ticket))
    assert world.service.get_ticket_by_number("TKT-0000000B") is None
    # Nor open one of their own already assigned or resolved.
    refused(world.client(BOB).rpc("support_insert_ticket", {"p_ticket": ticket | {"user_id": BOB, "status": "closed"}}))
    created = world.client(BOB).rpc("support_insert_ticket", {"p_ticket": ticket | {"user_id": BOB}}).execute()
    assert created.data["user_id"] == BOB  # type: ignore[call-overload,index]


def test_a_user_cannot_post_as_an_admin_or_as_someone_else(world: World) -> None:
    alice = world.store(ALICE)
    ticket = world.alice_ticket
    for sender in ({"sender_type": "admin", "sender_id": ALICE}, {"sender_type": "user", "sender_id": BOB}):
        message = {"ticket_id": ticket.id, "message": "hi", "uid": f"x-{sender['sender_id']}"} | sender
        refused(world.client(ALICE).rpc("support_insert_message", {"p_message": message}))
    refused(
        world.client(ALICE)
        .table("support_messages")
        .insert({"ticket_id": ticket.id, "sender_id": ALICE, "sender_type": "admin", "message": "hi"})
    )
    assert len(alice.list_messages(ticket.id)) == 2


def test_a_user_cannot_change_status_priority_or_assignment(world: World) -> None:
    alice = world.client(ALICE)
    ticket = world.alice_ticket
    for changes in ({"status": "closed"}, {"priority": "urgent"}, {"assigned_to": ALICE}):
        refused(alice.rpc("support_update_ticket", {"p_ticket_id": ticket.id, "p_changes": changes}))
        message = {"ticket_id": ticket.id, "sender_id": ALICE, "sender_type": "user", "message": "hi", "uid": "y"}
        refused(alice.rpc("support_insert_message", {"p_message": message, "p_changes": changes}))
        refused(alice.table("support_tickets").update(changes).eq("id", ticket.id))
    after = world.service.get_ticket(ticket.id)
    assert after is not None and after.model_dump() == ticket.model_dump()
    with pytest.raises(Forbidden):
        world.store(ALICE).update_ticket(
            ticket.id, expected_version=ticket.version, changes={"status": TicketStatus.CLOSED}
        )


def test_a_user_cannot_delete_rows(world: World) -> None:
    refused(world.client(ALICE).table("support_messages").delete().eq("ticket_id", world.alice_ticket.id))
    assert len(world.service.list_messages(world.alice_ticket.id)) == 2


def test_the_whole_user_flow_works_under_row_level_security(world: World) -> None:
    """What a user is allowed to do, the desk does on a store holding only the user's JWT."""
    alice = SupportDesk(world.store(ALICE))
    admin = SupportDesk(world.store(ADMIN, admin=True))
    ticket = alice.create_ticket(Actor.user(ALICE), subject="New one", description="help")
    admin.post_message(Actor.admin(ADMIN), ticket.id, "fixed?")
    admin.change_status(Actor.admin(ADMIN), ticket.id, "resolved")
    thread = alice.get_ticket(Actor.user(ALICE), ticket.id)  # marks the admin's message read
    assert [m.is_read for m in thread.messages] == [True]
    alice.post_message(Actor.user(ALICE), ticket.id, "not quite")  # reopens, as the lifecycle says
    reopened = world.service.get_ticket(ticket.id)
    assert reopened is not None and reopened.status == "open" and reopened.resolved_at is None
    assert [c.changed_by for c in world.service.list_changes(ticket.id)] == [ADMIN, ALICE]


def test_a_user_marks_read_only_the_admins_messages_of_their_own_tickets(world: World) -> None:
    ticket = world.alice_ticket
    bob = world.client(BOB)
    marked = bob.rpc("support_mark_read", {"p_ticket_id": ticket.id, "p_sender_type": "admin"}).execute()
    assert marked.data == 0
    refused(world.client(ALICE).rpc("support_mark_read", {"p_ticket_id": ticket.id, "p_sender_type": "user"}))
    assert world.service.get_ticket(ticket.id).unread_from_user == 1  # type: ignore[union-attr]
    assert world.store(ALICE).mark_read(ticket.id, SenderType.ADMIN) == 1
    assert world.service.get_ticket(ticket.id).unread_from_admin == 0  # type: ignore[union-attr]


def test_a_user_cannot_write_to_a_closed_ticket_or_attach_a_non_http_url(world: World) -> None:
    ticket = world.alice_ticket
    message = {"ticket_id": ticket.id, "sender_id": ALICE, "sender_type": "user", "message": "hi", "uid": "z"}
    bad_link = message | {"message_type": "file", "file_url": "javascript:alert(1)"}
    refused(world.client(ALICE).rpc("support_insert_message", {"p_message": bad_link}), "23514")
    SupportDesk(world.service).change_status(Actor.admin(ADMIN), ticket.id, "closed")
    refused(world.client(ALICE).rpc("support_insert_message", {"p_message": message}), "PT409")
    closed = world.service.get_ticket(ticket.id)
    assert closed is not None
    with pytest.raises(TicketClosed):
        world.store(ALICE).insert_message(
            NewMessage(ticket_id=ticket.id, sender_id=ALICE, sender_type=SenderType.USER, message="hi",
                       message_type=MessageType.TEXT, file_url=None, created_at=closed.updated_at, uid="z2"),
            expected_version=closed.version,
            changes={},
        )  # fmt: skip
    assert len(world.service.list_messages(ticket.id)) == 2


def test_a_user_cannot_forge_change_records(world: World) -> None:
    ticket = world.alice_ticket
    message = {"ticket_id": ticket.id, "sender_id": ALICE, "sender_type": "user", "message": "hi", "uid": "h"}
    record = {"field": "priority", "old_value": "medium", "new_value": "urgent", "changed_by_kind": "user",
              "changed_by": ALICE, "changed_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    as_admin = record | {"field": "status", "old_value": "resolved", "new_value": "open", "changed_by_kind": "admin"}
    for history in ([record], [as_admin]):
        refused(world.client(ALICE).rpc("support_insert_message", {"p_message": message, "p_history": history}))
    assert len(world.service.list_changes(ticket.id)) == 1


def test_a_users_search_sees_only_their_own_tickets_under_row_level_security(world: World) -> None:
    # "news" is in Alice's message, "flight" in Bob's description: the same words match
    # both users' tickets, yet a user's search (no user_id filter: the policies do it)
    # returns and counts only their own, and Bob's number finds nothing for Alice.
    desk = SupportDesk(world.service)
    desk.post_message(Actor.user(BOB), world.bob_ticket.id, "any news about the flight?")
    alice = world.store(ALICE)
    items, total = alice.list_tickets(TicketQuery(q="news"))
    assert [t.id for t in items] == [world.alice_ticket.id] and total == 1
    assert alice.list_tickets(TicketQuery(q="flight")) == ([], 0)
    assert alice.list_tickets(TicketQuery(q=world.bob_ticket.ticket_number)) == ([], 0)
    assert world.service.list_tickets(TicketQuery(q="news"))[1] == 2
