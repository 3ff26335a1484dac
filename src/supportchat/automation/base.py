"""The automation store extension: canned responses, knowledge-base articles, the bot's memory per ticket.

:class:`AutomationStore` is implemented for the SQL store (SQLite and
PostgreSQL, tables of migration ``0015_automation``) and the in-memory store;
the fallback store keeps them in its local database (they are the desk's
configuration, which a Supabase outage must not take away). Reach it with
``extension(store, AutomationStore)``.

Every method is one transaction. Inputs arrive validated (:mod:`.records`);
the store enforces uniqueness (a short code once per owner: shared responses
have ``owner_id`` ``None``) and raises :class:`ShortCodeTaken` or
:class:`AutomationRecordNotFound`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..errors import Conflict, NotFound
from .records import (
    BotSession,
    BotStatus,
    CannedResponse,
    CannedResponseInput,
    FiringRecord,
    KnowledgeArticle,
    KnowledgeArticleInput,
    StoredRule,
)

__all__ = ["AutomationRecordNotFound", "AutomationStore", "FiringRecordInput", "ShortCodeTaken"]

#: A firing to record: ``rule_id``, ``rule_version``, ``ticket_id``, ``at``, ``actions``, ``dropped``, ``chain``.
FiringRecordInput = dict[str, Any]


class ShortCodeTaken(Conflict):
    """Another canned response of the same owner (or another shared one) has this short code."""

    code = "short_code_taken"


class AutomationRecordNotFound(NotFound):
    """No canned response or article has this id (or it is another agent's personal response)."""

    code = "not_found"


@runtime_checkable
class AutomationStore(Protocol):
    # -- canned responses -----------------------------------------------------

    def list_canned(self, agent_id: int | None) -> list[CannedResponse]:
        """The shared responses and ``agent_id``'s personal ones (only shared for ``None``), by short code."""
        ...

    def get_canned(self, canned_id: int) -> CannedResponse:
        """One response; :class:`AutomationRecordNotFound` if none has that id."""
        ...

    def add_canned(self, canned: CannedResponseInput, *, owner_id: int | None) -> CannedResponse:
        """Store a new response (personal to ``owner_id``, or shared); :class:`ShortCodeTaken` on a clash."""
        ...

    def replace_canned(self, canned_id: int, canned: CannedResponseInput) -> CannedResponse:
        """Replace a response's short code, title and content (its owner stays); errors as above."""
        ...

    def delete_canned(self, canned_id: int) -> None:
        """Remove a response; :class:`AutomationRecordNotFound` if none has that id."""
        ...

    # -- the knowledge base ---------------------------------------------------

    def list_articles(self, language: str | None = None) -> list[KnowledgeArticle]:
        """Every article (of ``language`` if given), by id."""
        ...

    def get_article(self, article_id: int) -> KnowledgeArticle: ...

    def add_article(self, article: KnowledgeArticleInput) -> KnowledgeArticle: ...

    def replace_article(self, article_id: int, article: KnowledgeArticleInput) -> KnowledgeArticle: ...

    def delete_article(self, article_id: int) -> None: ...

    def knowledge_version(self) -> tuple[int, int]:
        """Changes whenever an article is added, replaced or deleted (the bot's index is rebuilt then)."""
        ...

    # -- rules and what they did ----------------------------------------------

    def list_rules(self) -> list[StoredRule]:
        """Every rule at its current version, by id."""
        ...

    def add_rule(self, definition: dict[str, object], *, enabled: bool) -> StoredRule:
        """Store a new rule at version 1 (``definition`` gets its ``id`` and ``version``)."""
        ...

    def replace_rule(self, rule_id: int, definition: dict[str, object], *, enabled: bool) -> StoredRule:
        """The rule's next version; :class:`AutomationRecordNotFound` if none has that id."""
        ...

    def delete_rule(self, rule_id: int) -> None: ...

    def record_firings(self, firings: Sequence[FiringRecordInput]) -> None:
        """Append what rules did, in one transaction."""
        ...

    def list_firings(
        self, *, ticket_id: int | None = None, since: datetime | None = None, limit: int = 200
    ) -> list[FiringRecord]:
        """Recorded firings (of a ticket, since an instant), oldest first."""
        ...

    # -- the bot's memory -----------------------------------------------------

    def bot_session(self, ticket_id: int) -> BotSession | None:
        """What the bot remembers of a ticket, ``None`` if it never took it."""
        ...

    def save_bot_session(self, session: BotSession) -> None:
        """Insert or replace the ticket's bot session."""
        ...

    def bot_sessions(self, ticket_ids: Sequence[int]) -> dict[int, BotSession]:
        """The sessions of these tickets that exist."""
        ...

    def list_bot_sessions(self, status: BotStatus | None = None, *, limit: int = 100) -> list[BotSession]:
        """The most recently changed sessions (with ``status`` if given), newest first."""
        ...
