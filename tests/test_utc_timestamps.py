"""Timestamps are normalised to UTC when a model is built, and JSON writes them with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pydantic import TypeAdapter

from supportchat.models import Message, MessageType, SenderType


def message(created_at: datetime) -> Message:
    return Message(
        id=1,
        ticket_id=1,
        sender_id=1,
        sender_type=SenderType.USER,
        message="hola",
        message_type=MessageType.TEXT,
        file_url=None,
        is_read=False,
        created_at=created_at,
    )


def test_aware_timestamps_are_converted_to_utc() -> None:
    madrid = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    stored = message(madrid)
    assert stored.created_at.tzinfo is UTC and stored.created_at == madrid
    assert '"created_at":"2026-03-01T12:30:00Z"' in stored.model_dump_json()


def test_naive_timestamps_are_taken_as_utc() -> None:
    stored = message(datetime(2026, 3, 1, 12, 30, 0, 250))
    assert stored.created_at == datetime(2026, 3, 1, 12, 30, 0, 250, tzinfo=UTC)
    assert TypeAdapter(Message).dump_json(stored).count(b'"2026-03-01T12:30:00.000250Z"') == 1
