"""The email channel as a :class:`~supportchat.features.Feature`: the inbound route and the job kinds.

- ``POST {prefix}/inbound/email``: a raw RFC 822 message as the body
  (``Content-Type: message/rfc822``), for providers that post the mail they
  receive; authenticated by ``MailSettings.inbound_secret`` sent as the HTTP
  Basic password (any user name) or as a bearer token. Answers what became
  of the mail (the same answer for a duplicate, with ``duplicate: true``).
  The body is read up to ``MailSettings.max_bytes`` (413 above), whatever
  the adapter's limit for JSON bodies.
- ``GET`` / ``PUT {prefix}/user/{user_id}/mail-preferences``: a user opts in
  to admin replies on their app tickets by mail (``{"notify_replies": true}``).
- job kinds: ``notify.mail`` (outbound mail, when ``settings.smtp`` is set)
  and ``mail.imap`` (when ``settings.mailboxes`` has mailboxes).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ..desk import SupportDesk
from ..errors import PayloadTooLarge, ValidationError
from ..extensions import extension
from ..features import Feature
from ..http.envelope import DataRenderer
from ..http.raw import RawRequest
from ..http.routes import Audience, Param, Params, Route, Write, id_schema, own_path_user
from ..jobs import JobKind, JobStore
from ..models import Actor
from ..notify.worker import notification_kind
from ..permissions import Action
from ..store import Store
from .base import MailStore
from .imap import imap_poll_kind
from .intake import ImportResult, MailIntake
from .outbound import MailNotifier
from .settings import MailSettings

if TYPE_CHECKING:
    from ..attachments import Attachments

__all__ = ["PREFERENCE_ROUTES", "InboundResult", "MailPreferences", "feature", "intake_for", "mail_kinds"]

_intakes: weakref.WeakKeyDictionary[SupportDesk, MailIntake] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def intake_for(desk: SupportDesk, settings: MailSettings, attachments: Attachments | None = None) -> MailIntake:
    """The intake of ``desk`` under ``settings`` and ``attachments`` (one per desk and configuration)."""
    with _lock:
        found = _intakes.get(desk)
        if found is None or found.settings is not settings or found.attachments is not attachments:
            found = MailIntake(desk, settings, attachments=attachments)
            _intakes[desk] = found
        return found


class InboundResult(BaseModel):
    """What became of a posted mail."""

    outcome: str = Field(description="new_ticket, reply, follow_up, automatic, own or rejected.")
    duplicate: bool = Field(description="The mail had been imported before; nothing was done now.")
    ticket_id: int | None = Field(description="The ticket it opened or joined, if any.")
    reason: str | None = Field(description="Why it was dropped, or why it did not join the ticket it claimed.")

    @classmethod
    def of(cls, result: ImportResult) -> InboundResult:
        record = result.record
        return cls(
            outcome=record.outcome.value, duplicate=result.duplicate, ticket_id=record.ticket_id, reason=record.reason
        )


def _secret_of(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, credential = value.partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def _read_mail(request: RawRequest, limit: int) -> bytes:
    """The posted mail, at most ``limit`` bytes (one byte more is enough to know it is too large)."""
    too_large = PayloadTooLarge(f"the mail exceeds {limit} bytes", details={"limit": limit})
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks, size = [], 0
    while chunk := request.read(min(256 * 1024, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large
    return b"".join(chunks)


def inbound_route(settings: MailSettings, attachments: Attachments | None = None) -> Route:
    """``POST /inbound/email`` under ``settings`` (refuses everyone when it has no ``inbound_secret``)."""
    expected = (settings.inbound_secret or "").encode()

    def authenticate(headers: Mapping[str, str]) -> Actor | None:
        given = _secret_of(headers)
        if not expected or given is None or not hmac.compare_digest(given.encode(), expected):
            return None
        return Actor.system()

    def receive(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: RawRequest) -> InboundResult:
        raw = _read_mail(body, settings.max_bytes)
        return InboundResult.of(intake_for(desk, settings, attachments).import_mail(raw, mailbox="http"))

    return Route(
        "inbound_email",
        "POST",
        "/inbound/email",
        Audience.ADMIN,
        receive,
        DataRenderer(InboundResult),
        "Receive one raw RFC 822 mail from a provider (shared secret as the HTTP Basic password)",
        errors=(400, 413),
        # Not rate-limited like people's writes: the provider holds the secret and posts every mail it gets.
        raw_body="message/rfc822",
        raw=True,
        authenticate=authenticate,
    )


class MailPreferences(BaseModel):
    """What a user gets by mail."""

    notify_replies: bool = Field(description="Admin replies on the user's app tickets are mailed to them too.")


def _preferences(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> MailPreferences:
    user_id = own_path_user(actor, path, Action.LIST_OWN)
    records = extension(desk.store, MailStore)  # type: ignore[type-abstract]
    return MailPreferences(notify_replies=records.notify_replies(user_id))


def _set_preferences(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> MailPreferences:
    user_id = own_path_user(actor, path, Action.LIST_OWN)
    if not isinstance(body, dict) or not isinstance(body.get("notify_replies"), bool):
        raise ValidationError("notify_replies", "must be true or false")
    records = extension(desk.store, MailStore)  # type: ignore[type-abstract]
    records.set_notify_replies(user_id, body["notify_replies"])
    return MailPreferences(notify_replies=body["notify_replies"])


_USER = Param("user_id", "path", id_schema(), "The caller's own user id.", True)
_PREFERENCES_BODY = {
    "type": "object",
    "properties": {"notify_replies": {"type": "boolean"}},
    "required": ["notify_replies"],
    "additionalProperties": False,
}
PREFERENCE_ROUTES = (
    Route(
        "get_mail_preferences",
        "GET",
        "/user/{user_id}/mail-preferences",
        Audience.USER,
        _preferences,
        DataRenderer(MailPreferences),
        "Whether the caller gets admin replies on their app tickets by mail",
        params=(_USER,),
    ),
    Route(
        "set_mail_preferences",
        "PUT",
        "/user/{user_id}/mail-preferences",
        Audience.USER,
        _set_preferences,
        DataRenderer(MailPreferences),
        "Opt in to (or out of) admin replies by mail on the caller's app tickets",
        params=(_USER,),
        body=lambda limits: _PREFERENCES_BODY,
        write=Write.CHANGE,
    ),
)


def mail_kinds(
    desk: SupportDesk,
    settings: MailSettings,
    *,
    jobs: JobStore | None = None,
    attachments: Attachments | None = None,
) -> list[JobKind]:
    """The channel's job kinds over ``desk``: outbound mail (with SMTP) and IMAP polls (with mailboxes).

    With ``attachments``, imported mail's files are stored and admins' attachments are mailed.
    """
    kinds: list[JobKind] = []
    if settings.smtp is not None:
        notifier = MailNotifier(desk, settings, attachments=attachments)
        kinds.append(notification_kind(desk.store, notifier, max_attempts=settings.max_attempts))
    if settings.mailboxes:
        job_store = jobs if jobs is not None else extension(desk.store, JobStore)  # type: ignore[type-abstract]
        kinds.append(imap_poll_kind(intake_for(desk, settings, attachments), settings.mailboxes, job_store))
    return kinds


def feature(
    settings: MailSettings,
    *,
    desk: SupportDesk | None = None,
    attachments: Attachments | None = None,
    commands: Any = None,
) -> Feature:
    """The channel as a feature; its job kinds work on ``desk`` (or a desk over the runner's store).

    ``attachments`` (the attachments capability the desk serves) stores the files of imported mail.
    """

    def kinds(store: Store) -> list[JobKind]:
        on = desk if desk is not None and desk.store is store else SupportDesk(store)
        return mail_kinds(on, settings, attachments=attachments)

    routes = (inbound_route(settings, attachments), *PREFERENCE_ROUTES)
    return Feature("mail", routes=routes, job_kinds=kinds, commands=commands)
