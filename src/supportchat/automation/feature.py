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
from ..models import Actor, UTCDateTime
from ..permissions import Action, authorize
from ..rules import parse_choice, parse_path_id
from .bot import BOT_HANDOFF, Bot
from .records import BotSession, BotStatus, CannedResponse, FiringRecord, KnowledgeArticle, StoredRule
from .rule_runner import RuleRunner
from .service import Automation, parse_instant

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


def _list_rules(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[StoredRule]:
    return _automation(desk).list_rules(actor)


def _add_rule(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> StoredRule:
    return _automation(desk).add_rule(actor, body)


def _replace_rule(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> StoredRule:
    return _automation(desk).replace_rule(actor, parse_path_id("rule_id", path["rule_id"]), body)


def _delete_rule(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> Deleted:
    _automation(desk).delete_rule(actor, parse_path_id("rule_id", path["rule_id"]))
    return Deleted()


class DryRunFiring(BaseModel):
    rule_id: int
    rule_version: int
    ticket_id: int
    at: UTCDateTime
    actions: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    chain: list[int]


def _dry_run(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[DryRunFiring]:
    from .engine import Rule

    authorize(actor, Action.OVERSEE)
    fields = body if isinstance(body, dict) else {}
    since, until = parse_instant("from", fields.get("from")), parse_instant("to", fields.get("to"))
    stored = _automation(desk).list_rules(actor)
    wanted = fields.get("rule_ids")
    rules = [Rule.model_validate(s.definition) for s in stored if wanted is None or s.id in wanted]
    runner = RuleRunner(desk, agent_id=int(fields.get("agent_id") or 1))
    return [
        DryRunFiring(
            rule_id=f.rule_id,
            rule_version=f.rule_version,
            ticket_id=f.ticket_id,
            at=f.at,
            actions=[a.model_dump(mode="json") for a in f.actions],
            dropped=[a.model_dump(mode="json") for a in f.dropped],
            chain=list(f.chain),
        )
        for f in runner.dry_run(rules, since, until)
    ]


def _log(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> list[FiringRecord]:
    authorize(actor, Action.OVERSEE)
    ticket = query.get("ticket_id")
    return _automation(desk).store.list_firings(
        ticket_id=parse_path_id("ticket_id", ticket) if ticket else None, limit=500
    )


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
_RULE_ID = Param("rule_id", "path", id_schema(), "The rule's id.", required=True)
_RULE_BODY = {
    "type": "object",
    "description": "A rule (docs/automation.md): trigger, conditions, actions; a new version on every change.",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "enabled": {"type": "boolean"},
        "trigger": {"type": "object"},
        "conditions": {"type": "array", "items": {"type": "object"}},
        "actions": {"type": "array", "minItems": 1, "items": {"type": "object"}},
    },
    "required": ["name", "trigger", "actions"],
}
_DRY_RUN_BODY = {
    "type": "object",
    "properties": {
        "from": {"type": "string", "format": "date-time"},
        "to": {"type": "string", "format": "date-time"},
        "rule_ids": {"type": "array", "items": id_schema()},
        "agent_id": {**id_schema(), "description": "The agent the rules write as (their own changes are skipped)."},
    },
    "required": ["from", "to"],
}
_RULE = DataRenderer(StoredRule)
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
        "list_rules",
        "GET",
        "/automation/rules",
        Audience.ADMIN,
        _list_rules,
        DataRenderer(list[StoredRule]),
        "The automation rules at their current versions",
    ),
    Route(
        "add_rule",
        "POST",
        "/automation/rules",
        Audience.ADMIN,
        _add_rule,
        _RULE,
        "Add a rule (validated now)",
        body=lambda limits: _RULE_BODY,
        write=Write.CHANGE,
    ),
    Route(
        "replace_rule",
        "PUT",
        "/automation/rules/{rule_id}",
        Audience.ADMIN,
        _replace_rule,
        _RULE,
        "Replace a rule: its next version",
        params=(_RULE_ID,),
        body=lambda limits: _RULE_BODY,
        errors=(404,),
        write=Write.CHANGE,
    ),
    Route(
        "delete_rule",
        "DELETE",
        "/automation/rules/{rule_id}",
        Audience.ADMIN,
        _delete_rule,
        _DELETED,
        "Delete a rule",
        params=(_RULE_ID,),
        errors=(404,),
        write=Write.CHANGE,
    ),
    Route(
        "dry_run_rules",
        "POST",
        "/automation/rules/dry-run",
        Audience.ADMIN,
        _dry_run,
        DataRenderer(list[DryRunFiring]),
        "What the rules would have done between two instants (writes nothing)",
        body=lambda limits: _DRY_RUN_BODY,
    ),
    Route(
        "automation_log",
        "GET",
        "/automation/log",
        Audience.ADMIN,
        _log,
        DataRenderer(list[FiringRecord]),
        "Every automatic action, with the rule and version that took it",
        params=(Param("ticket_id", "query", id_schema(), "Only this ticket's."),),
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


def feature(desk_bot: Bot | None = None, rules: RuleRunner | None = None, commands: Any = None) -> Feature:
    """The automation feature: its routes, the job kinds of ``desk_bot`` and ``rules`` if given, and ``commands``."""
    kinds = [*([desk_bot.kind()] if desk_bot else []), *(rules.kinds() if rules else [])]
    return Feature(
        "automation",
        routes=ROUTES,
        job_kinds=(lambda store: kinds) if kinds else None,
        commands=commands,
        event_types=(BOT_HANDOFF,),
    )
