"""Input rules (spec §4) and the ticket lifecycle (spec §3).

Everything here is pure: functions of their arguments that either return the
clean value or raise :class:`~supportchat.errors.ValidationError` naming the
field. The desk calls them before anything reaches a store.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from .errors import InvalidTransition, TicketClosed, ValidationError
from .markup import neutralise_markup
from .models import TicketStatus

__all__ = [
    "Limits",
    "allowed_transitions",
    "check_transition",
    "clean_text",
    "is_blank",
    "parse_choice",
    "parse_file_url",
    "parse_positive_int",
    "sanitize",
]

MAX_ID = 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
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
    """Length limits in characters, counted after sanitising, and page sizes."""

    subject: int = 200
    body: int = 10_000
    search: int = 200
    per_page_max: int = 100
    file_url: int = 2048
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


def parse_positive_int(field: str, value: object) -> int:
    """A positive integer id; decimal strings (query parameters) are accepted."""
    if isinstance(value, bool):
        raise ValidationError(field, "must be a positive integer")
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ValidationError(field, "must be a positive integer")
    return value


def parse_file_url(value: object, limits: Limits) -> str:
    """An absolute ``http(s)`` URL, as image and file messages need."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("file_url", "an http(s) URL is required for image and file messages")
    url = value.strip()
    parts = urlsplit(url)
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
