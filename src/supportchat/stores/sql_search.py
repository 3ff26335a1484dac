"""Full-text search on the SQL store: FTS5 on SQLite, ``tsvector`` on PostgreSQL.

The rules are :mod:`supportchat.search`'s (which tickets match, the newest
:data:`~supportchat.search.SEARCH_LIMIT` ranked by :func:`~supportchat.search.relevance`,
the older ones after them); the index objects are :mod:`supportchat.sqlschema.search`'s.

SQLite (:func:`sqlite_search`) walks the ticket-keyed index newest first: per
query word, the rowids of the rows holding it, in descending order, read in
growing chunks; since a rowid is ``ticket_id << 32 | n``, a ticket's rows
arrive together, and a ticket is decided once every word's walk has passed
it. Every match is walked (``total`` is exact), but only rowids: the texts
are read for the page alone. Relevance is the number of distinct rows (sources) a ticket has
among the words' rows: no per-row scoring function, no join.

PostgreSQL (:func:`search_statements`) does the same in one statement over
its GIN indexes: per word the set of tickets where some source holds it,
intersected; every match after the filters counted, the newest ranked.

Either way the page's texts are then read to mark the highlights
(:func:`take_highlights`).
"""

from __future__ import annotations

import functools
import heapq
import json
from collections.abc import Iterator, Mapping, Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa

from .. import search as search_rules
from ..models import Ticket
from ..search import (
    SearchQuery,
    fts5_prefix,
    highlight,
    marked_number,
    rank_key,
    tsquery_any,
    tsquery_prefix,
    words,
)
from ..sqlschema.search import (
    POSTGRES_CONFIG,
    PUBLIC_INDEX,
    SOURCES,
    STAFF_INDEX,
    TICKET_SHIFT,
    WORDS,
    Source,
    pending_statement,
)
from ._sql_exec import Session

__all__ = [
    "SearchShape",
    "search_params",
    "search_shape",
    "search_statements",
    "sqlite_search",
    "take_highlights",
]

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


def search_params(listing: Mapping[str, Any], search: SearchQuery) -> dict[str, Any]:
    """The PostgreSQL statements' parameters: the listing's filters and window (``listing``) and the words."""
    params = {**listing, "p_any": tsquery_any(search), "p_search_limit": search_rules.SEARCH_LIMIT}
    for index, term in enumerate(search.terms):
        params[f"p_t{index}"] = tsquery_prefix(term)
    numbers = list(search.numbers[:_NUMBER_SLOTS])
    for index in range(_NUMBER_SLOTS):
        params[f"p_n{index}"] = numbers[index] if index < len(numbers) else None
    return params


def _sources(staff: bool) -> list[Source]:
    return [s for s in SOURCES if staff or not s.staff_only]


def _rows_matching(source: Source, parameter: str) -> str:
    """PostgreSQL: SELECT the ticket id of every row of ``source`` matching the query in ``parameter``."""
    tsquery = f"to_tsquery('{POSTGRES_CONFIG}'::regconfig, :{parameter})"
    vector = source.postgres_vector("s")
    return f"SELECT s.{source.ticket_column} AS ticket_id FROM {source.table} AS s WHERE {vector} @@ {tsquery}"


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


def _rank_order(prefix: str, ticket_id: str) -> str:
    """:func:`supportchat.search.rank_key` as an ORDER BY: the ranked window (exact or recent) first."""
    exact, recent, relevance = (prefix + name for name in ("exact", "recent", "relevance"))
    return (
        f"GREATEST({exact}, {recent}) DESC, {exact} DESC, "
        f"CASE WHEN {recent} = 1 THEN {relevance} ELSE 0 END DESC, {ticket_id} DESC"
    )


