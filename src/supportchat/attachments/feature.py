"""Attachments as a :class:`~supportchat.features.Feature`: the routes of spec §14 and ``attachment_id`` on messages.

- ``POST /tickets/<ticket_id>/attachments`` (admins) and
  ``POST /user/<user_id>/tickets/<ticket_id>/attachments`` (the owner):
  a multipart upload, answered with the attachment JSON;
- ``GET /attachments/<attachment_id>``: the bytes, for a signed URL or an
  allowed caller;
- the two message routes accept ``attachment_id``, and every route that
  answers with messages adds ``attachment`` and a freshly signed
  ``file_url`` to the messages citing one (the feature's ``amend``);
- the ``attachments.expire`` job kind removes uploads nobody cited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..desk import SupportDesk
from ..errors import ValidationError
from ..features import Feature
from ..http.envelope import DataRenderer, Renderer
from ..http.raw import RawRequest
from ..http.routes import Audience, Param, Params, Route, Write, id_schema, own_path_user
from ..jobs import Job, JobKind
from ..models import Actor, Message, MessageType, TicketThread
from ..permissions import Action
from ..projection import CustomerMessage, CustomerTicketThread
from ..rules import Limits
from ..store import Store
from .service import EXPIRE_KIND, Attachments
from .views import (
    AttachedMessage,
    AttachedThread,
    AttachmentView,
    CustomerAttachedMessage,
    CustomerAttachedThread,
)

__all__ = ["feature"]

_TICKET_ID = Param(
    "ticket_id", "path", {"type": "string", "minLength": 1, "maxLength": 64}, "The ticket's id or its number.", True
)
_USER_ID = Param("user_id", "path", id_schema(), "The caller's own user id.", True)
_ATTACHMENT_ID = Param("attachment_id", "path", id_schema(), "The attachment's id.", True)
_SIGNED = tuple(
    Param(name, "query", {"type": "string"}, description)
    for name, description in (
        ("expires", "Signed URLs: when it expires (Unix seconds)."),
        ("viewer", "Signed URLs: whom it was minted for."),
        ("sig", "Signed URLs: the signature."),
        ("variant", "`thumbnail` for an image's preview; the file otherwise."),
    )
)
_VIEW = DataRenderer(AttachmentView)


class _FileBytes(DataRenderer):
    """Documents the download route: the file's own bytes and type, not a JSON envelope (its handler streams them)."""

    def __init__(self) -> None:
        super().__init__(AttachmentView)
        self.content = {"*/*": {"schema": {"type": "string", "format": "binary"}}}


_BYTES = _FileBytes()


def _upload_body(limits: Limits) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "The file (spec §14's allow-list)."}
        },
        "required": ["file"],
    }


def _message_view(message: Message | CustomerMessage, found: dict[int, AttachmentView]) -> Any:
    attached = AttachedMessage if isinstance(message, Message) else CustomerAttachedMessage
    fields = {name: getattr(message, name) for name in type(message).model_fields}
    view = found.get(message.id)
    if view is not None:
        fields["file_url"] = view.url
    return attached.model_construct(**fields, attachment=view)


def _presenter(attachments: Attachments) -> Callable[[SupportDesk, Actor, Any], Any]:
    """Turns a handler's messages (one, a list, or a thread's) into ones that carry their attachments."""

    def present(desk: SupportDesk, actor: Actor, result: Any) -> Any:
        messages = result.messages if isinstance(result, TicketThread | CustomerTicketThread) else result
        listed = messages if isinstance(messages, list) else [messages]
        found = attachments.cited_by(desk.store, actor, {m.id: m.ticket_id for m in listed})
        views = [_message_view(m, found) for m in listed]
        if isinstance(result, TicketThread | CustomerTicketThread):
            thread = AttachedThread if isinstance(result, TicketThread) else CustomerAttachedThread
            fields = {name: getattr(result, name) for name in type(result).model_fields if name != "messages"}
            return thread.model_construct(**fields, messages=views)
        return views if isinstance(messages, list) else views[0]

    return present


