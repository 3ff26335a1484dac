"""Input rules (spec §4) and the ticket lifecycle (spec §3).

Everything here is pure: functions of their arguments that either return the
clean value or raise :class:`~supportchat.errors.ValidationError` naming the
field. The desk calls them before anything reaches a store.
"""

from __future__ import annotations

import enum
import html
import re
import unicodedata
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import nh3

from .errors import InvalidTransition, TicketClosed, ValidationError
from .models import TicketStatus

__all__ = [
    "Limits",
    "allowed_transitions",
    "check_transition",
    "clean_text",
    "parse_choice",
    "parse_file_url",
    "parse_positive_int",
    "sanitize",
]

MAX_ID = 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Characters after which markup or an entity could start; text without them
#: needs no trip through the HTML cleaner.
_MARKUP_HINT = re.compile(r"[<&]")
_MAX_SANITIZE_PASSES = 16


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


def _sanitize_once(text: str) -> str:
    text = _CONTROL.sub("", text)
    if _MARKUP_HINT.search(text):
        # nh3 with no allowed tags drops every element (and script/style
        # bodies) and escapes the rest as HTML text; unescaping gives back
        # plain text, so "a < b > c" survives while "<b>x</b>" becomes "x".
        text = html.unescape(nh3.clean(text, tags=set(), attributes={}))
        text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text).strip()


def sanitize(text: str) -> str:
    """Plain text with no control characters, no markup, NFC, trimmed.

    Unescaping can reveal markup that was written as entities
    (``&lt;b&gt;``), so the pass is repeated until nothing changes: the
    result is a fixed point, which makes sanitising idempotent.
    """
    for _ in range(_MAX_SANITIZE_PASSES):
        cleaned = _sanitize_once(text)
        if cleaned == text:
            return cleaned
        text = cleaned
    # Unreachable for real input (each pass strips a layer); refuse rather
    # than store something that is not a fixed point.
    raise ValidationError("text", "could not be sanitised")


def clean_text(field: str, value: object, max_length: int) -> str:
    """Sanitise ``value`` and require 1..``max_length`` characters afterwards."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    text = sanitize(value)
    if not text:
        raise ValidationError(field, "must not be empty (after removing markup and whitespace)")
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