@functools.cache
def search_statements(shape: SearchShape) -> tuple[sa.TextClause, sa.TextClause]:
    """PostgreSQL: the page (with its total) and the count-only statement of one search shape."""
    words, *_rest, staff, sqlite = shape
    assert not sqlite, "SQLite searches walk the index (sqlite_search)"
    sources = _sources(staff)
    numbers = ", ".join(f":p_n{i}" for i in range(_NUMBER_SLOTS))
    filters = _filters(shape)
    ctes = []
    parts = [
        f"SELECT t.id AS ticket_id, 1 AS exact, 0 AS relevance, 0 AS recent FROM support_tickets AS t "
        f"WHERE t.ticket_number IN ({numbers}) AND {filters}"
    ]
    if words:
        hits = " UNION ALL ".join(_rows_matching(s, "p_any") for s in sources)
        ctes.append(f"hits(ticket_id) AS ({hits})")
        found = "SELECT ticket_id, count(*) AS relevance FROM hits"
        if words > 1:
            every = " INTERSECT ".join(
                "SELECT ticket_id FROM ("
                + " UNION ALL ".join(_rows_matching(s, f"p_t{i}") for s in sources)
                + f") AS term{i}"
                for i in range(words)
            )
            ctes.append(f"every_word(ticket_id) AS ({every})")
            found += " WHERE ticket_id IN (SELECT ticket_id FROM every_word)"
        ctes.append(f"found(ticket_id, relevance) AS ({found} GROUP BY ticket_id)")
        # Every match after the listing's filters; the newest search.SEARCH_LIMIT are ranked (rank_key).
        ctes.append(
            "matched(ticket_id, relevance, recent) AS (SELECT f.ticket_id, f.relevance, "
            "row_number() OVER (ORDER BY f.ticket_id DESC) <= :p_search_limit FROM found AS f "
            f"JOIN support_tickets AS t ON t.id = f.ticket_id WHERE {filters})"
        )
        parts.insert(0, "SELECT ticket_id, 0, relevance, CAST(recent AS integer) FROM matched")
    ctes.append(f"listed(ticket_id, exact, relevance, recent) AS ({' UNION ALL '.join(parts)})")
    ctes.append(
        "ranked(ticket_id, exact, relevance, recent) AS "
        "(SELECT ticket_id, max(exact), max(relevance), max(recent) FROM listed GROUP BY ticket_id)"
    )
    order = _rank_order("", "ticket_id")
    ctes.append(
        "page(ticket_id, exact, relevance, recent, total) AS (SELECT ticket_id, exact, relevance, recent, "
        f"count(*) OVER () FROM ranked ORDER BY {order} LIMIT :p_limit OFFSET :p_offset)"
    )
    head = "WITH " + ", ".join(ctes)
    page_order = _rank_order("p.", "t.id")
    page = sa.text(
        f"{head} SELECT {_ticket_columns('t')}, p.exact, p.total FROM page AS p "
        f"JOIN support_tickets AS t ON t.id = p.ticket_id ORDER BY {page_order}"
    )
    count = sa.text(f"{head.removesuffix(', ' + ctes[-1])} SELECT count(*) FROM ranked")
    return page, count


# -- SQLite: walking the ticket-keyed index --------------------------------------------

#: The first chunk of a word's walk, and the largest (each chunk doubles the last).
_FIRST_CHUNK, _LAST_CHUNK = 512, 8192
#: Candidate tickets checked against the listing's filters in one statement.
_FILTER_BATCH = 256
#: A user with at most this many tickets (after the other filters) has them probed one by one.
_PROBED_TICKETS = 500


@functools.cache
def _walk_statement(index: str) -> sa.TextClause:
    return sa.text(
        f"SELECT rowid FROM {index} WHERE {index} MATCH :p_match AND rowid < :p_below ORDER BY rowid DESC LIMIT :p_n"
    )


def _walk(session: Session, index: str, match: str) -> Iterator[int]:
    """The rowids of ``index`` matching ``match``, highest first, read in growing chunks."""
    below, chunk = 1 << 62, _FIRST_CHUNK
    while True:
        rows = session.run(_walk_statement(index), {"p_match": match, "p_below": below, "p_n": chunk}).fetchall()
        for (rowid,) in rows:
            yield rowid
        if len(rows) < chunk:
            return
        below, chunk = rows[-1][0], min(chunk * 2, _LAST_CHUNK)


