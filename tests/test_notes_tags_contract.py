"""The notes and tags part of the store contract, on every backend, through the store and the desk."""

from __future__ import annotations

import threading

import pytest

from supportchat import Actor, ConcurrentUpdate, SupportDesk, TicketNotFound
from supportchat.errors import Forbidden, ValidationError
from supportchat.event_types import owner_may_see
from supportchat.models import ActorKind, EventType, NewNote, NewTicketChange
from supportchat.rules import MAX_TAGS, parse_tag
from supportchat.stores import Store

from .test_store_contract import T0, new_ticket

OWNER = Actor.user(5)
ADMIN = Actor.admin(9)


def _note(ticket_id: int, text: str = "call the bank", uid: str = "n-1") -> NewNote:
    return NewNote(ticket_id=ticket_id, author_id=9, author_kind=ActorKind.ADMIN, note=text, created_at=T0, uid=uid)


def test_a_note_is_stored_with_its_change_record_and_event_and_leaves_the_ticket_alone(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket(user_id=5))
    note = store.insert_note(_note(ticket.id))
    assert (note.ticket_id, note.author_id, note.note, note.created_at) == (ticket.id, 9, "call the bank", T0)
    assert store.list_notes(ticket.id) == [note]
    assert store.list_notes(ticket.id, after_id=note.id) == []
    (change,) = store.list_changes(ticket.id)
    assert (change.field, change.old_value, change.new_value, change.changed_by) == ("note", None, str(note.id), 9)
    last = store.events_after(0)[-1]
    assert (last.type, last.note_id, last.user_id) == (EventType.NOTE_CREATED, note.id, 5)
    after = store.get_ticket(ticket.id)
    assert after is not None and (after.version, after.updated_at) == (ticket.version, ticket.updated_at)
    with pytest.raises(TicketNotFound):
        store.insert_note(_note(ticket.id + 1000, uid="n-2"))


def test_tags_are_replaced_only_from_the_tags_they_were_decided_on(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket(user_id=5))
    change = NewTicketChange(
        field="tags", old_value=None, new_value="a vip", changed_by_kind=ActorKind.ADMIN, changed_by=9, changed_at=T0
    )
    assert store.replace_tags(ticket.id, expected=(), tags=("vip", "a"), history=[change]) == ("a", "vip")
    assert store.ticket_tags([ticket.id, ticket.id + 1000]) == {ticket.id: ("a", "vip")}
    with pytest.raises(ConcurrentUpdate):
        store.replace_tags(ticket.id, expected=(), tags=("b",))
    assert store.replace_tags(ticket.id, expected=("vip", "a"), tags=()) == ()
    assert store.ticket_tags([ticket.id]) == {}
    with pytest.raises(TicketNotFound):
        store.replace_tags(ticket.id + 1000, expected=(), tags=("x",))
    assert [c.field for c in store.list_changes(ticket.id)] == ["tags"]
    kinds = [e.type for e in store.events_after(0)]
    assert kinds.count(EventType.TAGS_CHANGED) == 2
    assert [e.type for e in store.events_after(0, user_id=5)] == [EventType.TICKET_CREATED]
    assert store.statistics().by_tag == {}


