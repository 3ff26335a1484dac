"""Input rules (spec §4) and the ticket lifecycle (spec §3).

Everything here is pure: functions of their arguments that either return the
clean value or raise :class:`~supportchat.errors.ValidationError` naming the
field. The desk calls them before anything reaches a store.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from .errors import InvalidTransition, NotFound, RatingNotOpen, TicketClosed, ValidationError
from .markup import neutralise_markup
from .models import TicketChange, TicketStatus

__all__ = [
    "CLIENT_MESSAGE_ID_PATTERN",
    "FILE_URL_PATTERN",
    "MAX_ID",
    "MAX_ROW_OFFSET",
    "MAX_TAGS",
    "RATING_SCORES",
    "TAG_PATTERN",
    "UNASSIGNED",
    "VISIBLE_TEXT_PATTERN",
    "Limits",
    "allowed_transitions",
    "as_id",
    "check_rating_open",
    "check_transition",
    "clean_search",
    "clean_text",
    "is_blank",
    "is_reopening",
    "parse_assignee_filter",
    "parse_choice",
    "parse_file_url",
    "parse_page",
    "parse_path_id",
    "parse_positive_int",
    "parse_score",
    "parse_tag",
    "parse_tags",
    "resolution_cycle",
    "sanitize",
]

#: The largest id anything may carry: a signed 64-bit integer (SQLite's INTEGER, PostgreSQL's BIGINT).
MAX_ID = 2**63 - 1
_ID_DIGITS = len(str(MAX_ID))
#: The deepest row a page may start at, so ``page × per_page`` stays inside every backend's OFFSET.
MAX_ROW_OFFSET = 2**31 - 1
#: How a listing filter spells "assigned to nobody" (JSON bodies say ``null``).
UNASSIGNED = "none"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: What sanitising strips from the ends of text, besides control characters: ``str.isspace``.
_SPACE = "\\x09-\\x0d\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
#: Characters :func:`is_blank` counts as showing nothing, as a regular-expression class body:
#: controls, white space, format characters (category Cf) and the other invisible ones.
_BLANK_CLASS = (
    "\\x00-\\x20\\x7f-\\xa0\\xad\\u034f\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2"
    "\\u115f\\u1160\\u1680\\u17b4\\u17b5\\u180b-\\u180f\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u2064"
    "\\u2066-\\u206f\\u2800\\u3000\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff9-\\ufffb"
)
#: A regular expression (JSON Schema dialect) that text matches when it is not blank: it holds
#: a character that is neither a control, white space, nor invisible (:func:`is_blank`; astral
#: format characters such as U+E0001 are the known difference).
VISIBLE_TEXT_PATTERN = f"[^{_BLANK_CLASS}]"
#: A regular expression (JSON Schema dialect) matching what :func:`parse_file_url` accepts
#: (leaving aside the length, which :attr:`Limits.file_url` bounds, and bracketed IPv6 hosts).
FILE_URL_PATTERN = f"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\[\\]\\x00-\\x1f{_SPACE}]+([/?#][^\\x00-\\x1f{_SPACE}]*)?$"
#: What a stored tag is (spec §12): lower case, 1–32 of ``a-z 0-9 - _``.
TAG_PATTERN = "^[a-z0-9_-]{1,32}$"
_TAG = re.compile(TAG_PATTERN)
#: At most this many tags on one ticket (spec §12).
MAX_TAGS = 20
#: A client's idempotency key for a message.
CLIENT_MESSAGE_ID_PATTERN = "^[A-Za-z0-9._:-]{1,64}$"
#: Bidirectional embeddings, overrides and isolates reorder how the text around
#: them is displayed (a subject that reads backwards, a file name whose
#: extension moves): dropped like control characters. The marks (U+200E, U+200F,
#: U+061C), which right-to-left writing needs, stay.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Characters that render as nothing, beside whitespace and the format
#: characters (category Cf: zero-width space and joiners, word joiner, BOM, …):
#: grapheme joiner, Hangul fillers, Mongolian and other variation selectors,
#: Braille blank.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0))
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits: lengths in characters (counted after sanitising) and the request body in bytes.

    The HTTP layer and its OpenAPI document read them from the desk, so a
    desk with other limits documents and enforces those.
    """

    subject: int = 200
    body: int = 10_000
    search: int = 200
    per_page_max: int = 100
    file_url: int = 2048
    #: Spec §4: request bodies of at most 1 MiB (413 above).
    body_bytes: int = 1024 * 1024

    @property
    def page_max(self) -> int:
        """The last page number a listing accepts at the largest page size."""
        return MAX_ROW_OFFSET // self.per_page_max + 1

    #: Messages an opened ticket shows (its newest), unless the caller asks for another ``limit``.
    thread_messages: int = 50
    #: The largest ``limit`` a caller may ask for when opening a ticket.
    thread_messages_max: int = 200


