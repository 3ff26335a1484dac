"""A mail's attachments and inline images into its ticket, through the attachments capability (spec §14).

Each part of an imported mail becomes what an app's upload becomes: a
message of the sender's citing an attachment
(:meth:`~supportchat.attachments.Attachments.post_file`, which applies that
capability's rules on types, sizes, names and images), so the panel shows
its thumbnail and the user API its signed URL. Inline images (the ``cid:``
pictures of an HTML body) are parts like any other.

A part the rules refuse, one beyond ``MailSettings.max_attachments``, or
every part when the desk has no attachments capability, is listed in an
internal note on the ticket, for admins (the file stays in the raw mail the
channel keeps); the rest of the mail is imported as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..desk import SupportDesk
from ..errors import PayloadTooLarge, TicketClosed
from ..models import Actor, Message
from .parse import MailPart

if TYPE_CHECKING:
    from ..attachments import Attachments

__all__ = ["HandedOver", "hand_over_attachments"]

NOT_CONFIGURED = "the desk has no attachments capability configured"


@dataclass(frozen=True, slots=True)
class HandedOver:
    """What became of a mail's parts: the messages citing those stored, and those refused (name, why)."""

    posted: list[Message] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _name(part: MailPart) -> str:
    return part.filename or (f"<{part.content_id}>" if part.content_id else "") or f"({part.content_type})"


def hand_over_attachments(
    desk: SupportDesk,
    attachments: Attachments | None,
    parts: Sequence[MailPart],
    *,
    ticket_id: int,
    user_id: int,
    mail_key: str,
    client_id: str,
    limit: int,
) -> HandedOver:
    """Post ``parts`` of the mail ``mail_key`` to the ticket as ``user_id``'s messages; note the refused ones.

    Idempotent: the messages' ids derive from ``client_id``, and the note names the mail.
    """
    if not parts:
        return HandedOver()
    from ..attachments import InvalidFile

    result = HandedOver()
    sender = Actor.user(user_id)
    for index, part in enumerate(parts):
        if attachments is None:
            result.refused.append((_name(part), NOT_CONFIGURED))
            continue
        if index >= limit:
            result.refused.append((_name(part), f"a mail brings at most {limit} files"))
            continue
        try:
            message = attachments.post_file(
                desk,
                sender,
                ticket_id,
                part.data,
                filename=part.filename,
                declared_type=part.content_type,
                client_message_id=f"{client_id}.f{index}",
            )
        except (InvalidFile, PayloadTooLarge, TicketClosed) as exc:
            result.refused.append((_name(part), exc.message.removeprefix("file: ")))
            continue
        result.posted.append(message)
    if result.refused:
        _note_refused(desk, ticket_id, mail_key, result.refused)
    return result


def _note_refused(desk: SupportDesk, ticket_id: int, mail_key: str, refused: Sequence[tuple[str, str]]) -> None:
    """An internal note listing the files not imported (written once, even when the import is carried out again)."""
    heading = f"Files of the mail {mail_key[:300]} not imported (the raw mail keeps them):"
    system = Actor.system()
    if any(note.note.startswith(heading) for note in desk.list_notes(system, ticket_id)):
        return
    lines = [f"- {name[:200]}: {why[:300]}" for name, why in refused]
    desk.add_note(system, ticket_id, "\n".join([heading, *lines])[: desk.limits.body])
