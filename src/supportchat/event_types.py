"""The event log's types: the core's, the ones features declare, and who may see each.

The event log (``support_events``) takes any *well-formed* type name
(:data:`EVENT_TYPE_PATTERN`, lowercase snake case; the database checks the
same format), so a feature adds an event type without a table rebuild. What
each type means, and who may receive it, is declared here:

- the core's types (:class:`~supportchat.models.EventType`) are declared by
  this module: ``ticket_created``, ``message_created`` and ``ticket_updated``
  reach the ticket's owner, ``note_created`` and ``tags_changed`` are staff's;
- a feature declares its types with :func:`declare_event_type` (the
  :class:`~supportchat.features.Feature` it builds lists them in
  ``event_types``), once per process, at import;
- :func:`owner_may_see` is **the one rule** of who may see an entry: a type
  reaches the ticket's owner only if it was declared for the owner
  (:attr:`Audience.OWNER`). Anything else, an undeclared type, a type a
  feature declared without an audience, a typo, is staff's. So a forgotten
  declaration or filter keeps internal data from users rather than leaking
  it. Every store's user read of the log, the customer projection, the user's
  stream, user-facing webhooks and the Supabase row-level security follow
  it (the Supabase SQL spells the core's owner types out: a feature type
  declared for the owner is left out there until it is added).

An owner-visible feature type still reaches the owner only through the
customer projection (:class:`~supportchat.projection.CustomerEvent`), which
carries the ticket and message as the owner sees them and never the entry's
``data``.
"""

from __future__ import annotations

import enum
import re
import threading
from dataclasses import dataclass

from .models import EventType

__all__ = [
    "EVENT_TYPE_MAX_LENGTH",
    "EVENT_TYPE_PATTERN",
    "Audience",
    "EventTypeSpec",
    "check_event_type",
    "declare_event_type",
    "declared_event_types",
    "event_type_spec",
    "owner_event_types",
    "owner_may_see",
]

#: The longest type name the log takes.
EVENT_TYPE_MAX_LENGTH = 48
#: Lowercase snake case: a letter, then letters, digits and underscores (also the database's check).
EVENT_TYPE_PATTERN = rf"^[a-z][a-z0-9_]{{0,{EVENT_TYPE_MAX_LENGTH - 1}}}$"
_WELL_FORMED = re.compile(EVENT_TYPE_PATTERN)


class Audience(enum.StrEnum):
    """Who may receive entries of a type besides staff (staff see every entry)."""

    #: Staff only: admins' streams and staff notifiers. The default.
    STAFF = "staff"
    #: Also the ticket's owner, through the customer projection.
    OWNER = "owner"


@dataclass(frozen=True, slots=True)
class EventTypeSpec:
    """An event type: its name, who may see it, who declared it and what it says."""

    name: str
    audience: Audience = Audience.STAFF
    #: The feature (or ``"core"``) that emits it.
    declared_by: str = "core"
    description: str = ""


def check_event_type(name: object) -> str:
    """``name`` if it is a well-formed type name; ``ValueError`` otherwise."""
    if not isinstance(name, str) or not _WELL_FORMED.match(name):
        raise ValueError(
            f"an event type is lowercase snake case of at most {EVENT_TYPE_MAX_LENGTH} characters: {name!r}"
        )
    return name


_lock = threading.Lock()
_CORE = (
    EventTypeSpec(EventType.TICKET_CREATED.value, Audience.OWNER, description="A ticket was opened."),
    EventTypeSpec(EventType.MESSAGE_CREATED.value, Audience.OWNER, description="A message was added to a ticket."),
    EventTypeSpec(
        EventType.TICKET_UPDATED.value, Audience.OWNER, description="A ticket's status, priority or assignee changed."
    ),
    EventTypeSpec(EventType.NOTE_CREATED.value, description="An internal note was added (spec §12)."),
    EventTypeSpec(EventType.TAGS_CHANGED.value, description="A ticket's tags changed (spec §12)."),
)
_declared: dict[str, EventTypeSpec] = {spec.name: spec for spec in _CORE}
_owner_types: frozenset[str] = frozenset(spec.name for spec in _CORE if spec.audience is Audience.OWNER)


def declare_event_type(
    name: str, *, declared_by: str, audience: Audience = Audience.STAFF, description: str = ""
) -> EventTypeSpec:
    """Declare a type a feature appends to the log; returns its spec.

    Declaring the same type again with the same audience and feature is a
    no-op (modules are imported again in tests); anything else about an
    existing name (a core type, another feature's) is a ``ValueError``.
    """
    global _owner_types
    spec = EventTypeSpec(check_event_type(name), Audience(audience), declared_by, description)
    with _lock:
        found = _declared.get(name)
        if found is not None:
            if (found.audience, found.declared_by) != (spec.audience, spec.declared_by):
                raise ValueError(f"event type {name!r} is declared already, by {found.declared_by}")
            return found
        _declared[name] = spec
        if spec.audience is Audience.OWNER:
            _owner_types = _owner_types | {name}
    return spec


def event_type_spec(name: str) -> EventTypeSpec | None:
    """The declaration of ``name``, or ``None`` if nothing in this process declared it."""
    return _declared.get(str(name))


def declared_event_types() -> list[EventTypeSpec]:
    """Every type declared in this process (the core's first), by name within each."""
    with _lock:
        specs = list(_declared.values())
    return sorted(specs, key=lambda spec: (spec.declared_by != "core", spec.name))


def owner_event_types() -> frozenset[str]:
    """The types a ticket's owner may receive: those declared for :attr:`Audience.OWNER`."""
    return _owner_types


def owner_may_see(event_type: str) -> bool:
    """Whether entries of ``event_type`` may reach the ticket's owner at all: the one audience rule of the log."""
    return str(event_type) in _owner_types
