"""Automation as the desk's callers use it: who may do what with canned responses and articles.

The rules, stated once, for the HTTP routes, the CLI and the panel:

- every admin reads and manages the shared responses and the knowledge base;
- a personal response is its owner's only: to anyone else it does not exist (404);
- a response expands for a ticket with that ticket's values (:func:`template_values`),
  and a value the ticket lacks is a clear error (:mod:`.templates`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticError

from ..desk import SupportDesk
from ..errors import ValidationError
from ..extensions import extension
from ..models import Actor, Ticket
from ..people import directories_of
from ..permissions import Action, authorize
from .base import AutomationRecordNotFound, AutomationStore
from .records import CannedResponse, CannedResponseInput, KnowledgeArticle, KnowledgeArticleInput, StoredRule
from .templates import check_template, render

__all__ = [
    "ACKNOWLEDGEMENT_RULE_NAME",
    "AcknowledgementView",
    "Automation",
    "parse_input",
    "parse_instant",
    "template_values",
]

#: The name of the rule the acknowledgement settings keep (a rule like any other: versioned, logged, capped).
ACKNOWLEDGEMENT_RULE_NAME = "Auto-acknowledgement"

M = TypeVar("M", bound=BaseModel)


class AcknowledgementView(BaseModel):
    """The auto-acknowledgement of new tickets: on or off, its calendar and canned responses, its rule."""

    enabled: bool = Field(description="Whether new tickets are acknowledged.")
    calendar: str | None = Field(default=None, description="The SLA calendar whose working hours choose the text.")
    inside: dict[str, int] = Field(default_factory=dict, description="Canned response id per language, in hours.")
    outside: dict[str, int] = Field(default_factory=dict, description="Canned response id per language, out of hours.")
    default_language: str = "es"
    rule_id: int | None = Field(default=None, description="The rule that carries it (its firings are in the log).")
    rule_version: int | None = None


def parse_input(model: type[M], body: object) -> M:
    """``body`` as ``model``; a missing or mistyped field is a :class:`ValidationError` naming it."""
    if not isinstance(body, Mapping):
        raise ValidationError("body", "must be a JSON object")
    try:
        return model.model_validate(dict(body))
    except PydanticError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise ValidationError(field, first["msg"]) from None


def parse_instant(field: str, value: object) -> datetime:
    """An ISO 8601 instant (``Z`` or an offset; none means UTC), or :class:`ValidationError` naming ``field``."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be an ISO 8601 instant")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(field, "must be an ISO 8601 instant") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def template_values(desk: SupportDesk, ticket: Ticket, agent_id: int | None) -> dict[str, str | None]:
    """What each template variable stands for on ``ticket``, answered by ``agent_id``."""
    directories = directories_of(desk)
    contact = directories.contacts.get_contact(ticket.user_id)
    agent = directories.agents.get_agent(agent_id) if agent_id is not None else None
    return {
        "ticket.number": ticket.ticket_number,
        "ticket.subject": ticket.subject,
        "ticket.status": ticket.status.value,
        "user.name": contact.display_name if contact else None,
        "user.email": contact.email if contact else None,
        "agent.name": agent.name if agent else None,
    }


