"""The report facts in the SQL store's database (SQLite and PostgreSQL): stored rows, and reports as SQL aggregates.

A report reads only the facts of its range (the ``(kind, at)`` index) and the
segments alive at its first moment or starting or ending inside it:

- counts, sums and CSAT's satisfied count: one ``GROUP BY`` (group, kind);
- medians and p90s, exactly: the values are integer microseconds, and one
  ``ROW_NUMBER() OVER (PARTITION BY group, kind ORDER BY value)`` query returns
  only the values at the ranks :func:`~supportchat.reports.figures.wanted_ranks`
  names for each group's count (so no value is interpolated or approximated);
- the backlog at the end of each period: the open segments alive at the
  range's first period end, then per period those starting minus those ending
  in it (index ranges on ``since`` and ``until``).

The figures are then made by the same functions as the reference report's
(:func:`~supportchat.reports.figures.summary_of`, :func:`~supportchat.reports.report.assemble`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..stores.sql import SQLStore
from . import schema
from .figures import SATISFIED_SCORE, csat_of, micros, sla_of, summary_of, wanted_ranks
from .metrics import METRICS_VERSION, SLA_KINDS, FactKind
from .report import (
    BUSINESS,
    COUNTED,
    TIMED,
    WALL,
    GroupBy,
    Report,
    Tally,
    agent_key,
    assemble,
    backlog_moments,
    check_range,
    period_key,
)
from .store import TicketFacts

__all__ = ["SQLFactStore", "moment_micros"]

_f = schema.facts.c
_s = schema.segments.c
_state = schema.state.c
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TOTAL = "total"
_CHUNK = 500


def moment_micros(moment: datetime) -> int:
    """A moment as integer microseconds since the epoch (exact, unlike a float timestamp)."""
    return (moment - _EPOCH) // _MICROSECOND


def _fact_rows(ticket: TicketFacts) -> list[dict[str, Any]]:
    return [
        {
            "ticket_id": ticket.ticket_id,
            "kind": fact.kind.value,
            "at": moment_micros(fact.at),
            "day": period_key(fact.at, GroupBy.DAY),
            "week": period_key(fact.at, GroupBy.WEEK),
            "month": period_key(fact.at, GroupBy.MONTH),
            "agent": fact.agent,
            "category": fact.category,
            "priority": fact.priority,
            "micros": None if fact.value is None or fact.kind not in TIMED else micros(fact.value),
            "business_micros": None if fact.business is None else micros(fact.business),
            "score": None if fact.value is None or fact.kind in TIMED else round(fact.value),
            "metrics_version": METRICS_VERSION,
        }
        for fact in ticket.facts
    ]


def _segment_rows(ticket: TicketFacts) -> list[dict[str, Any]]:
    return [
        {
            "ticket_id": ticket.ticket_id,
            "since": moment_micros(segment.since),
            "until": schema.FOREVER if segment.until is None else moment_micros(segment.until),
            "agent": segment.agent,
            "category": segment.category,
            "priority": segment.priority,
        }
        for segment in ticket.segments
    ]


#: The column a grouping reads, in the facts and (for dimensions) the segments.
_FACT_GROUP = {
    GroupBy.DAY: _f.day,
    GroupBy.WEEK: _f.week,
    GroupBy.MONTH: _f.month,
    GroupBy.AGENT: _f.agent,
    GroupBy.CATEGORY: _f.category,
    GroupBy.PRIORITY: _f.priority,
}
_SEGMENT_GROUP = {GroupBy.AGENT: _s.agent, GroupBy.CATEGORY: _s.category, GroupBy.PRIORITY: _s.priority}
_KINDS = [kind.value for kind in FactKind]


#: The key of unassigned facts in queries (agent ids are positive): a NULL would never match a row value.
_NO_AGENT = -1


def _key_column(group_by: GroupBy) -> Any:
    column = _FACT_GROUP[group_by]
    return (sa.func.coalesce(column, _NO_AGENT) if group_by is GroupBy.AGENT else column).label("key")


def _name(group_by: GroupBy | None, value: Any) -> str:
    if group_by is None:
        return _TOTAL
    if group_by is GroupBy.AGENT:
        return agent_key(None if value in (None, _NO_AGENT) else int(value))
    return str(value)


class SQLFactStore:
    """The :class:`~supportchat.reports.store.FactStore` of a :class:`~supportchat.stores.sql.SQLStore`."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    def _write(self) -> AbstractContextManager[sa.Connection]:
        return self._store.transaction(write=True)

    def _read(self) -> AbstractContextManager[sa.Connection]:
        return self._store.transaction()

    # -- keeping the facts ---------------------------------------------------------

    def version(self) -> int | None:
        with self._read() as connection:
            found = connection.execute(sa.select(_state.metrics_version).where(_state.id == 1)).scalar()
        return None if found is None else int(found)

    def _set_state(self, connection: sa.Connection, **values: Any) -> None:
        updated = connection.execute(schema.state.update().where(_state.id == 1).values(**values)).rowcount
        if not updated:
            connection.execute(schema.state.insert().values(id=1, **values))

    @staticmethod
    def _insert(connection: sa.Connection, tickets: Sequence[TicketFacts]) -> None:
        facts = [row for ticket in tickets for row in _fact_rows(ticket)]
        spans = [row for ticket in tickets for row in _segment_rows(ticket)]
        if facts:
            connection.execute(schema.facts.insert(), facts)
        if spans:
            connection.execute(schema.segments.insert(), spans)

    def replace(self, tickets: Sequence[TicketFacts]) -> None:
        ids = [ticket.ticket_id for ticket in tickets]
        with self._write() as connection:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                connection.execute(schema.facts.delete().where(_f.ticket_id.in_(chunk)))
                connection.execute(schema.segments.delete().where(_s.ticket_id.in_(chunk)))
            self._insert(connection, tickets)

    def rebuild(self, batches: Iterable[Sequence[TicketFacts]], version: int) -> int:
        with self._write() as connection:
            self._set_state(connection, metrics_version=None)
            connection.execute(schema.facts.delete())
            connection.execute(schema.segments.delete())
        stored = 0
        for batch in batches:
            self.replace(batch)  # not a bare insert: a job may have refreshed one of these tickets meanwhile
            stored += len(batch)
        with self._write() as connection:
            self._set_state(connection, metrics_version=version)
        return stored

    def sla_cursor(self) -> int:
        with self._read() as connection:
            found = connection.execute(sa.select(_state.sla_event_id).where(_state.id == 1)).scalar()
        return int(found or 0)

    def move_sla_cursor(self, event_id: int) -> None:
        with self._write() as connection:
            current = connection.execute(sa.select(_state.sla_event_id).where(_state.id == 1)).scalar()
            if current is None or int(current) < event_id:
                self._set_state(connection, sla_event_id=event_id)

    # -- reports ------------------------------------------------------------------------

    def report(self, start: datetime, end: datetime, group_by: GroupBy) -> Report:
        check_range(start, end)
        low, high = moment_micros(start), moment_micros(end)
        with self._read() as connection:
            tallies = self._tallies(connection, low, high, group_by)
            total = self._tallies(connection, low, high, None).get(_TOTAL, Tally())
            if group_by.is_period:
                backlog = self._period_backlog(connection, start, end, group_by)
                total_backlog = backlog[next(reversed(backlog))] if backlog else 0
            else:
                backlog = self._backlog_by(connection, high, group_by)
                total_backlog = sum(self._backlog_by(connection, high, None).values())
        return assemble(start, end, group_by, tallies, total, backlog, total_backlog)

    def _tallies(self, connection: sa.Connection, low: int, high: int, group_by: GroupBy | None) -> dict[str, Tally]:
        keys = [_key_column(group_by)] if group_by else []
        in_range = sa.and_(_f.kind.in_(_KINDS), _f.at >= low, _f.at < high)
        satisfied = sa.func.sum(sa.case((_f.score >= SATISFIED_SCORE, 1), else_=0))
        rows = connection.execute(
            sa.select(
                *keys,
                _f.kind,
                sa.func.count(),
                sa.func.count(_f.micros),
                sa.func.sum(_f.micros),
                sa.func.count(_f.business_micros),
                sa.func.sum(_f.business_micros),
                sa.func.count(_f.score),
                sa.func.sum(_f.score),
                satisfied,
            )
            .where(in_range)
            .group_by(*keys, _f.kind)
        ).fetchall()
        tallies: dict[str, Tally] = defaultdict(Tally)
        sizes: dict[tuple[str, str, str], tuple[int, int]] = {}
        raw_keys: dict[str, Any] = {}
        for row in rows:
            raw = row[0] if keys else None
            kind_name, count, walls, wall_sum, businesses, business_sum, scores, score_sum, happy = row[len(keys) :]
            group, kind = _name(group_by, raw), FactKind(kind_name)
            raw_keys[group] = raw
            tally = tallies[group]
            if kind in COUNTED:
                tally.counts[kind] = int(count)
            elif kind in TIMED:
                sizes[group, kind.value, WALL] = (int(walls), int(wall_sum or 0))
                sizes[group, kind.value, BUSINESS] = (int(businesses), int(business_sum or 0))
            elif kind is FactKind.CSAT:
                tally.csat = csat_of(int(scores), float(score_sum or 0), int(happy or 0))
            elif kind in SLA_KINDS.values():
                tally.sla[kind] = sla_of(int(scores), int(score_sum or 0))
        values = self._values_at_ranks(connection, in_range, keys, group_by, sizes, raw_keys)
        for (group, kind_name, measure), (count, total) in sizes.items():
            ranks = values.get((group, kind_name, measure), {})
            tallies[group].times[FactKind(kind_name), measure] = summary_of(count, total, ranks)
        return dict(tallies)

    def _values_at_ranks(
        self,
        connection: sa.Connection,
        in_range: Any,
        keys: list[Any],
        group_by: GroupBy | None,
        sizes: dict[tuple[str, str, str], tuple[int, int]],
        raw_keys: dict[str, Any],
    ) -> dict[tuple[str, str, str], dict[int, int]]:
        """The values each (group, kind, measure) needs for its median and p90, by rank: those rows only."""
        found: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
        for measure, column in ((WALL, _f.micros), (BUSINESS, _f.business_micros)):
            wanted = [
                ((raw_keys[group],) if keys else ()) + (kind_name, rank)
                for (group, kind_name, m), (count, _) in sizes.items()
                if m == measure
                for rank in sorted(wanted_ranks(count))
            ]
            if not wanted:
                continue
            rank = sa.func.row_number().over(partition_by=(*keys, _f.kind), order_by=column).label("rank")
            ranked = (
                sa.select(*keys, _f.kind.label("kind"), column.label("value"), rank)
                .where(in_range, _f.kind.in_([kind.value for kind in TIMED]), column.isnot(None))
                .subquery()
            )
            chosen = [ranked.c.key] if keys else []
            position = sa.tuple_(*chosen, ranked.c.kind, ranked.c.rank)
            rows = connection.execute(
                sa.select(*chosen, ranked.c.kind, ranked.c.rank, ranked.c.value).where(position.in_(wanted))
            ).fetchall()
            for row in rows:
                raw = row[0] if keys else None
                kind_name, at_rank, value = row[len(keys) :]
                found[_name(group_by, raw), kind_name, measure][int(at_rank)] = int(value)
        return found

    def _backlog_by(self, connection: sa.Connection, moment: int, group_by: GroupBy | None) -> dict[str, int]:
        """Open segments alive just before ``moment`` (``since < moment <= until``), per dimension."""
        alive = sa.and_(_s.until >= moment, _s.since < moment)
        if group_by is None:
            return {_TOTAL: int(connection.execute(sa.select(sa.func.count()).where(alive)).scalar_one())}
        key = _SEGMENT_GROUP[group_by]
        rows = connection.execute(sa.select(key, sa.func.count()).where(alive).group_by(key)).fetchall()
        return {_name(group_by, raw): int(count) for raw, count in rows}

    def _period_backlog(
        self, connection: sa.Connection, start: datetime, end: datetime, group_by: GroupBy
    ) -> dict[str, int]:
        """The backlog at each period's end: alive at the first, then plus those starting, minus those ending."""
        backlog: dict[str, int] = {}
        previous: int | None = None
        count = 0
        for group, taken in backlog_moments(start, end, group_by):
            moment = moment_micros(taken)
            if previous is None:
                count = sum(self._backlog_by(connection, moment, None).values())
            else:
                began = sa.select(sa.func.count()).where(_s.since >= previous, _s.since < moment)
                ended = sa.select(sa.func.count()).where(_s.until >= previous, _s.until < moment)
                count += int(connection.execute(began).scalar_one()) - int(connection.execute(ended).scalar_one())
            backlog[group] = count
            previous = moment
        return backlog
