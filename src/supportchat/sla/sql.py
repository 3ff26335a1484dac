"""The SLA tables in the SQL store's database (SQLite and PostgreSQL), through its public transactions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from ..errors import Conflict, ValidationError
from ..models import TicketStatus
from ..sqlschema import tables as core
from ..stores.sql import SQLStore, append_event_row
from . import schema
from .base import BREACHED, Clock, Deadline, DueFilter, Firing, NewDeadline, SlaEvent, log_entry
from .policy import CalendarIn, CalendarOut, PolicyIn, PolicyOut

__all__ = ["SQLSlaStore"]

_c = schema.calendars.c
_p = schema.policies.c
_k = schema.clocks.c
_d = schema.deadlines.c
_e = schema.events.c
_ACTIVE = "active"
_DEADLINE_COLUMNS = {column.name for column in schema.deadlines.c} - {"id", "ticket_id"}
_CLOCK_COLUMNS = {"policy_id", "paused_since", "status_changes_seen"}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class SQLSlaStore:
    """The :class:`~supportchat.sla.base.SlaStore` of a :class:`~supportchat.stores.sql.SQLStore`."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    def _write(self) -> AbstractContextManager[sa.Connection]:
        return self._store.transaction(write=True)

    def _read(self) -> AbstractContextManager[sa.Connection]:
        return self._store.transaction()

    # -- calendars and policies ---------------------------------------------

    def put_calendar(self, calendar: CalendarIn) -> CalendarOut:
        values = {
            "time_zone": calendar.time_zone,
            "hours": _dumps(calendar.hours),
            "holidays": _dumps([day.isoformat() for day in calendar.holidays]),
            "holiday_country": calendar.holiday_country,
            "holiday_subdivision": calendar.holiday_subdivision,
        }
        with self._write() as connection:
            found = connection.execute(sa.select(_c.id).where(_c.name == calendar.name)).scalar()
            if found is None:
                found = connection.execute(
                    schema.calendars.insert().values(name=calendar.name, **values).returning(_c.id)
                ).scalar_one()
            else:
                connection.execute(schema.calendars.update().where(_c.id == found).values(values))
        return CalendarOut(id=int(found), **calendar.model_dump())

    def calendars(self) -> list[CalendarOut]:
        with self._read() as connection:
            rows = connection.execute(sa.select(schema.calendars).order_by(_c.name)).fetchall()
        return [_calendar(row) for row in rows]

    def delete_calendar(self, name: str) -> bool:
        with self._write() as connection:
            found = connection.execute(sa.select(_c.id).where(_c.name == name)).scalar()
            if found is None:
                return False
            users = connection.execute(sa.select(_p.name).where(_p.calendar_id == found)).scalars().all()
            if users:
                raise Conflict(f"calendar {name!r} is used by policies", details={"policies": sorted(users)})
            connection.execute(schema.calendars.delete().where(_c.id == found))
        return True

    def put_policy(self, policy: PolicyIn) -> PolicyOut:
        with self._write() as connection:
            calendar_id = connection.execute(sa.select(_c.id).where(_c.name == policy.calendar)).scalar()
            if calendar_id is None:
                raise ValidationError("calendar", f"no calendar named {policy.calendar!r}")
            values = {
                "position": policy.position,
                "conditions": policy.conditions.model_dump_json(),
                "calendar_id": calendar_id,
                "first_response_minutes": policy.first_response_minutes,
                "next_response_minutes": policy.next_response_minutes,
                "resolution_minutes": policy.resolution_minutes,
                "pause_statuses": _dumps([status.value for status in policy.pause_statuses]),
                "warning_minutes": policy.warning_minutes,
                "escalation": _dumps([step.model_dump(exclude_none=True) for step in policy.escalation]),
            }
            found = connection.execute(sa.select(_p.id).where(_p.name == policy.name)).scalar()
            if found is None:
                found = connection.execute(
                    schema.policies.insert().values(name=policy.name, **values).returning(_p.id)
                ).scalar_one()
            else:
                connection.execute(schema.policies.update().where(_p.id == found).values(values))
        return PolicyOut(id=int(found), **policy.model_dump())

    def policies(self) -> list[PolicyOut]:
        query = sa.select(schema.policies, _c.name.label("calendar_name")).join(
            schema.calendars, _c.id == _p.calendar_id
        )
        with self._read() as connection:
            rows = connection.execute(query.order_by(_p.position, _p.id)).fetchall()
        return [_policy(row) for row in rows]

    def delete_policy(self, name: str) -> bool:
        with self._write() as connection:
            return bool(connection.execute(schema.policies.delete().where(_p.name == name)).rowcount)

    # -- clocks and deadlines ------------------------------------------------

    def clock(self, ticket_id: int) -> Clock | None:
        found = self.clocks([ticket_id])
        return found[0] if found else None

    def clocks(self, ticket_ids: Sequence[int]) -> list[Clock]:
        if not ticket_ids:
            return []
        with self._read() as connection:
            rows = connection.execute(sa.select(schema.clocks).where(_k.ticket_id.in_(list(ticket_ids)))).fetchall()
        return [Clock(int(r.ticket_id), int(r.policy_id), r.paused_since, int(r.status_changes_seen)) for r in rows]

    def deadlines(self, ticket_ids: Sequence[int]) -> list[Deadline]:
        if not ticket_ids:
            return []
        query = (
            sa.select(schema.deadlines)
            .where(_d.ticket_id.in_(list(ticket_ids)))
            .order_by(_d.ticket_id, _d.target, _d.cycle)
        )
        with self._read() as connection:
            return [_deadline(row) for row in connection.execute(query).fetchall()]

    def start_clock(
        self,
        ticket_id: int,
        policy_id: int,
        deadlines: Sequence[NewDeadline],
        *,
        status_changes_seen: int,
        replace: bool,
    ) -> bool:
        with self._write() as connection:
            exists = connection.execute(sa.select(_k.ticket_id).where(_k.ticket_id == ticket_id)).scalar()
            if exists is not None and not replace:
                return False
            if exists is not None:
                # Re-applied: the open deadlines give way to the new ones; met and fired ones stay as history.
                connection.execute(
                    schema.deadlines.update()
                    .where(_d.ticket_id == ticket_id, _d.state == _ACTIVE)
                    .values(state="cancelled", next_fire_at=None)
                )
                connection.execute(
                    schema.clocks.update()
                    .where(_k.ticket_id == ticket_id)
                    .values(policy_id=policy_id, paused_since=None, status_changes_seen=status_changes_seen)
                )
            else:
                connection.execute(
                    schema.clocks.insert().values(
                        ticket_id=ticket_id, policy_id=policy_id, status_changes_seen=status_changes_seen
                    )
                )
            self._add(connection, ticket_id, deadlines)
        return True

    def _add(self, connection: sa.Connection, ticket_id: int, deadlines: Sequence[NewDeadline]) -> None:
        for new in deadlines:
            key = sa.and_(_d.ticket_id == ticket_id, _d.target == new.target, _d.cycle == new.cycle)
            values = {name: getattr(new, name) for name in NewDeadline.__dataclass_fields__}
            if connection.execute(sa.select(_d.id).where(key)).scalar() is not None:
                continue  # a cycle exists once
            connection.execute(schema.deadlines.insert().values(ticket_id=ticket_id, state=_ACTIVE, **values))

    def save_clock(
        self,
        ticket_id: int,
        *,
        clock: Mapping[str, Any],
        updates: Mapping[int, Mapping[str, Any]],
        new: Sequence[NewDeadline] = (),
    ) -> None:
        if set(clock) - _CLOCK_COLUMNS or any(set(u) - _DEADLINE_COLUMNS for u in updates.values()):
            raise ValueError("unknown clock or deadline columns")
        with self._write() as connection:
            if clock:
                connection.execute(schema.clocks.update().where(_k.ticket_id == ticket_id).values(dict(clock)))
            for deadline_id, values in updates.items():
                connection.execute(
                    schema.deadlines.update()
                    .where(_d.id == deadline_id, _d.ticket_id == ticket_id)
                    .values(dict(values))
                )
            self._add(connection, ticket_id, new)

    # -- the scan ---------------------------------------------------------------

    def due(self, now: float, *, limit: int = 500) -> list[Deadline]:
        query = (
            sa.select(schema.deadlines)
            .where(_d.next_fire_at.isnot(None), _d.next_fire_at <= now)
            .order_by(_d.next_fire_at)
            .limit(limit)
        )
        with self._read() as connection:
            return [_deadline(row) for row in connection.execute(query).fetchall()]

    def fire(self, firings: Sequence[Firing], *, now: float) -> list[SlaEvent]:
        fired = []
        with self._write() as connection:
            for deadline, kind, next_fire_at in firings:
                if (event := self._fire(connection, deadline, kind, now, next_fire_at)) is not None:
                    fired.append(event)
        return fired

    def _fire(
        self, connection: sa.Connection, deadline: Deadline, kind: str, now: float, next_fire_at: float | None
    ) -> SlaEvent | None:
        stamp = "breached_at" if kind == BREACHED else "warned_at"
        unchanged = sa.and_(
            _d.id == deadline.id,
            _d.state == _ACTIVE,
            _d.next_fire_at == deadline.next_fire_at,
            getattr(_d, stamp).is_(None),
        )
        assert deadline.due_at is not None
        moved = connection.execute(
            schema.deadlines.update().where(unchanged).values({stamp: now, "next_fire_at": next_fire_at})
        )
        if not moved.rowcount:
            return None  # met, paused, re-applied or fired by another worker since it was read
        event_id = connection.execute(
            schema.events.insert()
            .values(
                deadline_id=deadline.id,
                ticket_id=deadline.ticket_id,
                type=kind,
                target=deadline.target,
                due_at=deadline.due_at,
                fired_at=now,
            )
            .returning(_e.id)
        ).scalar_one()
        fired = SlaEvent(
            int(event_id), deadline.id, deadline.ticket_id, kind, deadline.target, deadline.due_at, now, None
        )
        # The desk's log gets it in the same transaction: fired and announced, or neither.
        at, data = log_entry(fired)
        append_event_row(connection, deadline.ticket_id, kind, at=at, data=data)
        return fired

    def unescalated(self, *, limit: int = 100) -> list[SlaEvent]:
        query = (
            sa.select(schema.events).where(_e.type == BREACHED, _e.escalated_at.is_(None)).order_by(_e.id).limit(limit)
        )
        with self._read() as connection:
            return [_event(row) for row in connection.execute(query).fetchall()]

    def mark_escalated(self, event_id: int, *, now: float) -> bool:
        with self._write() as connection:
            done = connection.execute(
                schema.events.update().where(_e.id == event_id, _e.escalated_at.is_(None)).values(escalated_at=now)
            )
            return bool(done.rowcount)

    def events(self, *, ticket_id: int | None = None, after_id: int = 0, limit: int = 100) -> list[SlaEvent]:
        query = sa.select(schema.events).where(_e.id > after_id).order_by(_e.id).limit(limit)
        if ticket_id is not None:
            query = query.where(_e.ticket_id == ticket_id)
        with self._read() as connection:
            return [_event(row) for row in connection.execute(query).fetchall()]

    def next_fire_at(self) -> float | None:
        query = sa.select(sa.func.min(_d.next_fire_at)).where(_d.next_fire_at.isnot(None))
        with self._read() as connection:
            value = connection.execute(query).scalar()
        return None if value is None else float(value)

    def due_tickets(self, where: DueFilter, *, offset: int, limit: int) -> tuple[list[int], int]:
        t = core.tickets.c
        soonest = (
            sa.select(_d.ticket_id, sa.func.min(_d.due_at).label("due"))
            .where(_d.state == _ACTIVE)
            .group_by(_d.ticket_id)
            .subquery()
        )
        query = sa.select(soonest.c.ticket_id).join(core.tickets, t.id == soonest.c.ticket_id)
        conditions: list[sa.ColumnElement[bool]] = [t.status.notin_([TicketStatus.CLOSED.value])]
        for name in ("status", "priority", "category"):
            value = getattr(where, name)
            if value is not None:
                conditions.append(getattr(t, name) == value.value)
        if where.unassigned:
            conditions.append(t.assigned_to.is_(None))
        elif where.assigned_to is not None:
            conditions.append(t.assigned_to == where.assigned_to)
        query = query.where(*conditions)
        # Paused clocks have no due time: they come after every running one.
        ordered = query.order_by(soonest.c.due.is_(None), soonest.c.due, soonest.c.ticket_id)
        with self._read() as connection:
            ids = [int(i) for i in connection.execute(ordered.offset(offset).limit(limit)).scalars()]
            total = int(connection.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())
        return ids, total


