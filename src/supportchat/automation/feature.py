"""Automation as a :class:`~supportchat.features.Feature`: its routes (spec §18), its job kind, its CLI group.

Routes (admins only):

- ``GET/POST /canned-responses``, ``PUT/DELETE /canned-responses/{canned_id}``;
  ``GET /tickets/{ticket_id}/canned-responses/{canned_id}``: the text expanded for that ticket;
- ``GET/POST /knowledge-base/articles``, ``PUT/DELETE /knowledge-base/articles/{article_id}``;
- ``GET /bot/sessions?status=``: what the bot did with tickets (``handed_off``: the people's queue).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..desk import SupportDesk
from ..features import Feature
from ..http.envelope import DataRenderer
from ..http.routes import Audience, Param, Params, Route, Write, id_schema
from ..models import Actor
from ..permissions import Action, authorize
from ..rules import parse_choice, parse_path_id
from .bot import Bot
from .records import BotSession, BotStatus, CannedResponse, KnowledgeArticle
from .service import Automation

__all__ = ["Expanded", "feature"]


class Expanded(BaseModel):
    """A canned response's text with every variable filled in for one ticket."""

    canned_id: int
    ticket_id: int
    content: str = Field(description="Ready to send (or to edit first) as the reply.")


class Deleted(BaseModel):
    deleted: bool = True


def _automation(desk: SupportDesk) -> Automation:
    return Automation(desk)


