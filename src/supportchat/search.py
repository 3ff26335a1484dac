"""Full-text search (spec §13): the one place its rules are written.

Every backend searches the same way; what it shares is here:

- **Words.** Text is folded (NFKD, combining marks dropped, case-folded, so
  ``Reembolsó`` and ``reembolso`` are one word) and cut into words: runs of
  letters and digits, anything else separates. This is what SQLite's FTS5
  ``unicode61 remove_diacritics 2`` tokenizer does, and what PostgreSQL's
  parser does with the ``unaccent`` dictionary for ordinary words.
- **Matching.** Every word of the query is a word *prefix* (``reem`` finds
  ``reembolso``), and a ticket matches when each query word occurs somewhere
  in its *sources*: its subject, its description or any of its messages (the
  words may sit in different messages). Admin-only sources (internal notes,
  once they exist) join the list for staff searches only.
- **Ticket numbers.** A query that is a ticket number in any form spec §2
  accepts (lower case, ``O`` for ``0``, ``I``/``L`` for ``1``) puts that ticket
  first, whether or not its text matches; the text matches follow.
- **How many.** Every matching ticket (after the listing's other filters)
  is counted in ``total``, exactly, and reachable by paging. Relevance ranks
  the newest :data:`SEARCH_LIMIT` matches (highest id first) and the ticket
  named by its number; pages past that window go on with the older matches,
  newest first, unranked (:func:`rank_key`). A word in a fifth of a million
  tickets would otherwise make every search rank 200,000 of them; the newest
  thousand are the ones a desk looks for, and the rest stay listed, each
  ticket once, so paging through every page lists exactly ``total`` tickets.
- **Order.** Within the window: the exact number first, then :func:`relevance`
  (how many of the ticket's sources hold a query word), then newest first.
  Every backend counts relevance the same way (it needs only which rows
  match, which every index knows), so every backend gives the same order.
- **Highlight.** Each result carries a snippet of its best-matching source in
  which every matched word is wrapped in :data:`MARK_START` and
  :data:`MARK_END`. Both are control characters, which the sanitiser removes
  from everything stored, so they can never come from stored text: a client
  turns them into its own markup (the panel into ``<mark>`` elements, built
  with DOM calls, never ``innerHTML``).
- **Queries are words, never syntax.** Only the words of ``q`` reach a
  database's query language, each quoted, so no input (``"``, ``*``,
  ``NEAR(``, ``-``, ``:``, ``&``…) can change the query's meaning or fail it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .numbers import lookup_candidates

__all__ = [
    "MARK_END",
    "MARK_START",
    "MAX_TERMS",
    "SEARCH_LIMIT",
    "SNIPPET_WORDS",
    "SearchQuery",
    "fold",
    "fts5_any",
    "fts5_prefix",
    "highlight",
    "marked_number",
    "matches",
    "parse_search",
    "rank_key",
    "relevance",
    "tsquery_any",
    "tsquery_prefix",
    "words",
]

#: Wraps each matched word in a ``highlight`` (STX and ETX).
MARK_START = "\x02"
MARK_END = "\x03"
#: A search ranks by relevance only this many text matches, the newest (see the module's "How many").
SEARCH_LIMIT = 1000
#: Query words beyond this many are ignored (each costs an index probe).
MAX_TERMS = 8
#: About how many words a highlight shows.
SNIPPET_WORDS = 16
#: The ellipsis that marks a highlight cut out of a longer text.
ELLIPSIS = "…"

_WORD = re.compile(r"[^\W_]+")
#: A word of stored (NFC) text, combining marks included.
_STORED_WORD = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f])*")


def fold(text: str) -> str:
    """``text`` without accents and case: NFKD, combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a ``q`` asks for, ready for any backend."""

    #: Folded query words, each matched as a word prefix; at most :data:`MAX_TERMS`.
    terms: tuple[str, ...]
    #: The stored ticket numbers ``q`` may be (:func:`~supportchat.numbers.lookup_candidates`).
    numbers: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Nothing can match (no words and no ticket number)."""
        return not self.terms and not self.numbers