@functools.cache
def _pending(staff: bool) -> sa.TextClause:
    return sa.text(pending_statement(_sources(staff)))


#: (index rowid, the row's words) of rows written but not yet indexed, highest rowid first.
Pending = list[tuple[int, frozenset[str]]]


def _read_pending(session: Session, *, staff: bool) -> Pending:
    rows = session.run(_pending(staff)).fetchall()
    return sorted(((int(rowid), frozenset(words(text))) for rowid, text in rows), reverse=True)


#: A prefix naming more indexed words than this is left to FTS5's own prefix query (slower, as short).
_MAX_EXPANSION = 64
_EXPANSION = sa.text(f"SELECT word FROM {WORDS} WHERE word >= :p_from AND word < :p_to ORDER BY word LIMIT :p_n")


def _match(session: Session, term: str) -> str | None:
    """The FTS5 query of the indexed words ``term`` prefixes (read lazily); ``None`` when there are none."""
    named = session.run(_EXPANSION, {"p_from": term, "p_to": term + "\U0010ffff", "p_n": _MAX_EXPANSION + 1}).fetchall()
    if len(named) > _MAX_EXPANSION:
        return fts5_prefix(term)
    return " OR ".join('"' + str(word).replace('"', '""') + '"' for (word,) in named) or None


@functools.cache
def _probe_statement(index: str) -> sa.TextClause:
    return sa.text(f"SELECT rowid FROM {index} WHERE {index} MATCH :p_match AND rowid >= :p_low AND rowid <= :p_high")


def _probe(session: Session, index: str, match: str, tickets: Sequence[int]) -> Iterator[int]:
    """The rowids of ``index`` matching ``match`` among ``tickets``' rows, highest first: one seek per ticket."""
    found: list[int] = []
    for ticket_id in tickets:
        low = ticket_id << TICKET_SHIFT
        params = {"p_match": match, "p_low": low, "p_high": low + (1 << TICKET_SHIFT) - 1}
        found += [rowid for (rowid,) in session.run(_probe_statement(index), params).fetchall()]
    return iter(sorted(found, reverse=True))


def _word_rows(
    session: Session, term: str, pending: Pending, *, staff: bool, tickets: Sequence[int] | None
) -> Iterator[int]:
    """The rowids of every source row holding ``term``, highest first (staff: notes too), pending rows too.

    With ``tickets`` (a user's own, few), only their rows: probed ticket by
    ticket rather than walked through every ticket that holds the word.
    """
    match = _match(session, term)
    held = [rowid for rowid, found in pending if any(word.startswith(term) for word in found)]
    if tickets is not None:
        mine = set(tickets)
        held = [rowid for rowid in held if rowid >> TICKET_SHIFT in mine]
    if match is None:
        return iter(held)
    indexes = [PUBLIC_INDEX, STAFF_INDEX] if staff else [PUBLIC_INDEX]
    if tickets is None:
        walks = [_walk(session, index, match) for index in indexes]
    else:
        walks = [_probe(session, index, match, tickets) for index in indexes]
    if held:
        walks.append(iter(held))
    return walks[0] if len(walks) == 1 else heapq.merge(*walks, reverse=True)


def _tagged(rowids: Iterator[int], word: int) -> Iterator[tuple[int, int]]:
    return ((rowid, word) for rowid in rowids)


def _text_matches(
    session: Session, search: SearchQuery, *, staff: bool, tickets: Sequence[int] | None = None
) -> Iterator[tuple[int, int]]:
    """(ticket id, relevance) of every ticket holding every query word, newest first, lazily (of ``tickets``)."""
    pending = _read_pending(session, staff=staff)
    walks = [
        _tagged(_word_rows(session, term, pending, staff=staff, tickets=tickets), word)
        for word, term in enumerate(search.terms)
    ]
    merged = walks[0] if len(walks) == 1 else heapq.merge(*walks, reverse=True)
    every = (1 << len(walks)) - 1
    for ticket_id, rows in groupby(merged, key=lambda hit: hit[0] >> TICKET_SHIFT):
        held, sources = 0, set()
        for rowid, word in rows:
            held |= 1 << word
            sources.add(rowid)
        if held == every:
            yield ticket_id, len(sources)


