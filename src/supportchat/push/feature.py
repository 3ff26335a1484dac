"""Push as a :class:`~supportchat.features.Feature`: the device routes of spec §15 and the delivery record.

| who | route | |
|---|---|---|
| user | ``POST /user/{user_id}/devices`` | register (or refresh) a device: ``token``, ``platform``, ``locale``? |
| user | ``DELETE /user/{user_id}/devices/{token}`` | forget it |
| admin | ``POST /agents/me/devices``, ``DELETE /agents/me/devices/{token}`` | the same for the calling agent |
| admin | ``GET /tickets/{ticket_id}/push`` | the ticket's deliveries with every attempt |
| admin | ``GET /push/status`` | counts, and whether FCM takes our credentials |
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from ..desk import SupportDesk
from ..errors import NotFound, ValidationError
from ..extensions import extension
from ..features import Feature
from ..http.envelope import DataRenderer
from ..http.routes import Audience, Param, Params, Route, Write, own_path_user
from ..jobs import JobKind
from ..models import Actor
from ..permissions import Action, authorize
from ..store import Store
from .base import Attempt, Delivery, DeliveryStatus, Device, ErrorClass, NewDevice, OwnerKind, Platform, PushStore

__all__ = ["DeliveryRecord", "DeviceRecord", "PushStatus", "feature", "parse_device", "push_status"]

#: FCM registration tokens are URL-safe base64 with ``:`` (about 160 characters today); 4 KiB leaves room.
TOKEN_PATTERN = r"^[A-Za-z0-9_:.\-]{1,4096}$"
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,3}$"
_TOKEN = re.compile(TOKEN_PATTERN)
_LOCALE = re.compile(LOCALE_PATTERN)


def _time(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class DeviceRecord(BaseModel):
    """A registered device."""

    token: str
    platform: Platform
    locale: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime

    @classmethod
    def of(cls, device: Device) -> DeviceRecord:
        return cls(
            token=device.token,
            platform=device.platform,
            locale=device.locale,
            created_at=_time(device.created_at),
            last_seen_at=_time(device.last_seen_at),
        )


class Removed(BaseModel):
    removed: bool


class AttemptRecord(BaseModel):
    number: int
    at: dt.datetime
    status: DeliveryStatus = Field(description="The delivery's status after this attempt (`pending`: retried).")
    error_class: ErrorClass | None
    http_status: int | None
    detail: str | None
    retry_after: float | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptRecord:
        return cls(
            number=attempt.number,
            at=_time(attempt.at),
            status=attempt.status,
            error_class=attempt.error_class,
            http_status=attempt.http_status,
            detail=attempt.detail,
            retry_after=attempt.retry_after,
        )


class DeliveryRecord(BaseModel):
    """One push of one event to one device, and every request made for it."""

    id: int
    event_id: int
    event: str
    ticket_id: int
    message_id: int | None
    recipient_kind: OwnerKind
    recipient_id: int
    #: The token's last characters only: enough to tell devices apart, useless to send with.
    device: str
    status: DeliveryStatus
    error_class: ErrorClass | None
    attempts: list[AttemptRecord]
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, delivery: Delivery, attempts: Sequence[Attempt]) -> DeliveryRecord:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event=delivery.event.value,
            ticket_id=delivery.ticket_id,
            message_id=delivery.message_id,
            recipient_kind=delivery.recipient_kind,
            recipient_id=delivery.recipient_id,
            device=token_hint(delivery.token),
            status=delivery.status,
            error_class=delivery.error_class,
            attempts=[AttemptRecord.of(a) for a in attempts if a.delivery_id == delivery.id],
            created_at=_time(delivery.created_at),
            updated_at=_time(delivery.updated_at),
        )


class PushStatus(BaseModel):
    """How pushes are going: whether FCM is configured and takes our credentials, and the counts."""

    configured: bool
    #: The newest credentials failure, when no push was delivered after it: the one error to fix.
    auth_error: str | None
    auth_error_at: dt.datetime | None
    last_delivered_at: dt.datetime | None
    deliveries: dict[str, int]


def token_hint(token: str) -> str:
    return "…" + token[-8:]


def parse_device(body: Any, owner_kind: OwnerKind, owner_id: int) -> NewDevice:
    """The device a registration body describes (422 naming the field otherwise)."""
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    token, platform, locale = body.get("token"), body.get("platform"), body.get("locale")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise ValidationError("token", "must be an FCM registration token (1–4096 of A-Z a-z 0-9 _ : . -)")
    if platform not in {p.value for p in Platform}:
        raise ValidationError("platform", "must be one of the platforms", allowed=[p.value for p in Platform])
    if locale is not None and (not isinstance(locale, str) or not _LOCALE.match(locale)):
        raise ValidationError("locale", "must be a language tag such as es, en or es-MX")
    return NewDevice(token, owner_kind, owner_id, Platform(platform), locale)


def push_status(store: object, *, configured: bool) -> PushStatus:
    """The status ``GET /push/status`` and ``supportchat push status`` show."""
    devices: PushStore = extension(store, PushStore)  # type: ignore[type-abstract]
    auth = devices.last_attempt(error_class=ErrorClass.AUTH)
    delivered = devices.last_delivered()
    failing = auth is not None and (delivered is None or delivered.at < auth.at)
    return PushStatus(
        configured=configured,
        auth_error=auth.detail if failing and auth is not None else None,
        auth_error_at=_time(auth.at) if failing and auth is not None else None,
        last_delivered_at=None if delivered is None else _time(delivered.at),
        deliveries=devices.counts(),
    )


def _push_store(desk: SupportDesk) -> PushStore:
    return extension(desk.store, PushStore)  # type: ignore[type-abstract]


def _agent(actor: Actor) -> int:
    if actor.id is None:
        raise ValidationError("agent", "only an agent (an admin with an id) has devices")
    return actor.id


def _register(kind: OwnerKind, owner: Callable[[Actor, Params], int]) -> Any:
    def handler(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> DeviceRecord:
        device = parse_device(body, kind, owner(actor, path))
        return DeviceRecord.of(_push_store(desk).register(device))

    return handler


def _unregister(kind: OwnerKind, owner: Callable[[Actor, Params], int]) -> Any:
    def handler(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Removed:
        if not _push_store(desk).unregister(path["token"], kind, owner(actor, path)):
            raise NotFound("no such device")
        return Removed(removed=True)

    return handler


def _user(actor: Actor, path: Params) -> int:
    return own_path_user(actor, path, Action.DEVICES)


def _me(actor: Actor, path: Params) -> int:
    return _agent(actor)


def _ticket_deliveries(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[DeliveryRecord]:
    authorize(actor, Action.OVERSEE)
    ticket = desk.find_ticket(actor, path["ticket_id"])
    devices = _push_store(desk)
    deliveries = devices.deliveries(ticket_id=ticket.id, limit=200)
    attempts = devices.attempts([d.id for d in deliveries])
    return [DeliveryRecord.of(d, attempts) for d in deliveries]


def _device_body(limits: object) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "token": {"type": "string", "pattern": TOKEN_PATTERN, "description": "The FCM registration token."},
            "platform": {"type": "string", "enum": [p.value for p in Platform]},
            "locale": {
                "anyOf": [{"type": "string", "pattern": LOCALE_PATTERN}, {"type": "null"}],
                "description": "The app's language (es, en, es-MX…); else the contact's, else the desk's default.",
            },
        },
        "required": ["token", "platform"],
    }


_USER_ID = Param("user_id", "path", {"type": "integer", "minimum": 1}, "The caller's own user id.", required=True)
_TOKEN_PARAM = Param("token", "path", {"type": "string", "pattern": TOKEN_PATTERN}, "The FCM token.", required=True)
_TICKET = Param("ticket_id", "path", {"type": "string"}, "The ticket's id or number.", required=True)
_DEVICE = DataRenderer(DeviceRecord)
_REMOVED = DataRenderer(Removed)


def routes(status: Callable[[SupportDesk], PushStatus]) -> tuple[Route, ...]:
    """The push routes; ``status`` answers ``GET /push/status``."""

    def show_status(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> PushStatus:
        authorize(actor, Action.OVERSEE)
        return status(desk)

    return (
        Route(
            "register_user_device",
            "POST",
            "/user/{user_id}/devices",
            Audience.USER,
            _register(OwnerKind.USER, _user),
            _DEVICE,
            "Register the caller's device for push notifications (a token of another user moves here)",
            params=(_USER_ID,),
            body=_device_body,
            errors=(403, 422),
            write=Write.CHANGE,
        ),
        Route(
            "remove_user_device",
            "DELETE",
            "/user/{user_id}/devices/{token}",
            Audience.USER,
            _unregister(OwnerKind.USER, _user),
            _REMOVED,
            "Stop push notifications to one of the caller's devices",
            params=(_USER_ID, _TOKEN_PARAM),
            errors=(403, 404),
            write=Write.CHANGE,
        ),
        Route(
            "register_agent_device",
            "POST",
            "/agents/me/devices",
            Audience.ADMIN,
            _register(OwnerKind.AGENT, _me),
            _DEVICE,
            "Register the calling agent's device for push notifications",
            body=_device_body,
            errors=(422,),
            write=Write.CHANGE,
        ),
        Route(
            "remove_agent_device",
            "DELETE",
            "/agents/me/devices/{token}",
            Audience.ADMIN,
            _unregister(OwnerKind.AGENT, _me),
            _REMOVED,
            "Stop push notifications to one of the calling agent's devices",
            params=(_TOKEN_PARAM,),
            errors=(404,),
            write=Write.CHANGE,
        ),
        Route(
            "ticket_push_deliveries",
            "GET",
            "/tickets/{ticket_id}/push",
            Audience.ADMIN,
            _ticket_deliveries,
            DataRenderer(list[DeliveryRecord]),
            "The ticket's push deliveries, newest first, with every attempt",
            params=(_TICKET,),
            errors=(404,),
        ),
        Route(
            "push_status",
            "GET",
            "/push/status",
            Audience.ADMIN,
            show_status,
            DataRenderer(PushStatus),
            "Push notifications: configured, credentials accepted, deliveries by status",
        ),
    )


def feature(
    kinds: Callable[[Store], Sequence[JobKind]] | None = None, *, configured: bool | None = None, commands: Any = None
) -> Feature:
    """Push as a feature: its routes, the job kinds ``kinds`` makes (none: devices only), CLI ``commands``."""
    is_configured = kinds is not None if configured is None else configured
    table = routes(lambda desk: push_status(desk.store, configured=is_configured))
    return Feature("push", routes=table, job_kinds=kinds, commands=commands)