def _list_canned(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[CannedResponse]:
    return _automation(desk).list_canned(actor)


def _add_canned(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CannedResponse:
    personal = isinstance(body, dict) and body.get("personal") is True
    fields = {k: v for k, v in body.items() if k != "personal"} if isinstance(body, dict) else body
    return _automation(desk).add_canned(actor, fields, personal=personal)


def _replace_canned(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> CannedResponse:
    return _automation(desk).replace_canned(actor, parse_path_id("canned_id", path["canned_id"]), body)


def _delete_canned(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Deleted:
    _automation(desk).delete_canned(actor, parse_path_id("canned_id", path["canned_id"]))
    return Deleted()


def _expand(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Expanded:
    canned_id = parse_path_id("canned_id", path["canned_id"])
    ticket_id = parse_path_id("ticket_id", path["ticket_id"])
    return Expanded(
        canned_id=canned_id, ticket_id=ticket_id, content=_automation(desk).expand(actor, canned_id, ticket_id)
    )


def _list_articles(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[KnowledgeArticle]:
    authorize(actor, Action.OVERSEE)
    language = query.get("language") or None
    return _automation(desk).store.list_articles(language)


def _add_article(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> KnowledgeArticle:
    return _automation(desk).add_article(actor, body)


def _replace_article(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> KnowledgeArticle:
    return _automation(desk).replace_article(actor, parse_path_id("article_id", path["article_id"]), body)


def _delete_article(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Deleted:
    _automation(desk).delete_article(actor, parse_path_id("article_id", path["article_id"]))
    return Deleted()


def _bot_sessions(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[BotSession]:
    authorize(actor, Action.OVERSEE)
    given = query.get("status")
    status = parse_choice("status", given, BotStatus) if given else None
    return _automation(desk).store.list_bot_sessions(status, limit=200)


_CANNED_ID = Param("canned_id", "path", id_schema(), "The canned response's id.", required=True)
_ARTICLE_ID = Param("article_id", "path", id_schema(), "The article's id.", required=True)
_TICKET_ID = Param("ticket_id", "path", id_schema(), "The ticket's id.", required=True)
_CANNED_BODY = {
    "type": "object",
    "properties": {
        "short_code": {"type": "string", "pattern": "^/?[a-z0-9_-]{1,32}$"},
        "title": {"type": "string", "minLength": 1, "maxLength": 120},
        "content": {"type": "string", "minLength": 1, "maxLength": 5000},
        "personal": {"type": "boolean", "description": "Only the creating agent sees it (default: shared)."},
    },
    "required": ["short_code", "title", "content"],
}
_ARTICLE_BODY = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "body": {"type": "string", "minLength": 1, "maxLength": 10_000},
        "language": {"type": "string", "enum": ["es", "en"]},
        "tags": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 32}},
    },
    "required": ["title", "body", "language"],
}
_CANNED = DataRenderer(CannedResponse)
_ARTICLE = DataRenderer(KnowledgeArticle)
_DELETED = DataRenderer(Deleted)

ROUTES: tuple[Route, ...] = (
    Route(
        "list_canned_responses",
        "GET",
        "/canned-responses",
        Audience.ADMIN,
        _list_canned,
        DataRenderer(list[CannedResponse]),
        "The shared canned responses and the caller's personal ones",
    ),
    Route(
        "add_canned_response",
        "POST",
        "/canned-responses",
        Audience.ADMIN,
        _add_canned,
        _CANNED,
        "Save a canned response (variables are checked now)",
        body=lambda limits: _CANNED_BODY,
        errors=(409,),
        write=Write.CHANGE,
    ),
    Route(
        "replace_canned_response",
        "PUT",
        "/canned-responses/{canned_id}",
        Audience.ADMIN,
        _replace_canned,
        _CANNED,
        "Replace a canned response",
        params=(_CANNED_ID,),
        body=lambda limits: _CANNED_BODY,
        errors=(404, 409),
        write=Write.CHANGE,
    ),
    Route(
        "delete_canned_response",
        "DELETE",
        "/canned-responses/{canned_id}",
        Audience.ADMIN,
        _delete_canned,
        _DELETED,
        "Delete a canned response",
        params=(_CANNED_ID,),
        errors=(404,),
        write=Write.CHANGE,
    ),
    Route(
        "expand_canned_response",
        "GET",
        "/tickets/{ticket_id}/canned-responses/{canned_id}",
        Audience.ADMIN,
        _expand,
        DataRenderer(Expanded),
        "A canned response's text filled in for a ticket",
        params=(_TICKET_ID, _CANNED_ID),
        errors=(404,),
    ),
    Route(
        "list_articles",
        "GET",
        "/knowledge-base/articles",
        Audience.ADMIN,
        _list_articles,
        DataRenderer(list[KnowledgeArticle]),
        "The bot's knowledge base",
        params=(Param("language", "query", {"type": "string", "enum": ["", "es", "en"]}, "Only this language."),),
    ),
    Route(
        "add_article",
        "POST",
        "/knowledge-base/articles",
        Audience.ADMIN,
        _add_article,
        _ARTICLE,
        "Add an article to the knowledge base",
        body=lambda limits: _ARTICLE_BODY,
        write=Write.CHANGE,
    ),
    Route(
        "replace_article",
        "PUT",
        "/knowledge-base/articles/{article_id}",
        Audience.ADMIN,
        _replace_article,
        _ARTICLE,
        "Replace an article",
        params=(_ARTICLE_ID,),
        body=lambda limits: _ARTICLE_BODY,
        errors=(404,),
        write=Write.CHANGE,
    ),
    Route(
        "delete_article",
        "DELETE",
        "/knowledge-base/articles/{article_id}",
        Audience.ADMIN,
        _delete_article,
        _DELETED,
        "Remove an article",
        params=(_ARTICLE_ID,),
        errors=(404,),
        write=Write.CHANGE,
    ),
    Route(
        "bot_sessions",
        "GET",
        "/bot/sessions",
        Audience.ADMIN,
        _bot_sessions,
        DataRenderer(list[BotSession]),
        "What the bot did with the newest tickets it saw (status handed_off: the people's queue)",
        params=(
            Param(
                "status",
                "query",
                {"type": "string", "enum": ["", *[s.value for s in BotStatus]]},
                "Only sessions with this status.",
            ),
        ),
    ),
)


def feature(desk_bot: Bot | None = None, commands: Any = None) -> Feature:
    """The automation feature: its routes, the bot's job kind if ``desk_bot`` is given, and ``commands``."""
    kinds = (lambda store: [desk_bot.kind()]) if desk_bot is not None else None
    return Feature("automation", routes=ROUTES, job_kinds=kinds, commands=commands)