def test_the_desk_keeps_notes_and_tags_for_staff(desk: SupportDesk) -> None:
    ticket = desk.create_ticket(OWNER, subject="Pago", description="tarjeta")
    note = desk.add_note(ADMIN, ticket.ticket_number.lower(), "  Llamar <script>x</script> al banco \x07 ")
    assert note.note == "Llamar < script>x</script> al banco"  # sanitised exactly as a message is
    assert desk.set_tags(ADMIN, ticket.id, ["VIP", "Reembolsó", "vip", "late  delivery"]).tags == (
        "late-delivery",
        "reembolso",
        "vip",
    )
    thread = desk.get_ticket(ADMIN, ticket.id)
    assert [n.id for n in thread.notes] == [note.id] and thread.tags == ("late-delivery", "reembolso", "vip")
    assert desk.list_tickets(ADMIN).items[0].tags == thread.tags
    assert desk.change_status(ADMIN, ticket.id, "in_progress").tags == thread.tags
    assert desk.list_tickets(ADMIN, tag="VIP").total == 1 and desk.list_tickets(ADMIN, tag="bug").total == 0
    # The owner: no notes, no tags, no staff event, and no way to write either.
    own = desk.get_ticket(OWNER, ticket.id)
    assert own.notes == [] and own.tags == ()
    assert desk.list_user_tickets(OWNER, 5).items[0].tags == ()
    assert not [e for e in desk.store.events_after(0, user_id=5) if not owner_may_see(e.type)]
    for write in (
        lambda: desk.add_note(OWNER, ticket.id, "mine"),
        lambda: desk.add_tags(OWNER, ticket.id, ["mine"]),
        lambda: desk.list_notes(OWNER, ticket.id),
    ):
        with pytest.raises(Forbidden):
            write()


def test_bad_notes_and_tags_are_refused_naming_the_field(desk: SupportDesk) -> None:
    ticket = desk.create_ticket(OWNER, subject="Pago", description="tarjeta")
    for bad, field in (("   ", "note"), ("\u200b", "note"), (None, "note"), ("x" * 10_001, "note")):
        with pytest.raises(ValidationError) as raised:
            desk.add_note(ADMIN, ticket.id, bad)
        assert raised.value.details["field"] == field
    for tags in ([""], ["a/b"], ["x" * 33], "vip", [3], [f"t{i}" for i in range(MAX_TAGS + 1)]):
        with pytest.raises(ValidationError) as raised:
            desk.set_tags(ADMIN, ticket.id, tags)
        assert raised.value.details["field"] == "tags"
    desk.set_tags(ADMIN, ticket.id, [f"t{i}" for i in range(MAX_TAGS)])
    with pytest.raises(ValidationError):
        desk.add_tags(ADMIN, ticket.id, ["one-more"])
    with pytest.raises(ValidationError):
        desk.list_tickets(ADMIN, tag="no spaces/or slashes")
    assert parse_tag(" Late   Delivery ") == "late-delivery"
    assert desk.store.list_notes(ticket.id) == []


def test_two_admins_tagging_at_once_lose_neither_tag(store: Store) -> None:
    desk = SupportDesk(store)
    ticket = desk.create_ticket(OWNER, subject="Pago", description="tarjeta")
    tags = [f"tag-{n}" for n in range(8)]
    errors: list[BaseException] = []

    def add(tag: str) -> None:
        try:
            desk.add_tags(Actor.admin(9), ticket.id, [tag])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(tag,)) for tag in tags]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert store.ticket_tags([ticket.id])[ticket.id] == tuple(sorted(tags))
    assert len([c for c in store.list_changes(ticket.id) if c.field == "tags"]) == len(tags)
    assert store.statistics().by_tag == {tag: 1 for tag in tags}


def test_an_admins_search_reads_notes_and_a_users_never_does(desk: SupportDesk) -> None:
    ticket = desk.create_ticket(OWNER, subject="Pago", description="tarjeta")
    desk.add_note(ADMIN, ticket.id, "el cliente es Zarzaparrilla")
    found = desk.list_tickets(ADMIN, q="zarzaparrilla")
    assert [t.id for t in found.items] == [ticket.id] and found.total == 1
    assert "arzaparrilla" in (found.items[0].highlight or "")
    assert desk.list_user_tickets(OWNER, 5, q="zarzaparrilla").total == 0
    assert desk.list_tickets(ADMIN, q="zarzaparrilla", tag="vip").total == 0
    desk.add_tags(ADMIN, ticket.id, ["vip"])
    assert desk.list_tickets(ADMIN, q="zarzaparrilla", tag="vip").total == 1