def _reads(attachments: Attachments, render: Renderer) -> Callable[[Route], Route]:
    present = _presenter(attachments)

    def extend(route: Route) -> Route:
        inner = route.handler

        def handler(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
            return present(desk, actor, inner(desk, actor, path, query, body))

        return dataclasses.replace(route, handler=handler, render=render)

    return extend


def _with_attachment_id(schema: Callable[[Limits], dict[str, Any]]) -> Callable[[Limits], dict[str, Any]]:
    def body(limits: Limits) -> dict[str, Any]:
        document = schema(limits)
        document["properties"] = {
            **document["properties"],
            "attachment_id": {
                "anyOf": [id_schema(), {"type": "null"}],
                "description": "An upload of this ticket (`POST …/attachments`) this message cites; "
                "`message_type` is then `image` or `file` (default: the upload's kind) and `file_url` is not given.",
            },
        }
        if "if" in document:
            document["if"] = {**document["if"], "not": {"required": ["attachment_id"]}}
        return document

    return body


def _posts(attachments: Attachments, render: Renderer) -> Callable[[Route], Route]:
    present = _presenter(attachments)

    def extend(route: Route) -> Route:
        inner = route.handler

        def handler(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Any:
            if not isinstance(body, dict) or body.get("attachment_id") is None:
                return present(desk, actor, inner(desk, actor, path, query, body))
            ticket, client_id = path["ticket_id"], body.get("client_message_id")
            cited = attachments.citable(desk, actor, ticket, body["attachment_id"], client_id)
            if body.get("file_url") not in (None, ""):
                raise ValidationError("file_url", "give either `attachment_id` or `file_url`, not both")
            message_type = body.get("message_type") or cited.kind.value
            if message_type not in (MessageType.IMAGE.value, MessageType.FILE.value):
                raise ValidationError(
                    "message_type", "a message citing an upload is an image or a file", allowed=["image", "file"]
                )
            fields = {**body, "message_type": message_type, "file_url": attachments.stored_url(cited.id)}
            del fields["attachment_id"]
            message = inner(desk, actor, path, query, fields)
            attachments.cite(desk.store, cited.id, message.id)
            return present(desk, actor, message)

        assert route.body is not None
        return dataclasses.replace(route, handler=handler, render=render, body=_with_attachment_id(route.body))

    return extend


def _admin_upload(attachments: Attachments) -> Callable[..., AttachmentView]:
    def upload(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: RawRequest) -> AttachmentView:
        return attachments.upload(desk, actor, path["ticket_id"], body)

    return upload


def _user_upload(attachments: Attachments) -> Callable[..., AttachmentView]:
    def upload(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: RawRequest) -> AttachmentView:
        own_path_user(actor, path, Action.REPLY)
        return attachments.upload(desk, actor, path["ticket_id"], body)

    return upload


def _download(attachments: Attachments) -> Callable[..., Any]:
    def download(desk: SupportDesk, actor: Actor | None, path: Params, query: Params, body: RawRequest) -> Any:
        return attachments.serve(desk, actor, path["attachment_id"], query, body.headers)

    return download


def routes(attachments: Attachments) -> tuple[Route, ...]:
    upload = {
        "render": _VIEW,
        "body": _upload_body,
        "body_media_type": "multipart/form-data",
        "raw": True,
        "write": Write.MESSAGE,
        "errors": (404, 409, 413),
    }
    return (
        Route(
            "upload_admin_attachment",
            "POST",
            "/tickets/{ticket_id}/attachments",
            Audience.ADMIN,
            _admin_upload(attachments),
            summary="Upload a file to a ticket as an admin; cite it with `attachment_id` in a message",
            params=(_TICKET_ID,),
            **upload,  # type: ignore[arg-type]
        ),
        Route(
            "upload_user_attachment",
            "POST",
            "/user/{user_id}/tickets/{ticket_id}/attachments",
            Audience.USER,
            _user_upload(attachments),
            summary="Upload a file to one of the caller's tickets; cite it with `attachment_id` in a message",
            params=(_USER_ID, _TICKET_ID),
            **upload,  # type: ignore[arg-type]
        ),
        Route(
            "get_attachment",
            "GET",
            "/attachments/{attachment_id}",
            Audience.ANYONE,
            _download(attachments),
            _BYTES,
            "The attachment's bytes, for its ticket's owner or an admin: by a signed URL, or with credentials "
            "(`Range` supported)",
            params=(_ATTACHMENT_ID, *_SIGNED),
            errors=(404,),
            raw=True,
        ),
    )


def feature(attachments: Attachments, commands: Any = None) -> Feature:
    """The attachments feature over ``attachments`` (its blob store, signer and settings)."""

    def kinds(store: Store) -> list[JobKind]:
        def expire(job: Job) -> None:
            attachments.expire(store)

        return [JobKind(EXPIRE_KIND, expire)]

    admin_message = DataRenderer(AttachedMessage)
    user_message = DataRenderer(CustomerAttachedMessage)
    return Feature(
        "attachments",
        routes=routes(attachments),
        job_kinds=kinds,
        commands=commands,
        amend=_amendments(
            {
                "post_admin_message": _posts(attachments, admin_message),
                "post_user_message": _posts(attachments, user_message),
                "get_ticket": _reads(attachments, DataRenderer(AttachedThread)),
                "messages_after": _reads(attachments, DataRenderer(list[AttachedMessage])),
                "get_user_ticket": _reads(attachments, DataRenderer(CustomerAttachedThread)),
                "user_messages_after": _reads(attachments, DataRenderer(list[CustomerAttachedMessage])),
            }
        ),
    )


def _amendments(by_name: dict[str, Callable[[Route], Route]]) -> Callable[[Route], Route]:
    """The feature's ``amend``: the message routes, by name, get their attachments; the rest stay as they are."""

    def amend(route: Route) -> Route:
        change = by_name.get(route.name)
        return route if change is None else change(route)

    return amend