class Automation:
    """Canned responses and articles of ``desk``, with the rules above."""

    def __init__(self, desk: SupportDesk) -> None:
        self.desk = desk
        self.store: AutomationStore = extension(desk.store, AutomationStore)  # type: ignore[type-abstract]

    def list_canned(self, actor: Actor) -> list[CannedResponse]:
        authorize(actor, Action.OVERSEE)
        return self.store.list_canned(actor.id)

    def _own(self, actor: Actor, canned_id: int) -> CannedResponse:
        authorize(actor, Action.OVERSEE)
        found = self.store.get_canned(canned_id)
        if found.owner_id is not None and found.owner_id != actor.id:
            raise AutomationRecordNotFound(f"no canned response {canned_id}")
        return found

    def add_canned(self, actor: Actor, body: object, *, personal: bool = False) -> CannedResponse:
        authorize(actor, Action.OVERSEE)
        return self.store.add_canned(parse_input(CannedResponseInput, body), owner_id=actor.id if personal else None)

    def replace_canned(self, actor: Actor, canned_id: int, body: object) -> CannedResponse:
        self._own(actor, canned_id)
        return self.store.replace_canned(canned_id, parse_input(CannedResponseInput, body))

    def delete_canned(self, actor: Actor, canned_id: int) -> None:
        self._own(actor, canned_id)
        self.store.delete_canned(canned_id)

    def expand(self, actor: Actor, canned_id: int, ticket_ref: object) -> str:
        """The response's text for a ticket, every variable filled (or :class:`ValidationError`)."""
        canned = self._own(actor, canned_id)
        ticket = self.desk.get_ticket(actor, ticket_ref, mark_read=False, limit=1)
        return render(check_template(canned.content), template_values(self.desk, ticket, actor.id))

    # -- rules --------------------------------------------------------------

    def _rule_definition(self, body: object) -> tuple[dict[str, object], bool]:
        from .engine import Rule
        from .rule_runner import check_references, check_supported

        if not isinstance(body, Mapping):
            raise ValidationError("body", "must be a JSON object")
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled", "must be true or false")
        # Checked as a whole rule (with a stand-in id) so every field's error names it.
        rule = parse_input(Rule, {**body, "id": 1, "version": 1, "enabled": enabled})
        check_supported(rule)
        check_references(self.desk, rule)
        return rule.model_dump(mode="json", exclude={"id", "version", "enabled"}), enabled

    def list_rules(self, actor: Actor) -> list[StoredRule]:
        authorize(actor, Action.OVERSEE)
        return self.store.list_rules()

    def add_rule(self, actor: Actor, body: object) -> StoredRule:
        authorize(actor, Action.OVERSEE)
        definition, enabled = self._rule_definition(body)
        return self.store.add_rule(definition, enabled=enabled)

    def replace_rule(self, actor: Actor, rule_id: int, body: object) -> StoredRule:
        authorize(actor, Action.OVERSEE)
        definition, enabled = self._rule_definition(body)
        return self.store.replace_rule(rule_id, definition, enabled=enabled)

    def delete_rule(self, actor: Actor, rule_id: int) -> None:
        authorize(actor, Action.OVERSEE)
        self.store.delete_rule(rule_id)

    # -- the auto-acknowledgement ------------------------------------------

    def _acknowledgement_rule(self) -> StoredRule | None:
        """The rule carrying the acknowledgement: the first whose actions acknowledge."""
        for stored in self.store.list_rules():
            actions = stored.definition.get("actions")
            if isinstance(actions, list) and any(
                isinstance(a, dict) and a.get("kind") == "acknowledge" for a in actions
            ):
                return stored
        return None

    def acknowledgement(self, actor: Actor) -> AcknowledgementView:
        authorize(actor, Action.OVERSEE)
        stored = self._acknowledgement_rule()
        if stored is None:
            return AcknowledgementView(enabled=False)
        actions = stored.definition["actions"]
        assert isinstance(actions, list)
        value = next(a["value"] for a in actions if a.get("kind") == "acknowledge")
        return AcknowledgementView(enabled=stored.enabled, rule_id=stored.id, rule_version=stored.version, **value)

    def set_acknowledgement(self, actor: Actor, body: object) -> AcknowledgementView:
        """Turn the acknowledgement on or off and choose its calendar and texts (a new version of its rule).

        ``body`` has ``enabled`` and, to change them, ``calendar``, ``inside``,
        ``outside`` (canned response ids by language) and ``default_language``;
        turning it off keeps the rest.
        """
        from .engine import Acknowledgement

        authorize(actor, Action.OVERSEE)
        if not isinstance(body, Mapping):
            raise ValidationError("body", "must be a JSON object")
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled", "must be true or false")
        current = self.acknowledgement(actor)
        given = {k: body[k] for k in ("calendar", "inside", "outside", "default_language") if k in body}
        if current.rule_id is None and not given:
            raise ValidationError("calendar", "the first setting needs calendar, inside and outside")
        kept = current.model_dump(include={"calendar", "inside", "outside", "default_language"})
        settings = parse_input(Acknowledgement, {**kept, **given} if current.rule_id is not None else given)
        rule = {
            "name": ACKNOWLEDGEMENT_RULE_NAME,
            "enabled": enabled,
            "trigger": {"kind": "event", "events": ["ticket_created"]},
            "actions": [{"kind": "acknowledge", "value": settings.model_dump(mode="json")}],
        }
        if current.rule_id is None:
            self.add_rule(actor, rule)
        else:
            self.replace_rule(actor, current.rule_id, rule)
        return self.acknowledgement(actor)

    def add_article(self, actor: Actor, body: object) -> KnowledgeArticle:
        authorize(actor, Action.OVERSEE)
        return self.store.add_article(parse_input(KnowledgeArticleInput, body))

    def replace_article(self, actor: Actor, article_id: int, body: object) -> KnowledgeArticle:
        authorize(actor, Action.OVERSEE)
        return self.store.replace_article(article_id, parse_input(KnowledgeArticleInput, body))

    def delete_article(self, actor: Actor, article_id: int) -> None:
        authorize(actor, Action.OVERSEE)
        self.store.delete_article(article_id)
