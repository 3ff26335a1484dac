"""Admin bearer tokens kept in the SQL database's ``support_admins`` table.

:class:`SQLAdminTokens` is the persistent
:class:`~supportchat.accounts.AdminTokens` registry the standalone server and
the CLI share: ``supportchat admin create NAME`` writes a row, the server
checks each request's token against it. Only the SHA-256 hash of a token is
stored; the token itself is shown once, when it is created. The policy
(names, re-issue, last use) is the protocol's, in :mod:`supportchat.accounts`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from ..accounts import ADMIN_TOKEN_PREFIX, AdminAccount, clean_admin_name, hash_token, new_admin_token
from ..sqlschema import tables as schema
from ..sqlschema.engine import WRITE, configure_sqlite
from ._sql_errors import translated

__all__ = ["SQLAdminTokens"]

_a = schema.admins.c
_USED_AT = sa.bindparam("p_when", type_=_a.last_used_at.type)
_RECORD_USE = (
    schema.admins.update()
    .where(_a.id == sa.bindparam("p_id"), sa.or_(_a.last_used_at.is_(None), _a.last_used_at < _USED_AT))
    .values(last_used_at=_USED_AT)
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _account(row: sa.RowMapping) -> AdminAccount:
    return AdminAccount(
        id=row["id"],
        name=row["name"],
        created_at=schema.parse_timestamp(row["created_at"]),
        last_used_at=None if row["last_used_at"] is None else schema.parse_timestamp(row["last_used_at"]),
        revoked_at=None if row["revoked_at"] is None else schema.parse_timestamp(row["revoked_at"]),
    )


class SQLAdminTokens:
    """The :class:`~supportchat.accounts.AdminTokens` registry on a SQL store's engine.

    The engine must be migrated (the table comes with the first revision).
    """

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], datetime] = _utcnow) -> None:
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE: True})
        self._clock = clock

    def create(self, name: str) -> tuple[AdminAccount, str]:
        """A new admin named ``name`` and its token (raises :class:`ValueError` if the name is live)."""
        name = clean_admin_name(name)
        token = new_admin_token()
        now = self._clock()
        with translated(), self._writer.begin() as connection:
            row = connection.execute(sa.select(schema.admins).where(_a.name == name)).first()
            if row is not None and row.revoked_at is None:
                raise ValueError(f"an admin named {name!r} already exists")
            if row is None:
                connection.execute(
                    schema.admins.insert().values(name=name, token_hash=hash_token(token), created_at=now)
                )
            else:
                connection.execute(
                    schema.admins.update()
                    .where(_a.id == row.id)
                    .values(token_hash=hash_token(token), revoked_at=None, last_used_at=None)
                )
            stored = connection.execute(sa.select(schema.admins).where(_a.name == name)).one()
        return _account(stored._mapping), token

    def verify(self, token: str) -> AdminAccount | None:
        """The admin whose live token this is, or ``None``; a read only (see the policy)."""
        if not token.startswith(ADMIN_TOKEN_PREFIX):
            return None
        digest = hash_token(token)
        with translated(), self._engine.connect() as connection:
            row = connection.execute(
                sa.select(schema.admins).where(_a.token_hash == digest, _a.revoked_at.is_(None))
            ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return _account(row._mapping)

    def record_use(self, uses: Mapping[int, datetime]) -> None:
        """Move each admin's ``last_used_at`` forward to its time (one transaction)."""
        if not uses:
            return
        with translated(), self._writer.begin() as connection:
            connection.execute(_RECORD_USE, [{"p_id": admin_id, "p_when": when} for admin_id, when in uses.items()])

    def revoke(self, name: str) -> bool:
        """Revoke ``name``'s token; whether there was a live one."""
        with translated(), self._writer.begin() as connection:
            result = connection.execute(
                schema.admins.update()
                .where(_a.name == name.strip(), _a.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )
        return bool(result.rowcount)

    def list(self) -> list[AdminAccount]:
        """Every admin, revoked ones included, oldest first."""
        with translated(), self._engine.connect() as connection:
            rows = connection.execute(sa.select(schema.admins).order_by(_a.id)).all()
        return [_account(row._mapping) for row in rows]

    def session_binding(self, admin_id: int) -> str | None:
        """The live token's hash and the session generation; ``None`` if the admin has no live token."""
        with translated(), self._engine.connect() as connection:
            row = connection.execute(
                sa.select(_a.token_hash, _a.session_generation).where(_a.id == admin_id, _a.revoked_at.is_(None))
            ).first()
        return None if row is None else f"{row.token_hash}:{row.session_generation}"

    def end_sessions(self, admin_id: int) -> None:
        """Add one to the admin's session generation, which ends the sessions issued before."""
        with translated(), self._writer.begin() as connection:
            connection.execute(
                schema.admins.update().where(_a.id == admin_id).values(session_generation=_a.session_generation + 1)
            )

    def get(self, name_or_id: str | int) -> AdminAccount | None:
        """The admin with this name, or this id (an ``int`` or a string of digits)."""
        if isinstance(name_or_id, int) or name_or_id.isdecimal():
            condition = _a.id == int(name_or_id)
        else:
            condition = _a.name == name_or_id.strip()
        with translated(), self._engine.connect() as connection:
            row = connection.execute(sa.select(schema.admins).where(condition)).first()
        return None if row is None else _account(row._mapping)