def sanitize(text: str) -> str:
    """Plain text as typed, with nothing in it that could run, load or style when rendered as HTML.

    Control characters (but newline and tab) and bidirectional controls are
    dropped, the text is NFC-normalised and trimmed, and every tag that could
    run script, load anything or style the page is neutralised
    (:func:`~supportchat.markup.neutralise_markup`); every other character,
    ``<``, ``>`` and ``&`` included, is kept. The result is a fixed point:
    sanitising it again changes nothing.
    """
    return neutralise_markup(_plain(text))


def _plain(text: str) -> str:
    """Sanitising but for neutralising markup, which only ever adds characters."""
    text = _BIDI_CONTROLS.sub("", _CONTROL.sub("", text))
    return unicodedata.normalize("NFC", text).strip()


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only whitespace, format and other invisible characters."""
    return all(ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) == "Cf" for ch in text)


def clean_text(field: str, value: object, max_length: int) -> str:
    """Sanitise ``value`` and require 1..``max_length`` characters afterwards."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    text = _plain(value)
    if len(text) > max_length:
        # Neutralising could only lengthen it: refuse before reading its tags,
        # so a mebibyte of markup costs no more than one that fits.
        raise ValidationError(field, f"must be at most {max_length} characters, got at least {len(text)}")
    text = neutralise_markup(text)
    if is_blank(text):
        raise ValidationError(field, "must not be empty (after removing whitespace and invisible characters)")
    if len(text) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters, got {len(text)}")
    return text


def clean_search(value: object, limits: Limits) -> str | None:
    """Search text as sanitised; ``None`` (no filter) when nothing is left of it."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and not sanitize(value):
        return None
    return clean_text("q", value, limits.search)


E = TypeVar("E", bound=enum.StrEnum)


def parse_choice(field: str, value: object, choices: type[E], default: E | None = None) -> E:
    """One of an enumeration's values (case and surrounding spaces forgiven)."""
    if value is None and default is not None:
        return default
    allowed = [c.value for c in choices]
    if isinstance(value, str):
        try:
            return choices(value.strip().lower())
        except ValueError:
            pass
    raise ValidationError(field, f"must be one of {', '.join(allowed)}", allowed=allowed)


def _integer(value: object) -> int | None:
    """The integer ``value`` spells, if any: an int, an integral float (JSON's ``5.0``), or ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdecimal() and value.isascii():
        # Longer than any id: out of range, without asking int() to parse thousands of digits.
        return int(value) if len(value.lstrip("0")) <= _ID_DIGITS else MAX_ID + 1
    return None


def as_id(value: object) -> int | None:
    """The id ``value`` spells (as :func:`parse_positive_int` reads it), or ``None`` if it spells none."""
    number = _integer(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def parse_positive_int(field: str, value: object, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """An integer from ``minimum`` to ``maximum`` (an id by default).

    Decimal strings (query parameters) and integral JSON numbers (``5.0``) are
    accepted; anything out of range is a :class:`ValidationError` (422), never
    an overflow further down.
    """
    number = _integer(value)
    if number is None or not minimum <= number <= maximum:
        raise ValidationError(field, f"must be an integer between {minimum} and {maximum}")
    return number


def parse_path_id(field: str, value: object) -> int:
    """An id named in a URL path; a number out of range names nothing (404), anything else is 422."""
    number = _integer(value)
    if number is not None and number > MAX_ID:
        raise NotFound(f"no such {field}", details={"field": field})
    return parse_positive_int(field, value)


def parse_page(value: object, limits: Limits) -> int:
    """A 1-based page number within ``limits.page_max``."""
    return parse_positive_int("page", value, maximum=limits.page_max)


def parse_assignee_filter(value: object) -> int | str | None:
    """A listing's ``assigned_to`` filter: an admin id, :data:`UNASSIGNED`, or ``None`` (no filter)."""
    if value is None or value == "":
        return None
    if value == UNASSIGNED:
        return UNASSIGNED
    return parse_positive_int("assigned_to", value)