@functools.cache
def _candidates(shape: SearchShape) -> sa.TextClause:
    return sa.text(
        "SELECT t.id FROM support_tickets AS t WHERE t.id IN (SELECT value FROM json_each(:p_ids)) "
        f"AND {_filters(shape)}"
    )


@functools.cache
def _numbered_statement(shape: SearchShape) -> sa.TextClause:
    numbers = ", ".join(f":p_n{i}" for i in range(_NUMBER_SLOTS))
    return sa.text(f"SELECT t.id FROM support_tickets AS t WHERE t.ticket_number IN ({numbers}) AND {_filters(shape)}")


@functools.cache
def _own_statement(shape: SearchShape) -> sa.TextClause:
    return sa.text(f"SELECT t.id FROM support_tickets AS t WHERE {_filters(shape)} ORDER BY t.id DESC LIMIT :p_n")


def _own_tickets(session: Session, shape: SearchShape, params: Mapping[str, Any]) -> list[int] | None:
    """A user's search: the user's tickets passing the filters, newest first, when they are few; else ``None``."""
    if not shape[6]:  # no user filter
        return None
    rows = session.run(_own_statement(shape), {**params, "p_n": _PROBED_TICKETS + 1}).fetchall()
    return None if len(rows) > _PROBED_TICKETS else [int(row[0]) for row in rows]


@functools.cache
def _rows_statement() -> sa.TextClause:
    return sa.text(
        f"SELECT {_ticket_columns('t')} FROM support_tickets AS t WHERE t.id IN (SELECT value FROM json_each(:p_ids))"
    )


def sqlite_search(
    session: Session, shape: SearchShape, search: SearchQuery, listing: Mapping[str, Any]
) -> tuple[list[tuple[Any, ...]], int]:
    """SQLite: the page's ticket rows, each followed by whether its number was asked for and the total; the total.

    Every text match is walked, newest first, and checked against the
    listing's filters a batch at a time (``total`` is exact); the newest
    :data:`~supportchat.search.SEARCH_LIMIT` of them and the ticket named by
    its number are ranked, the older ones follow (:func:`~supportchat.search.rank_key`).
    """
    filtered = _filters(shape) != "TRUE"
    params = dict(listing)
    numbers = list(search.numbers[:_NUMBER_SLOTS])
    for index in range(_NUMBER_SLOTS):
        params[f"p_n{index}"] = numbers[index] if index < len(numbers) else None
    exact = {int(row[0]) for row in session.run(_numbered_statement(shape), params).fetchall()}
    listed: list[tuple[int, int]] = []
    if search.terms:
        own = _own_tickets(session, shape, params)
        matches = _text_matches(session, search, staff=shape[-2], tickets=own)
        filtered = filtered and own is None
        while batch := [hit for _n, hit in zip(range(_FILTER_BATCH), matches, strict=False)]:
            if filtered:
                ids = json.dumps([ticket_id for ticket_id, _r in batch])
                passing = {int(r[0]) for r in session.run(_candidates(shape), {**params, "p_ids": ids}).fetchall()}
                batch = [hit for hit in batch if hit[0] in passing]
            listed.extend(batch)
    window = search_rules.SEARCH_LIMIT
    keys = {ticket_id: rank_key(ticket_id, exact=True, relevance=0, recent=False) for ticket_id in exact}
    for position, (ticket_id, relevance) in enumerate(listed):
        keys[ticket_id] = rank_key(ticket_id, exact=ticket_id in exact, relevance=relevance, recent=position < window)
    order = sorted(keys, key=keys.__getitem__)
    page = order[listing["p_offset"] : listing["p_offset"] + listing["p_limit"]]
    if not page:
        return [], len(order)
    rows = {int(row[0]): row for row in session.run(_rows_statement(), {"p_ids": json.dumps(page)}).fetchall()}
    return [(*rows[t], t in exact, len(order)) for t in page if t in rows], len(order)


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
