"""Who may do what: the one place the desk asks before touching a ticket."""

from __future__ import annotations

import enum

from .errors import Forbidden, TicketNotFound
from .models import Actor, ActorKind, Ticket

__all__ = ["Action", "authorize"]


class Action(enum.Enum):
    #: Open a ticket for ``user_id``.
    CREATE = "create"
    #: Read a ticket, its messages and newer messages.
    VIEW = "view"
    #: Post a message in a ticket.
    REPLY = "reply"
    #: Change status, assignment or priority; read the change record; auto-close.
    MANAGE = "manage"
    #: List every ticket and read the statistics.
    OVERSEE = "oversee"
    #: List ``user_id``'s own tickets.
    LIST_OWN = "list_own"
    #: Read and write a ticket's internal notes and tags (spec §12).
    ANNOTATE = "annotate"
    #: Register or remove ``user_id``'s own push devices.
    DEVICES = "devices"
    #: Rate a ticket's resolution (spec §12): its owner only, never staff.
    RATE = "rate"


_STAFF_ONLY = {Action.MANAGE, Action.OVERSEE, Action.ANNOTATE}


def authorize(actor: Actor, action: Action, *, ticket: Ticket | None = None, user_id: int | None = None) -> None:
    """Return if ``actor`` may do ``action``; raise otherwise.

    A user touching someone else's ticket gets :class:`TicketNotFound`, so that
    whether a ticket exists does not leak. A user acting as another user, or
    doing an admin's job, gets :class:`Forbidden`.
    """
    if actor.is_staff:
        if action is Action.RATE:
            raise Forbidden("only the ticket's owner rates it")
        if actor.kind is ActorKind.SYSTEM and action is Action.REPLY:
            raise Forbidden("the system actor cannot post messages; act as an admin")
        return
    if action in _STAFF_ONLY:
        raise Forbidden("only an admin may do this")
    if ticket is not None and ticket.user_id != actor.id:
        raise TicketNotFound("no such ticket")
    if user_id is not None and user_id != actor.id:
        raise Forbidden("a user may only act as themselves", details={"field": "user_id"})