def _calendar(row: Any) -> CalendarOut:
    return CalendarOut(
        id=row.id,
        name=row.name,
        time_zone=row.time_zone,
        hours=json.loads(row.hours),
        holidays=json.loads(row.holidays),
        holiday_country=row.holiday_country,
        holiday_subdivision=row.holiday_subdivision,
    )


def _policy(row: Any) -> PolicyOut:
    return PolicyOut(
        id=row.id,
        name=row.name,
        position=row.position,
        conditions=json.loads(row.conditions),
        calendar=row.calendar_name,
        first_response_minutes=row.first_response_minutes,
        next_response_minutes=row.next_response_minutes,
        resolution_minutes=row.resolution_minutes,
        pause_statuses=json.loads(row.pause_statuses),
        warning_minutes=row.warning_minutes,
        escalation=json.loads(row.escalation),
    )


def _deadline(row: Any) -> Deadline:
    v = row._mapping
    return Deadline(
        id=int(v["id"]),
        ticket_id=int(v["ticket_id"]),
        target=v["target"],
        cycle=int(v["cycle"]),
        started_at=float(v["started_at"]),
        due_at=v["due_at"],
        warn_at=v["warn_at"],
        paused_left=v["paused_left"],
        paused_warn_left=v["paused_warn_left"],
        state=v["state"],
        met_at=v["met_at"],
        warned_at=v["warned_at"],
        breached_at=v["breached_at"],
        next_fire_at=v["next_fire_at"],
    )


def _event(row: Any) -> SlaEvent:
    v = row._mapping
    return SlaEvent(
        id=int(v["id"]),
        deadline_id=int(v["deadline_id"]),
        ticket_id=int(v["ticket_id"]),
        type=v["type"],
        target=v["target"],
        due_at=float(v["due_at"]),
        fired_at=float(v["fired_at"]),
        escalated_at=v["escalated_at"],
    )
