"""The automation store of an :class:`~supportchat.stores.memory.InMemoryStore` (one lock, plain dicts)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from ..stores.memory import InMemoryStore
from .base import AutomationRecordNotFound, FiringRecordInput, ShortCodeTaken
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

__all__ = ["MemoryAutomationStore"]


class _Tables:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.canned: dict[int, CannedResponse] = {}
        self.articles: dict[int, KnowledgeArticle] = {}
        self.sessions: dict[int, BotSession] = {}
        self.ids = itertools.count(1)
        self.version = 0
        self.rules: dict[int, StoredRule] = {}
        self.firings: list[FiringRecord] = []


class MemoryAutomationStore:
    """:class:`~.base.AutomationStore` kept beside an in-memory store."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        # ``extension()`` makes one per store and keeps it, so the data lives as long as the store.
        self._t = _Tables()

    def list_canned(self, agent_id: int | None) -> list[CannedResponse]:
        with self._t.lock:
            found = [c for c in self._t.canned.values() if c.owner_id is None or c.owner_id == agent_id]
        return sorted(found, key=lambda c: (c.short_code, c.owner_id or 0))

    def get_canned(self, canned_id: int) -> CannedResponse:
        with self._t.lock:
            found = self._t.canned.get(canned_id)
        if found is None:
            raise AutomationRecordNotFound(f"no canned response {canned_id}")
        return found

    def _check_code(self, owner_id: int | None, code: str, except_id: int | None) -> None:
        for other in self._t.canned.values():
            if other.owner_id == owner_id and other.short_code == code and other.id != except_id:
                raise ShortCodeTaken(f"/{code} is taken", details={"short_code": code})

    def add_canned(self, canned: CannedResponseInput, *, owner_id: int | None) -> CannedResponse:
        now = datetime.now(UTC)
        with self._t.lock:
            self._check_code(owner_id, canned.short_code, None)
            stored = CannedResponse(
                id=next(self._t.ids), owner_id=owner_id, **canned.model_dump(), created_at=now, updated_at=now
            )
            self._t.canned[stored.id] = stored
        return stored

    def replace_canned(self, canned_id: int, canned: CannedResponseInput) -> CannedResponse:
        with self._t.lock:
            old = self._t.canned.get(canned_id)
            if old is None:
                raise AutomationRecordNotFound(f"no canned response {canned_id}")
            self._check_code(old.owner_id, canned.short_code, canned_id)
            stored = old.model_copy(update={**canned.model_dump(), "updated_at": datetime.now(UTC)})
            self._t.canned[canned_id] = stored
        return stored

    def delete_canned(self, canned_id: int) -> None:
        with self._t.lock:
            if self._t.canned.pop(canned_id, None) is None:
                raise AutomationRecordNotFound(f"no canned response {canned_id}")

    def list_articles(self, language: str | None = None) -> list[KnowledgeArticle]:
        with self._t.lock:
            return [a for _id, a in sorted(self._t.articles.items()) if language is None or a.language == language]

    def get_article(self, article_id: int) -> KnowledgeArticle:
        with self._t.lock:
            found = self._t.articles.get(article_id)
        if found is None:
            raise AutomationRecordNotFound(f"no article {article_id}")
        return found

    def add_article(self, article: KnowledgeArticleInput) -> KnowledgeArticle:
        now = datetime.now(UTC)
        with self._t.lock:
            stored = KnowledgeArticle(id=next(self._t.ids), **article.model_dump(), created_at=now, updated_at=now)
            self._t.articles[stored.id] = stored
            self._t.version += 1
        return stored

    def replace_article(self, article_id: int, article: KnowledgeArticleInput) -> KnowledgeArticle:
        with self._t.lock:
            old = self._t.articles.get(article_id)
            if old is None:
                raise AutomationRecordNotFound(f"no article {article_id}")
            stored = old.model_copy(update={**article.model_dump(), "updated_at": datetime.now(UTC)})
            self._t.articles[article_id] = stored
            self._t.version += 1
        return stored

    def delete_article(self, article_id: int) -> None:
        with self._t.lock:
            if self._t.articles.pop(article_id, None) is None:
                raise AutomationRecordNotFound(f"no article {article_id}")
            self._t.version += 1

    def knowledge_version(self) -> tuple[int, int]:
        with self._t.lock:
            return self._t.version, len(self._t.articles)

    def list_rules(self) -> list[StoredRule]:
        with self._t.lock:
            return [rule for _id, rule in sorted(self._t.rules.items())]

    def add_rule(self, definition: dict[str, object], *, enabled: bool) -> StoredRule:
        with self._t.lock:
            rule_id = next(self._t.ids)
            stored = StoredRule(
                id=rule_id,
                version=1,
                enabled=enabled,
                definition={**definition, "id": rule_id, "version": 1, "enabled": enabled},
                updated_at=datetime.now(UTC),
            )
            self._t.rules[rule_id] = stored
        return stored

    def replace_rule(self, rule_id: int, definition: dict[str, object], *, enabled: bool) -> StoredRule:
        with self._t.lock:
            old = self._t.rules.get(rule_id)
            if old is None:
                raise AutomationRecordNotFound(f"no rule {rule_id}")
            version = old.version + 1
            stored = StoredRule(
                id=rule_id,
                version=version,
                enabled=enabled,
                definition={**definition, "id": rule_id, "version": version, "enabled": enabled},
                updated_at=datetime.now(UTC),
            )
            self._t.rules[rule_id] = stored
        return stored

    def delete_rule(self, rule_id: int) -> None:
        with self._t.lock:
            if self._t.rules.pop(rule_id, None) is None:
                raise AutomationRecordNotFound(f"no rule {rule_id}")

    def record_firings(self, firings: Sequence[FiringRecordInput]) -> None:
        with self._t.lock:
            start = len(self._t.firings)
            self._t.firings.extend(FiringRecord(id=start + index + 1, **firing) for index, firing in enumerate(firings))

    def list_firings(
        self, *, ticket_id: int | None = None, since: datetime | None = None, limit: int = 200
    ) -> list[FiringRecord]:
        with self._t.lock:
            found = [
                f
                for f in self._t.firings
                if (ticket_id is None or f.ticket_id == ticket_id) and (since is None or f.at >= since)
            ]
        return found[:limit]

    def bot_session(self, ticket_id: int) -> BotSession | None:
        with self._t.lock:
            return self._t.sessions.get(ticket_id)

    def bot_sessions(self, ticket_ids: Sequence[int]) -> dict[int, BotSession]:
        with self._t.lock:
            return {i: self._t.sessions[i] for i in ticket_ids if i in self._t.sessions}

    def list_bot_sessions(self, status: BotStatus | None = None, *, limit: int = 100) -> list[BotSession]:
        with self._t.lock:
            found = [s for s in self._t.sessions.values() if status is None or s.status is status]
        return sorted(found, key=lambda s: (s.updated_at, s.ticket_id), reverse=True)[:limit]

    def save_bot_session(self, session: BotSession) -> None:
        with self._t.lock:
            self._t.sessions[session.ticket_id] = session
