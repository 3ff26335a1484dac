"""Full-text search on the SQL store: FTS5 on SQLite, ``tsvector`` on PostgreSQL.

The rules are :mod:`supportchat.search`'s; the index objects are
:mod:`supportchat.sqlschema.search`'s. One search is two statements:

1. the page, ranked, with the exact total as a window count. Per query word
   the set of tickets where some source holds it (an index probe per source),
   intersected; every source row holding any word scores its ticket (FTS5
   ``bm25``, PostgreSQL ``ts_rank``, summed per ticket, lower is better); a
   ticket whose number is what ``q`` says ranks before all of them. The
   listing's other filters apply to the tickets found.
2. the texts of the page's tickets, of which :func:`supportchat.search.highlight`
   makes each ticket's highlight (the source with the most matched words).

Statements depend only on the number of words, the filters used and the
audience, so they are built once per shape (and compiled once per dialect).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..models import Ticket
from ..search import SearchQuery, fts5_any, fts5_prefix, highlight, marked_number, tsquery_any, tsquery_prefix
from ..sqlschema.search import POSTGRES_CONFIG, SOURCES, Source
from ._sql_exec import Session

__all__ = ["SearchShape", "search_params", "search_shape", "search_statements", "take_highlights"]

#: lookup_candidates gives at most three numbers; unused slots are NULL (which matches nothing).
_NUMBER_SLOTS = 3
#: (words, status, priority, category, unassigned, assigned, user, tag, staff, sqlite)
SearchShape = tuple[int, bool, bool, bool, bool, bool, bool, bool, bool, bool]


def search_shape(listing: tuple[bool, ...], search: SearchQuery, *, staff: bool, sqlite: bool) -> SearchShape:
    """A search's shape: its word count, the listing's filters used (``listing``), audience and dialect."""
    status, priority, category, unassigned, assigned, user, tag = listing
    return (len(search.terms), status, priority, category, unassigned, assigned, user, tag, staff, sqlite)


_FIELDS = tuple(Ticket.model_fields)


def _ticket_columns(alias: str) -> str:
    """The ticket row in the model's field order (see ``_TICKET_ROW`` in :mod:`.sql`)."""
    table = SOURCES[0].table
    assert table == "support_tickets"
    fixed = {"unread_count": "0", "highlight": "NULL", "tags": "NULL"}
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
    _words, status, priority, category, unassigned, assigned, user, tag, _staff, _sqlite = shape
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
    if tag:
        conditions.append("EXISTS (SELECT 1 FROM support_ticket_tags AS g WHERE g.ticket_id = t.id AND g.tag = :p_tag)")
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
    filters = _filters(shape)
    if filters == "TRUE":
        ctes.append("listed(ticket_id, exact, score) AS (SELECT ticket_id, exact, score FROM ranked)")
    else:
        ctes.append(
            "listed(ticket_id, exact, score) AS (SELECT r.ticket_id, r.exact, r.score FROM ranked AS r "
            f"JOIN support_tickets AS t ON t.id = r.ticket_id WHERE {filters})"
        )
    # Ranked on the narrow (id, score) rows; whole ticket rows are read for the page only.
    ctes.append(
        "page(ticket_id, exact, score, total) AS (SELECT ticket_id, exact, score, count(*) OVER () FROM listed "
        "ORDER BY exact DESC, score, ticket_id DESC LIMIT :p_limit OFFSET :p_offset)"
    )
    head = "WITH " + ", ".join(ctes)
    page = sa.text(
        f"{head} SELECT {_ticket_columns('t')}, p.exact, p.total FROM page AS p "
        "JOIN support_tickets AS t ON t.id = p.ticket_id ORDER BY p.exact DESC, p.score, t.id DESC"
    )
    count = sa.text(f"{head.removesuffix(', ' + ctes[-1])} SELECT count(*) FROM listed")
    return page, count


@functools.cache
def _texts_statement(staff: bool, sqlite: bool) -> sa.TextClause:
    """(ticket id, text) of every searched row, other than the ticket's own, of the listed tickets."""
    listed = "(SELECT value FROM json_each(:p_ids))" if sqlite else "(SELECT unnest(CAST(:p_ids AS bigint[])))"
    selects = [
        f"SELECT s.{source.ticket_column}, {' || '.join(f's.{c}' for c in source.columns)} "
        f"FROM {source.table} AS s WHERE s.{source.ticket_column} IN {listed}"
        for source in _sources(staff)
        if source.ticket_column != "id"
    ]
    return sa.text(" UNION ALL ".join(selects))


def take_highlights(
    session: Session, rows: Sequence[Sequence[Any]], search: SearchQuery, *, staff: bool, sqlite: bool
) -> list[tuple[Sequence[Any], str | None]]:
    """Each page row with its highlight, made by :func:`supportchat.search.highlight` from the stored text.

    One statement reads the texts of the page's tickets (an index range per
    ticket); marking them in Python costs far less than the engines' own
    snippet functions, which re-read every match of the query, and gives
    every backend the same highlight.
    """
    texts: dict[int, list[str]] = {}
    subject_at, description_at = _FIELDS.index("subject"), _FIELDS.index("description")
    for row in rows:
        texts[int(row[0])] = [f"{row[subject_at]} {row[description_at]}"]
    if search.terms and rows:
        ids = list(texts)
        params = {"p_ids": "[" + ",".join(map(str, ids)) + "]" if sqlite else ids}
        for ticket_id, text in session.run(_texts_statement(staff, sqlite), params).fetchall():
            texts[int(ticket_id)].append(text)
    number_at = _FIELDS.index("ticket_number")
    result: list[tuple[Sequence[Any], str | None]] = []
    for row in rows:
        snippet = highlight(texts[int(row[0])], search.terms) if search.terms else None
        if snippet is None and row[-2]:  # found by its number
            snippet = marked_number(row[number_at])
        result.append((row, snippet))
    return result