def parse_search(q: str) -> SearchQuery:
    """Read a (sanitised) ``q``: its words and the ticket numbers it may be."""
    terms = tuple(dict.fromkeys(words(q)))[:MAX_TERMS]
    # Every candidate, not only those of today's pattern: adopted numbers keep
    # their old forms. Each is one exact probe of the unique index.
    return SearchQuery(terms=terms, numbers=tuple(lookup_candidates(q)))


# -- the words in each engine's query language -----------------------------------


def fts5_prefix(term: str) -> str:
    """One query word as an SQLite FTS5 prefix query: quoted, so it is never syntax."""
    return '"' + term.replace('"', '""') + '"*'


def tsquery_prefix(term: str) -> str:
    """One query word as a PostgreSQL ``to_tsquery`` prefix operand: quoted, so it is never syntax."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "':*"


def fts5_any(search: SearchQuery) -> str:
    """FTS5: any of the words."""
    return " OR ".join(fts5_prefix(t) for t in search.terms)


def tsquery_any(search: SearchQuery) -> str:
    """PostgreSQL: any of the words."""
    return " | ".join(tsquery_prefix(t) for t in search.terms)


# -- the reference implementation (in-memory store, and the contract's oracle) ----


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """Each word of ``text`` as (start, end, folded word), positions in ``text`` itself.

    Stored text is NFC (the sanitiser's), so accented letters are single
    characters that the word pattern takes in; combining marks that remain
    are taken into the word before them.
    """
    return [(m.start(), m.end(), fold(m.group())) for m in _STORED_WORD.finditer(text)]


def _hits(tokens: Sequence[tuple[int, int, str]], terms: Sequence[str]) -> list[bool]:
    return [any(word.startswith(term) for term in terms) for _s, _e, word in tokens]


def matches(sources: Iterable[str], terms: Sequence[str]) -> bool:
    """Whether every term prefixes some word of some source."""
    vocabulary = {word for text in sources for word in words(text)}
    return all(any(word.startswith(term) for word in vocabulary) for term in terms)


def relevance(sources: Iterable[str], terms: Sequence[str]) -> int:
    """How many of ``sources`` hold some query word (a word that one of ``terms`` prefixes); more is better.

    A ticket's own subject and description are one source, each message one,
    each internal note one (staff searches only).
    """
    return sum(1 for text in sources if any(w.startswith(t) for w in words(text) for t in terms))


def rank_key(ticket_id: int, *, exact: bool, relevance: int, recent: bool) -> tuple[int, int, int, int]:
    """Where a matching ticket sorts (ascending): see the module's "How many" and "Order".

    ``recent``: among the newest :data:`SEARCH_LIMIT` text matches; ``exact``:
    named by its ticket number (ranked with the window, first, wherever it is).
    """
    ranked = exact or recent
    return (0 if ranked else 1, 0 if exact else 1, -relevance if recent else 0, -ticket_id)


def highlight(sources: Sequence[str], terms: Sequence[str]) -> str | None:
    """A snippet of the source with the most matched words, matches marked; ``None`` if none match."""
    # Counted on the folded text (one fold per source); positions only for the chosen one.
    best: tuple[int, str] | None = None
    for text in sources:
        count = sum(1 for word in words(text) if any(word.startswith(term) for term in terms))
        if count and (best is None or count > best[0]):
            best = (count, text)
    if best is None:
        return None
    text = best[1]
    tokens = _tokens(text)
    hits = _hits(tokens, terms)
    if not any(hits):
        return None
    first = hits.index(True)
    begin = max(0, min(first - SNIPPET_WORDS // 4, len(tokens) - SNIPPET_WORDS))
    end = min(len(tokens), begin + SNIPPET_WORDS)
    pieces: list[str] = [ELLIPSIS] if begin > 0 else []
    cursor = tokens[begin][0]
    for (start, stop, _word), hit in zip(tokens[begin:end], hits[begin:end], strict=True):
        pieces.append(text[cursor:start])
        pieces.append(f"{MARK_START}{text[start:stop]}{MARK_END}" if hit else text[start:stop])
        cursor = stop
    if end < len(tokens):
        pieces.append(text[cursor : tokens[end][0]].rstrip() + ELLIPSIS)
    else:
        pieces.append(text[cursor:])
    return "".join(pieces).strip()


def marked_number(number: str) -> str:
    """The highlight of a result found by its ticket number."""
    return f"{MARK_START}{number}{MARK_END}"
