"""Full-text search on the SQL store: FTS5 on SQLite, ``tsvector`` on PostgreSQL.

The rules are :mod:`supportchat.search`'s; the index objects are
:mod:`supportchat.sqlschema.search`'s. One search is two statements:

1. the page, ranked, with the exact total as a window count. Per query word
   the set of tickets where some source holds it (an index probe per source),
   intersected; every source row holding any word scores its ticket (FTS5
   ``bm25``, PostgreSQL ``ts_rank``, summed per ticket, lower is better); a
   ticket whose number is what ``q`` says ranks before all of them. The
   listing's other filters apply to the tickets found.
2. the highlights of the page's tickets: the best-scoring source row of each,
   as FTS5 ``snippet`` or ``ts_headline`` with the matched words between
   :data:`~supportchat.search.MARK_START` and ``MARK_END``.

Statements depend only on the number of words, the filters used and the
audience, so they are built once per shape (and compiled once per dialect).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..models import Ticket
from ..search import (
    ELLIPSIS,
    MARK_START,
    SNIPPET_WORDS,
    SearchQuery,
    fts5_any,
    fts5_prefix,
    marked_number,
    tsquery_any,
    tsquery_prefix,
)
from ..sqlschema.search import POSTGRES_CONFIG, SOURCES, Source
from ._sql_exec import Session

__all__ = ["SearchShape", "search_params", "search_shape", "search_statements", "take_highlights"]

#: lookup_candidates gives at most three numbers; unused slots are NULL (which matches nothing).
_NUMBER_SLOTS = 3
#: (words, status, priority, category, unassigned, assigned, user, staff, sqlite)
SearchShape = tuple[int, bool, bool, bool, bool, bool, bool, bool, bool]


def search_shape(listing: tuple[bool, ...], search: SearchQuery, *, staff: bool, sqlite: bool) -> SearchShape:
    """A search's shape: its word count, the listing's filters used (``listing``), audience and dialect."""
    status, priority, category, unassigned, assigned, user = listing
    return (len(search.terms), status, priority, category, unassigned, assigned, user, staff, sqlite)


def _ticket_columns(alias: str) -> str:
    """The ticket row in the model's field order (see ``_TICKET_ROW`` in :mod:`.sql`)."""
    table = SOURCES[0].table
    assert table == "support_tickets"
    fixed = {"unread_count": "0", "highlight": "NULL"}
    return ", ".join(fixed.get(name, f"{alias}.{name}") for name in Ticket.model_fields)


def search_params(listing: Mapping[str, Any], search: SearchQuery, *, sqlite: bool) -> dict[str, Any]:
    """The statements' parameters: the listing's filters and window (``listing``) and the words."""
    quote = fts5_prefix if sqlite else tsquery_prefix
    params = {**listing, "p_any": fts5_any(search) if sqlite else tsquery_any(search)}
    for index, term in enumerate(search.terms):
        params[f"p_t{index}"] = quote(term)
    numbers = list(search.numbers[:_NUMBER_SLOTS])
    for index in range(_NUMBER_SLOTS):
        params[f"p_n{index}"] = numbers[index] if index < len(numbers) else None
    return params


def _sources(staff: bool) -> list[Source]:
    return [s for s in SOURCES if staff or not s.staff_only]


def _rows_matching(source: Source, parameter: str, *, sqlite: bool, scored: bool) -> str:
    """SELECT (ticket id[, score]) of every row of ``source`` matching the query in ``parameter``."""
    if sqlite:
        fts = source.fts_table
        score = f", bm25({fts})" if scored else ""
        if source.ticket_column == "id":
            return f"SELECT {fts}.rowid AS ticket_id{score} FROM {fts} WHERE {fts} MATCH :{parameter}"
        return (
            f"SELECT s.{source.ticket_column} AS ticket_id{score} FROM {fts} "
            f"JOIN {source.table} AS s ON s.id = {fts}.rowid WHERE {fts} MATCH :{parameter}"
        )
    tsquery = f"to_tsquery('{POSTGRES_CONFIG}'::regconfig, :{parameter})"
    vector = source.postgres_vector("s")
    score = f", -ts_rank({vector}, {tsquery})" if scored else ""
    return f"SELECT s.{source.ticket_column} AS ticket_id{score} FROM {source.table} AS s WHERE {vector} @@ {tsquery}"


def _filters(shape: SearchShape) -> str:
    _words, status, priority, category, unassigned, assigned, user, _staff, _sqlite = shape
    conditions = ["TRUE"]
    for used, column in ((status, "status"), (priority, "priority"), (category, "category")):
        if used:
            conditions.append(f"t.{column} = :p_{column}")
    if unassigned:
        conditions.append("t.assigned_to IS NULL")
    if assigned:
        conditions.append("t.assigned_to = :p_assigned")
    if user:
        conditions.append("t.user_id = :p_user")
    return " AND ".join(conditions)