def parse_tag(value: object, field: str = "tag") -> str:
    """A tag as stored: the one rule every way in (API, CLI, panel, filters) goes through.

    Trimmed, case-folded and stripped of accents (``Reembolsó`` is
    ``reembolso``), with runs of spaces made one ``-``; what is left must be
    1–32 characters of ``a-z 0-9 - _`` (:data:`TAG_PATTERN`).
    """
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    letters = unicodedata.normalize("NFKD", value.strip().casefold())
    text = "-".join("".join(ch for ch in letters if not unicodedata.combining(ch)).split())
    if not _TAG.fullmatch(text):
        raise ValidationError(field, "must be 1-32 characters of a-z, 0-9, - and _ (after lower-casing)")
    return text


def parse_tags(value: object, field: str = "tags") -> tuple[str, ...]:
    """Tags as a ticket holds them: each :func:`parse_tag`, no repeats, sorted, at most :data:`MAX_TAGS`."""
    if not isinstance(value, list | tuple):
        raise ValidationError(field, "must be a list of tags")
    tags = tuple(sorted({parse_tag(item, field) for item in value}))
    if len(tags) > MAX_TAGS:
        raise ValidationError(field, f"a ticket carries at most {MAX_TAGS} tags, got {len(tags)}")
    return tags


def parse_file_url(value: object, limits: Limits) -> str:
    """An absolute ``http(s)`` URL, as image and file messages need."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("file_url", "an http(s) URL is required for image and file messages")
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host such as "http://["
        parts = urlsplit("")
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or len(url) > limits.file_url
        or any(ch.isspace() or ord(ch) < 32 for ch in url)
    ):
        raise ValidationError(
            "file_url", "must be an absolute URL with scheme http or https", allowed=["http", "https"]
        )
    return url


# Spec §3: every status may move to every other except out of ``closed``.
_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    status: frozenset(TicketStatus) - {status} for status in TicketStatus if status is not TicketStatus.CLOSED
}
_TRANSITIONS[TicketStatus.CLOSED] = frozenset()


def allowed_transitions(current: TicketStatus) -> frozenset[TicketStatus]:
    """The statuses a ticket in ``current`` may move to (itself excluded)."""
    return _TRANSITIONS[current]


def check_transition(current: TicketStatus, target: TicketStatus) -> None:
    """Raise unless the lifecycle allows ``current`` → ``target``.

    Setting the current status again is allowed (an idempotent success).
    """
    if target is current or target in _TRANSITIONS[current]:
        return
    if current is TicketStatus.CLOSED:
        raise TicketClosed("the ticket is closed and cannot change status", details={"status": current.value})
    raise InvalidTransition(
        f"cannot move a ticket from {current.value} to {target.value}",
        details={"from": current.value, "to": target.value},
    )


# -- satisfaction ratings (spec §12) -------------------------------------------------

#: The scores a rating may give.
RATING_SCORES = range(1, 6)
#: The statuses in which a ticket's owner may rate it.
_RATABLE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


def parse_score(value: object) -> int:
    """A rating's score, 1–5."""
    return parse_positive_int("score", value, minimum=RATING_SCORES[0], maximum=RATING_SCORES[-1])


def is_reopening(change: TicketChange) -> bool:
    """A reopening: a change of status away from ``resolved`` to anything but ``closed``.

    (A user's message, or an admin setting the ticket back to work.) It starts a
    new resolution cycle, for ratings and for reports.
    """
    return (
        change.field == "status"
        and change.old_value == TicketStatus.RESOLVED.value
        and change.new_value != TicketStatus.CLOSED.value
    )


def resolution_cycle(changes: Iterable[TicketChange]) -> int:
    """Which resolution cycle a ticket is in, from its change records: 1, plus one per reopening."""
    return 1 + sum(1 for change in changes if is_reopening(change))


def check_rating_open(status: TicketStatus, cycle: int, rated_cycles: Iterable[int]) -> None:
    """Raise :class:`RatingNotOpen` unless a ticket in ``status`` and ``cycle`` may be rated now.

    Only a resolved or closed ticket, and once per resolution cycle.
    """
    if status not in _RATABLE:
        raise RatingNotOpen(
            "only a resolved or closed ticket can be rated", details={"reason": "not_resolved", "status": status.value}
        )
    if cycle in set(rated_cycles):
        raise RatingNotOpen(
            "this resolution is rated already; a ticket is rated once per resolution",
            details={"reason": "already_rated", "cycle": cycle},
        )
