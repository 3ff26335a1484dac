"""One exported ticket: the ticket, its conversation and its change records."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..models import Message, NewTicket, Ticket, TicketChange

__all__ = ["TICKET_COLUMNS", "ThreadRecord"]

#: Ticket columns an import copies as they are: text is sanitised again, ids are the import's choice.
TICKET_COLUMNS: set[str] = set(NewTicket.model_fields) - {"subject", "description", "id"}
#: Counted from the viewer's side, so meaningless in a file.
_VIEWER_FIELDS = {"ticket": {"unread_count"}}


class ThreadRecord(BaseModel):
    """A ticket with everything needed to rebuild it elsewhere, one line of an export.

    Counters (``message_count`` and the unread counts) are not trusted on
    import: the target store recomputes them from the messages.
    """

    model_config = ConfigDict(frozen=True)

    ticket: Ticket
    messages: list[Message]
    changes: list[TicketChange]

    def to_json(self) -> str:
        """The record as one line of JSON (no newline)."""
        return self.model_dump_json(exclude=_VIEWER_FIELDS)

    @classmethod
    def from_json(cls, line: str | bytes) -> ThreadRecord:
        """Parse one line; raises :class:`pydantic.ValidationError` on a malformed one."""
        return cls.model_validate_json(line)
