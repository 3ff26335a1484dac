"""The automation store of a :class:`~supportchat.stores.sql.SQLStore` (SQLite and PostgreSQL), in its transactions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..errors import StorageError
from ..stores.sql import SQLStore
from . import schema
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

__all__ = ["SQLAutomationStore"]

_c = schema.canned.c
_a = schema.kb_articles.c
_b = schema.bot_sessions.c
_r = schema.rules.c
_f = schema.firings.c


def _now() -> datetime:
    return datetime.now(UTC)


def _canned(row: Any) -> CannedResponse:
    return CannedResponse(
        id=row.id,
        owner_id=None if row.owner_id == schema.SHARED_OWNER else row.owner_id,
        short_code=row.short_code,
        title=row.title,
        content=row.content,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _article(row: Any) -> KnowledgeArticle:
    return KnowledgeArticle(
        id=row.id,
        title=row.title,
        body=row.body,
        language=row.language,
        tags=tuple(json.loads(row.tags)),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _rule(row: Any) -> StoredRule:
    return StoredRule(
        id=row.id,
        version=row.version,
        enabled=bool(row.enabled),
        definition=json.loads(row.definition),
        updated_at=row.updated_at,
    )


def _firing(row: Any) -> FiringRecord:
    return FiringRecord(
        id=row.id,
        rule_id=row.rule_id,
        rule_version=row.rule_version,
        ticket_id=row.ticket_id,
        at=row.at,
        actions=json.loads(row.actions),
        dropped=json.loads(row.dropped),
        chain=json.loads(row.chain),
    )


def _session(row: Any) -> BotSession:
    return BotSession.model_validate(row._mapping)


class SQLAutomationStore:
    """:class:`~.base.AutomationStore` over the SQL store's database."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    # -- canned responses -----------------------------------------------------

    def list_canned(self, agent_id: int | None) -> list[CannedResponse]:
        owners = [schema.SHARED_OWNER] if agent_id is None else [schema.SHARED_OWNER, agent_id]
        query = sa.select(schema.canned).where(_c.owner_id.in_(owners)).order_by(_c.short_code, _c.owner_id)
        with self._store.transaction() as connection:
            return [_canned(row) for row in connection.execute(query)]

    def get_canned(self, canned_id: int) -> CannedResponse:
        with self._store.transaction() as connection:
            row = connection.execute(sa.select(schema.canned).where(_c.id == canned_id)).first()
        if row is None:
            raise AutomationRecordNotFound(f"no canned response {canned_id}")
        return _canned(row)

    def _code_free(self, connection: sa.Connection, owner: int, code: str, except_id: int | None) -> None:
        query = sa.select(_c.id).where(_c.owner_id == owner, _c.short_code == code)
        if except_id is not None:
            query = query.where(_c.id != except_id)
        if connection.execute(query).first() is not None:
            raise ShortCodeTaken(f"/{code} is taken", details={"short_code": code})

    def add_canned(self, canned: CannedResponseInput, *, owner_id: int | None) -> CannedResponse:
        owner = schema.SHARED_OWNER if owner_id is None else owner_id
        now = _now()
        try:
            with self._store.transaction(write=True) as connection:
                self._code_free(connection, owner, canned.short_code, None)
                row = connection.execute(
                    sa.insert(schema.canned)
                    .values(owner_id=owner, **canned.model_dump(), created_at=now, updated_at=now)
                    .returning(*schema.canned.c)
                ).one()
        except StorageError as error:  # the unique constraint, when two agents race
            raise ShortCodeTaken(f"/{canned.short_code} is taken", details={"short_code": canned.short_code}) from error
        return _canned(row)

    def replace_canned(self, canned_id: int, canned: CannedResponseInput) -> CannedResponse:
        with self._store.transaction(write=True) as connection:
            owner = connection.execute(sa.select(_c.owner_id).where(_c.id == canned_id)).scalar()
            if owner is None:
                raise AutomationRecordNotFound(f"no canned response {canned_id}")
            self._code_free(connection, owner, canned.short_code, canned_id)
            row = connection.execute(
                sa.update(schema.canned)
                .where(_c.id == canned_id)
                .values(**canned.model_dump(), updated_at=_now())
                .returning(*schema.canned.c)
            ).one()
        return _canned(row)

    def delete_canned(self, canned_id: int) -> None:
        with self._store.transaction(write=True) as connection:
            if connection.execute(sa.delete(schema.canned).where(_c.id == canned_id)).rowcount == 0:
                raise AutomationRecordNotFound(f"no canned response {canned_id}")

    # -- the knowledge base ---------------------------------------------------

    def list_articles(self, language: str | None = None) -> list[KnowledgeArticle]:
        query = sa.select(schema.kb_articles).order_by(_a.id)
        if language is not None:
            query = query.where(_a.language == language)
        with self._store.transaction() as connection:
            return [_article(row) for row in connection.execute(query)]

    def get_article(self, article_id: int) -> KnowledgeArticle:
        with self._store.transaction() as connection:
            row = connection.execute(sa.select(schema.kb_articles).where(_a.id == article_id)).first()
        if row is None:
            raise AutomationRecordNotFound(f"no article {article_id}")
        return _article(row)

    def _bump(self, connection: sa.Connection) -> None:
        moved = connection.execute(
            sa.update(schema.kb_state).where(schema.kb_state.c.id == 1).values(version=schema.kb_state.c.version + 1)
        ).rowcount
        if moved == 0:
            connection.execute(sa.insert(schema.kb_state).values(id=1, version=1))

    @staticmethod
    def _article_values(article: KnowledgeArticleInput) -> dict[str, Any]:
        return {**article.model_dump(exclude={"tags"}), "tags": json.dumps(list(article.tags))}

    def add_article(self, article: KnowledgeArticleInput) -> KnowledgeArticle:
        now = _now()
        with self._store.transaction(write=True) as connection:
            row = connection.execute(
                sa.insert(schema.kb_articles)
                .values(**self._article_values(article), created_at=now, updated_at=now)
                .returning(*schema.kb_articles.c)
            ).one()
            self._bump(connection)
        return _article(row)

    def replace_article(self, article_id: int, article: KnowledgeArticleInput) -> KnowledgeArticle:
        with self._store.transaction(write=True) as connection:
            row = connection.execute(
                sa.update(schema.kb_articles)
                .where(_a.id == article_id)
                .values(**self._article_values(article), updated_at=_now())
                .returning(*schema.kb_articles.c)
            ).first()
            if row is None:
                raise AutomationRecordNotFound(f"no article {article_id}")
            self._bump(connection)
        return _article(row)

    def delete_article(self, article_id: int) -> None:
        with self._store.transaction(write=True) as connection:
            if connection.execute(sa.delete(schema.kb_articles).where(_a.id == article_id)).rowcount == 0:
                raise AutomationRecordNotFound(f"no article {article_id}")
            self._bump(connection)

    def knowledge_version(self) -> tuple[int, int]:
        with self._store.transaction() as connection:
            version = connection.execute(sa.select(schema.kb_state.c.version)).scalar() or 0
            count = connection.execute(sa.select(sa.func.count()).select_from(schema.kb_articles)).scalar() or 0
        return int(version), int(count)

    # -- rules and what they did ----------------------------------------------

    def list_rules(self) -> list[StoredRule]:
        with self._store.transaction() as connection:
            return [_rule(row) for row in connection.execute(sa.select(schema.rules).order_by(_r.id))]

    def add_rule(self, definition: dict[str, object], *, enabled: bool) -> StoredRule:
        now = _now()
        with self._store.transaction(write=True) as connection:
            row = connection.execute(
                sa.insert(schema.rules)
                .values(version=1, enabled=enabled, definition="{}", updated_at=now)
                .returning(_r.id)
            ).one()
            stored = {**definition, "id": row.id, "version": 1, "enabled": enabled}
            connection.execute(sa.update(schema.rules).where(_r.id == row.id).values(definition=json.dumps(stored)))
        return StoredRule(id=row.id, version=1, enabled=enabled, definition=stored, updated_at=now)

    def replace_rule(self, rule_id: int, definition: dict[str, object], *, enabled: bool) -> StoredRule:
        now = _now()
        with self._store.transaction(write=True) as connection:
            version = connection.execute(sa.select(_r.version).where(_r.id == rule_id)).scalar()
            if version is None:
                raise AutomationRecordNotFound(f"no rule {rule_id}")
            stored = {**definition, "id": rule_id, "version": version + 1, "enabled": enabled}
            connection.execute(
                sa.update(schema.rules)
                .where(_r.id == rule_id)
                .values(version=version + 1, enabled=enabled, definition=json.dumps(stored), updated_at=now)
            )
        return StoredRule(id=rule_id, version=version + 1, enabled=enabled, definition=stored, updated_at=now)

    def delete_rule(self, rule_id: int) -> None:
        with self._store.transaction(write=True) as connection:
            if connection.execute(sa.delete(schema.rules).where(_r.id == rule_id)).rowcount == 0:
                raise AutomationRecordNotFound(f"no rule {rule_id}")

    def record_firings(self, firings: Sequence[FiringRecordInput]) -> None:
        if not firings:
            return
        rows = [
            {
                **{k: f[k] for k in ("rule_id", "rule_version", "ticket_id", "at")},
                **{k: json.dumps(f.get(k, [])) for k in ("actions", "dropped", "chain")},
            }
            for f in firings
        ]
        with self._store.transaction(write=True) as connection:
            connection.execute(sa.insert(schema.firings), rows)

    def list_firings(
        self, *, ticket_id: int | None = None, since: datetime | None = None, limit: int = 200
    ) -> list[FiringRecord]:
        query = sa.select(schema.firings).order_by(_f.id).limit(limit)
        if ticket_id is not None:
            query = query.where(_f.ticket_id == ticket_id)
        if since is not None:
            query = query.where(_f.at >= since)
        with self._store.transaction() as connection:
            return [_firing(row) for row in connection.execute(query)]

    # -- the bot's memory -----------------------------------------------------

    def bot_session(self, ticket_id: int) -> BotSession | None:
        return self.bot_sessions([ticket_id]).get(ticket_id)

    def bot_sessions(self, ticket_ids: Sequence[int]) -> dict[int, BotSession]:
        if not ticket_ids:
            return {}
        with self._store.transaction() as connection:
            rows = connection.execute(sa.select(schema.bot_sessions).where(_b.ticket_id.in_(list(ticket_ids))))
            return {row.ticket_id: _session(row) for row in rows}

    def list_bot_sessions(self, status: BotStatus | None = None, *, limit: int = 100) -> list[BotSession]:
        query = sa.select(schema.bot_sessions).order_by(_b.updated_at.desc(), _b.ticket_id.desc()).limit(limit)
        if status is not None:
            query = query.where(_b.status == status.value)
        with self._store.transaction() as connection:
            return [_session(row) for row in connection.execute(query)]

    def save_bot_session(self, session: BotSession) -> None:
        values = session.model_dump()
        values["status"] = session.status.value
        with self._store.transaction(write=True) as connection:
            moved = connection.execute(
                sa.update(schema.bot_sessions).where(_b.ticket_id == session.ticket_id).values(**values)
            ).rowcount
            if moved == 0:
                connection.execute(sa.insert(schema.bot_sessions).values(**values))
