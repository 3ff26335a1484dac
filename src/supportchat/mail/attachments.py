"""The seam to attachments (spec §14, tracker issue 15, built in parallel in ``supportchat.attachments``).

The intake hands every attachment and inline image of an imported mail to
:func:`hand_over_attachments`, once, after the ticket or reply is written.
Until the attachments capability lands this stores nothing: the parts stay
in the raw message the channel keeps (``support_mail_messages.raw``), from
which they can be stored later. The attachments package will replace the
body of this one function (checking types and sizes by its own rules).
"""

from __future__ import annotations

from collections.abc import Sequence

from .parse import MailPart

__all__ = ["hand_over_attachments"]


def hand_over_attachments(parts: Sequence[MailPart], *, ticket_id: int, message_id: int | None, mail_key: str) -> int:
    """Give ``parts`` of the mail ``mail_key`` to the attachments capability; how many it took (none yet)."""
    return 0