@functools.cache
def search_statements(shape: SearchShape) -> tuple[sa.TextClause, sa.TextClause]:
    """The page (with its total) and the count-only statement of one search shape."""
    words, *_rest, staff, sqlite = shape
    sources = _sources(staff)
    numbers = ", ".join(f":p_n{i}" for i in range(_NUMBER_SLOTS))
    parts = [
        f"SELECT id AS ticket_id, 1 AS exact, 0.0 AS score FROM support_tickets WHERE ticket_number IN ({numbers})"
    ]
    ctes = []
    if words:
        hits = " UNION ALL ".join(_rows_matching(s, "p_any", sqlite=sqlite, scored=True) for s in sources)
        ctes.append(f"hits(ticket_id, score) AS ({hits})")
        found = "SELECT ticket_id, 0, sum(score) FROM hits"
        if words > 1:
            every = " INTERSECT ".join(
                "SELECT ticket_id FROM ("
                + " UNION ALL ".join(_rows_matching(s, f"p_t{i}", sqlite=sqlite, scored=False) for s in sources)
                + f") AS term{i}"
                for i in range(words)
            )
            ctes.append(f"every_word(ticket_id) AS ({every})")
            found += " WHERE ticket_id IN (SELECT ticket_id FROM every_word)"
        parts.insert(0, found + " GROUP BY ticket_id")
    ctes.append(f"found(ticket_id, exact, score) AS ({' UNION ALL '.join(parts)})")
    ctes.append(
        "ranked(ticket_id, exact, score) AS (SELECT ticket_id, max(exact), min(score) FROM found GROUP BY ticket_id)"
    )
    head = "WITH " + ", ".join(ctes)
    joined = f"FROM ranked AS r JOIN support_tickets AS t ON t.id = r.ticket_id WHERE {_filters(shape)}"
    page = sa.text(
        f"{head} SELECT {_ticket_columns('t')}, r.exact, count(*) OVER () {joined} "
        "ORDER BY r.exact DESC, r.score, t.id DESC LIMIT :p_limit OFFSET :p_offset"
    )
    count = sa.text(f"{head} SELECT count(*) {joined}")
    return page, count


@functools.cache
def _highlight_statement(staff: bool, sqlite: bool) -> sa.TextClause:
    """(ticket id, score, snippet) of every source row of the listed tickets holding a query word."""
    selects = []
    for source in _sources(staff):
        if sqlite:
            fts = source.fts_table
            snippet = f"snippet({fts}, -1, char(2), char(3), '{ELLIPSIS}', {SNIPPET_WORDS})"
            key = "j.value" if source.ticket_column == "id" else "s.id"
            join = "" if source.ticket_column == "id" else f" CROSS JOIN {source.table} AS s ON s.ticket_id = j.value"
            # CROSS JOIN fixes the order: the page's tickets first, then one
            # index probe per row, never a walk through every match.
            selects.append(
                f"SELECT j.value, bm25({fts}), {snippet} FROM json_each(:p_ids) AS j{join} "
                f"CROSS JOIN {fts} WHERE {fts}.rowid = {key} AND {fts} MATCH :p_any"
            )
        else:
            tsquery = f"to_tsquery('{POSTGRES_CONFIG}'::regconfig, :p_any)"
            options = (
                f"'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords={SNIPPET_WORDS}, "
                "MinWords=5, ShortWord=0, MaxFragments=1, FragmentDelimiter=" + ELLIPSIS + "'"
            )
            selects.append(
                f"SELECT s.{source.ticket_column}, -ts_rank({source.postgres_vector('s')}, {tsquery}), "
                f"ts_headline('{POSTGRES_CONFIG}'::regconfig, {source.postgres_text('s')}, {tsquery}, {options}) "
                f"FROM {source.table} AS s WHERE s.{source.ticket_column} = ANY(:p_ids) "
                f"AND {source.postgres_vector('s')} @@ {tsquery}"
            )
    return sa.text(" UNION ALL ".join(selects))


def take_highlights(
    session: Session, rows: Sequence[Sequence[Any]], search: SearchQuery, *, staff: bool, sqlite: bool
) -> list[tuple[Sequence[Any], str | None]]:
    """Each page row with its highlight: the best source row's snippet, or the marked number."""
    best: dict[int, tuple[float, str]] = {}
    if search.terms and rows:
        ids = [int(row[0]) for row in rows]
        params: dict[str, Any] = {
            "p_ids": "[" + ",".join(map(str, ids)) + "]" if sqlite else ids,
            "p_any": fts5_any(search) if sqlite else tsquery_any(search),
        }
        for ticket_id, score, snippet in session.run(_highlight_statement(staff, sqlite), params).fetchall():
            current = best.get(int(ticket_id))
            if current is None or float(score) < current[0]:
                best[int(ticket_id)] = (float(score), snippet)
    result: list[tuple[Sequence[Any], str | None]] = []
    number_at = list(Ticket.model_fields).index("ticket_number")
    for row in rows:
        found = best.get(int(row[0]))
        snippet = found[1] if found and MARK_START in found[1] else None
        if snippet is None and row[-2]:  # found by its number
            snippet = marked_number(row[number_at])
        result.append((row, snippet))
    return result
