"""One exported ticket: the ticket, its conversation and its change records.

:class:`ThreadRecord` is a core model (:mod:`supportchat.models`), since the
stores' export and bulk-load capabilities exchange it; it is re-exported here.
"""

from __future__ import annotations

from ..models import NewTicket, ThreadRecord

__all__ = ["TICKET_COLUMNS", "ThreadRecord"]

#: Ticket columns an import copies as they are: text is sanitised again, ids are the import's choice.
TICKET_COLUMNS: set[str] = set(NewTicket.model_fields) - {"subject", "description", "id"}
