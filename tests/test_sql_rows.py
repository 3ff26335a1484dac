"""Rows become the same models validation would build (the SQL store skips validation for speed)."""

from __future__ import annotations

from datetime import UTC, datetime

from supportchat import Actor, SupportDesk
from supportchat.models import Message, Ticket
from supportchat.stores.sql import SQLStore


def test_rows_build_models_equal_to_validated_ones() -> None:
    store = SQLStore.from_url("sqlite://")
    desk = SupportDesk(store, clock=lambda: datetime(2026, 3, 1, 9, 30, 15, 250, tzinfo=UTC))
    try:
        created = desk.create_ticket(Actor.user(3), subject="Subject", description="Body", priority="high")
        posted = desk.post_message(Actor.user(3), created.id, "Hello")
        desk.change_status(Actor.admin(1), created.id, "resolved", assigned_to=1)
        stored = store.get_ticket(created.id)
        assert stored is not None
        message = store.list_messages(created.id)[0]
        for model, kind in ((created, Ticket), (stored, Ticket), (posted, Message), (message, Message)):
            validated = kind.model_validate(dict(model))  # every field, the excluded ones too
            assert model == validated
            assert model.model_dump_json() == validated.model_dump_json()
            assert model.model_fields_set == validated.model_fields_set
            assert hash(model) == hash(validated)
        assert stored.resolved_at == datetime(2026, 3, 1, 9, 30, 15, 250, tzinfo=UTC)
        assert stored.resolved_at.tzinfo is UTC
        assert stored.model_copy(update={"unread_count": 2}).unread_count == 2
    finally:
        store.close()
