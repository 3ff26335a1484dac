"""Devices and deliveries in SQL: the SQL store's database, or a private one beside the in-memory store.

:class:`SQLPushStore` runs every step in one transaction of a
``transaction(write=…)`` context (the SQL store's public one, with its
SQLite writer lane and error translation). :class:`MemoryPushStore` gives
the in-memory store the same code over an in-memory SQLite database of its
own: one implementation of the rules, however the tickets are kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from ..stores.sql import SQLStore
from . import schema
from .base import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Device,
    ErrorClass,
    NewAttempt,
    NewDelivery,
    NewDevice,
    OwnerKind,
    Platform,
    PushEvent,
)

__all__ = ["MemoryPushStore", "SQLPushStore"]

_d = schema.devices.c
_v = schema.deliveries.c
_a = schema.attempts.c
_PENDING = DeliveryStatus.PENDING.value

Transaction = Callable[[bool], AbstractContextManager[sa.Connection]]

# The statements of the send path, built once: SQLAlchemy then reuses their compiled form, where
# building them per call cost more than running them (a few per push, 10,000s of pushes).
_DEVICE = sa.select(schema.devices).where(_d.token == sa.bindparam("token"))
_DELIVERY = sa.select(schema.deliveries).where(_v.id == sa.bindparam("id"))
_ATTEMPTS_SO_FAR = sa.select(_v.attempts).where(_v.id == sa.bindparam("id"))
_SAME_THREAD = sa.and_(
    _v.token == sa.bindparam("token"),
    _v.ticket_id == sa.bindparam("ticket_id"),
    _v.event == sa.bindparam("event"),
)
_NEWER_PENDING = (
    sa.select(_v.id).where(_SAME_THREAD, _v.event_id > sa.bindparam("event_id"), _v.status == _PENDING).limit(1)
)
_LAST_TOLD = sa.select(sa.func.coalesce(sa.func.max(_v.event_id), 0)).where(
    _SAME_THREAD, _v.event_id < sa.bindparam("event_id"), _v.status != DeliveryStatus.COALESCED.value
)
_COALESCED_INTO = sa.select(sa.func.count()).where(
    _SAME_THREAD,
    _v.event_id < sa.bindparam("event_id"),
    _v.event_id > _LAST_TOLD.scalar_subquery(),
    _v.status == DeliveryStatus.COALESCED.value,
)
_ADD_ATTEMPT = schema.attempts.insert()


class SQLPushStore:
    """The :class:`~supportchat.push.PushStore` of a :class:`~supportchat.stores.sql.SQLStore`."""

    def __init__(self, store: SQLStore) -> None:
        self._transaction: Transaction = lambda write: store.transaction(write=write)
        self._postgres = store.engine.dialect.name == "postgresql"

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql if self._postgres else sqlite).insert(table)

    # -- devices -----------------------------------------------------------

    def register(self, device: NewDevice, *, now: float | None = None) -> Device:
        at = time.time() if now is None else now
        moved = {
            "owner_kind": device.owner_kind.value,
            "owner_id": device.owner_id,
            "platform": device.platform.value,
            "locale": device.locale,
            "last_seen_at": at,
        }
        statement = self._insert(schema.devices).values(token=device.token, created_at=at, **moved)
        statement = statement.on_conflict_do_update(index_elements=[_d.token], set_=moved)
        with self._transaction(True) as connection:
            connection.execute(statement)
            row = connection.execute(sa.select(schema.devices).where(_d.token == device.token)).one()
        return _device(row)

    def unregister(self, token: str, owner_kind: OwnerKind | None = None, owner_id: int | None = None) -> bool:
        statement = schema.devices.delete().where(_d.token == token)
        if owner_kind is not None:
            statement = statement.where(_d.owner_kind == owner_kind.value, _d.owner_id == owner_id)
        with self._transaction(True) as connection:
            return bool(connection.execute(statement).rowcount)

    def device(self, token: str) -> Device | None:
        with self._transaction(False) as connection:
            row = connection.execute(_DEVICE, {"token": token}).fetchone()
        return None if row is None else _device(row)

    def devices_of(self, owner_kind: OwnerKind, owner_ids: Sequence[int] | None = None) -> list[Device]:
        query = sa.select(schema.devices).where(_d.owner_kind == owner_kind.value).order_by(_d.token)
        if owner_ids is not None:
            if not owner_ids:
                return []
            query = query.where(_d.owner_id.in_(sorted(set(owner_ids))))
        with self._transaction(False) as connection:
            return [_device(row) for row in connection.execute(query)]

    def prune(self, last_seen_before: float) -> int:
        with self._transaction(True) as connection:
            return int(connection.execute(schema.devices.delete().where(_d.last_seen_at < last_seen_before)).rowcount)

    # -- deliveries ----------------------------------------------------------

    def add_deliveries(self, deliveries: Sequence[NewDelivery], *, now: float | None = None) -> list[Delivery]:
        if not deliveries:
            return []
        at = time.time() if now is None else now
        rows = [
            {
                "event_id": new.event_id,
                "event": new.event.value,
                "ticket_id": new.ticket_id,
                "message_id": new.message_id,
                "token": new.token,
                "recipient_kind": new.recipient_kind.value,
                "recipient_id": new.recipient_id,
                "status": _PENDING,
                "attempts": 0,
                "created_at": at,
                "updated_at": at,
            }
            for new in deliveries
        ]
        statement = self._insert(schema.deliveries).on_conflict_do_nothing(index_elements=[_v.event_id, _v.token])
        wanted = sa.tuple_(_v.event_id, _v.token).in_([(new.event_id, new.token) for new in deliveries])
        with self._transaction(True) as connection:
            connection.execute(statement, rows)
            found = connection.execute(sa.select(schema.deliveries).where(wanted).order_by(_v.id)).fetchall()
        return [_delivery(row) for row in found]

    def delivery(self, delivery_id: int) -> Delivery | None:
        with self._transaction(False) as connection:
            row = connection.execute(_DELIVERY, {"id": delivery_id}).fetchone()
        return None if row is None else _delivery(row)

    def record_attempt(self, delivery_id: int, attempt: NewAttempt) -> Delivery:
        with self._transaction(True) as connection:
            so_far = _ATTEMPTS_SO_FAR.with_for_update() if self._postgres else _ATTEMPTS_SO_FAR
            number = connection.execute(so_far, {"id": delivery_id}).scalar_one() + 1
            connection.execute(
                _ADD_ATTEMPT,
                {
                    "delivery_id": delivery_id,
                    "number": number,
                    "at": attempt.at,
                    "status": attempt.status.value,
                    "error_class": None if attempt.error_class is None else attempt.error_class.value,
                    "http_status": attempt.http_status,
                    "detail": attempt.detail,
                    "retry_after": attempt.retry_after,
                },
            )
            values: dict[str, Any] = {"status": attempt.status.value, "attempts": number, "updated_at": attempt.at}
            if attempt.error_class is not None:
                values.update(error_class=attempt.error_class.value, last_error=attempt.detail)
            if attempt.fcm_name is not None:
                values["fcm_name"] = attempt.fcm_name
            connection.execute(schema.deliveries.update().where(_v.id == delivery_id).values(values))
            row = connection.execute(_DELIVERY, {"id": delivery_id}).one()
        return _delivery(row)

    def settle(self, delivery_id: int, status: DeliveryStatus, *, now: float | None = None) -> Delivery:
        at = time.time() if now is None else now
        with self._transaction(True) as connection:
            connection.execute(
                schema.deliveries.update()
                .where(_v.id == delivery_id, _v.status == _PENDING)
                .values(status=status.value, updated_at=at)
            )
            row = connection.execute(sa.select(schema.deliveries).where(_v.id == delivery_id)).one()
        return _delivery(row)

    def newer_pending(self, delivery: Delivery) -> bool:
        with self._transaction(False) as connection:
            return connection.execute(_NEWER_PENDING, _thread_of(delivery)).fetchone() is not None

    def coalesced_into(self, delivery: Delivery) -> int:
        with self._transaction(False) as connection:
            return int(connection.execute(_COALESCED_INTO, _thread_of(delivery)).scalar_one())

    def deliveries(self, *, ticket_id: int | None = None, token: str | None = None, limit: int = 100) -> list[Delivery]:
        query = sa.select(schema.deliveries).order_by(_v.id.desc()).limit(limit)
        if ticket_id is not None:
            query = query.where(_v.ticket_id == ticket_id)
        if token is not None:
            query = query.where(_v.token == token)
        with self._transaction(False) as connection:
            return [_delivery(row) for row in connection.execute(query)]

    def attempts(self, delivery_ids: Sequence[int]) -> list[Attempt]:
        if not delivery_ids:
            return []
        query = (
            sa.select(schema.attempts)
            .where(_a.delivery_id.in_(sorted(set(delivery_ids))))
            .order_by(_a.delivery_id, _a.number)
        )
        with self._transaction(False) as connection:
            return [_attempt(row) for row in connection.execute(query)]

    def counts(self) -> dict[str, int]:
        query = sa.select(_v.status, sa.func.count()).group_by(_v.status)
        with self._transaction(False) as connection:
            found = {str(status): int(count) for status, count in connection.execute(query)}
        return {status.value: found.get(status.value, 0) for status in DeliveryStatus}

    def last_attempt(self, *, error_class: ErrorClass | None = None) -> Attempt | None:
        query = sa.select(schema.attempts).order_by(_a.id.desc()).limit(1)
        if error_class is not None:
            query = query.where(_a.error_class == error_class.value)
        with self._transaction(False) as connection:
            row = connection.execute(query).fetchone()
        return None if row is None else _attempt(row)

    def last_delivered(self) -> Attempt | None:
        query = sa.select(schema.attempts).where(_a.status == DeliveryStatus.DELIVERED.value)
        with self._transaction(False) as connection:
            row = connection.execute(query.order_by(_a.id.desc()).limit(1)).fetchone()
        return None if row is None else _attempt(row)


class MemoryPushStore(SQLPushStore):
    """The push store of an :class:`~supportchat.stores.InMemoryStore`: a private in-memory SQLite database.

    Nothing survives the process, as with the store itself.
    """

    def __init__(self, store: object = None) -> None:
        engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        schema.metadata.create_all(engine)
        lock = threading.RLock()

        @contextmanager
        def transaction(write: bool) -> Iterator[sa.Connection]:
            with lock, engine.begin() as connection:
                yield connection

        self._transaction = transaction
        self._postgres = False


def _thread_of(delivery: Delivery) -> dict[str, Any]:
    return {
        "token": delivery.token,
        "ticket_id": delivery.ticket_id,
        "event": delivery.event.value,
        "event_id": delivery.event_id,
    }


def _device(row: Any) -> Device:
    values = row._mapping
    return Device(
        token=values["token"],
        owner_kind=OwnerKind(values["owner_kind"]),
        owner_id=int(values["owner_id"]),
        platform=Platform(values["platform"]),
        locale=values["locale"],
        created_at=float(values["created_at"]),
        last_seen_at=float(values["last_seen_at"]),
    )


def _optional_class(value: str | None) -> ErrorClass | None:
    return None if value is None else ErrorClass(value)


def _delivery(row: Any) -> Delivery:
    values = row._mapping
    return Delivery(
        id=int(values["id"]),
        event_id=int(values["event_id"]),
        event=PushEvent(values["event"]),
        ticket_id=int(values["ticket_id"]),
        message_id=None if values["message_id"] is None else int(values["message_id"]),
        token=values["token"],
        recipient_kind=OwnerKind(values["recipient_kind"]),
        recipient_id=int(values["recipient_id"]),
        status=DeliveryStatus(values["status"]),
        error_class=_optional_class(values["error_class"]),
        attempts=int(values["attempts"]),
        last_error=values["last_error"],
        fcm_name=values["fcm_name"],
        created_at=float(values["created_at"]),
        updated_at=float(values["updated_at"]),
    )


def _attempt(row: Any) -> Attempt:
    values = row._mapping
    return Attempt(
        delivery_id=int(values["delivery_id"]),
        number=int(values["number"]),
        at=float(values["at"]),
        status=DeliveryStatus(values["status"]),
        error_class=_optional_class(values["error_class"]),
        http_status=values["http_status"],
        detail=values["detail"],
        retry_after=values["retry_after"],
    )
