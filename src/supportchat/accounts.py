"""Admin accounts and their bearer tokens: the one policy, and its in-memory registry.

This module is part of the core. The HTTP layer authenticates with an
:class:`AdminTokens` registry and the SQL stores keep one in
``support_admins`` (:class:`~supportchat.stores.admin_tokens.SQLAdminTokens`);
both take the account, the token format and the hashing from here, so
storage never imports HTTP. The policy every registry follows is written on
:class:`AdminTokens`, and ``tests/test_admin_tokens_contract.py`` runs it
over every implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = [
    "ADMIN_TOKEN_PREFIX",
    "AdminAccount",
    "AdminTokens",
    "InMemoryAdminTokens",
    "LastUseRecorder",
    "clean_admin_name",
    "hash_token",
    "new_admin_token",
]

logger = logging.getLogger("supportchat.accounts")

#: Admin tokens start with this, so they are told apart from JWTs at a glance (and in logs).
ADMIN_TOKEN_PREFIX = "sca_"
#: The longest admin name.
NAME_LIMIT = 100


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored (tokens are high-entropy, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_admin_token() -> str:
    """A fresh admin token: the prefix and 256 random bits."""
    return ADMIN_TOKEN_PREFIX + secrets.token_urlsafe(32)


def clean_admin_name(name: str) -> str:
    """``name`` stripped; raises :class:`ValueError` unless it is 1-100 printable characters."""
    name = name.strip()
    if not name or len(name) > NAME_LIMIT or not name.isprintable():
        raise ValueError(f"an admin name must be 1-{NAME_LIMIT} printable characters")
    return name


@dataclass(frozen=True, slots=True)
class AdminAccount:
    """An admin who may hold a token. The token itself is never stored."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class AdminTokens(Protocol):
    """A registry of admins and the hashes of their bearer tokens.

    The policy, the same for every implementation:

    * **Names** are stripped and must be 1-100 printable characters
      (:func:`clean_admin_name`). A name is an admin's identity: it is unique
      among all admins ever created, revoked ones included, and
      :meth:`create` refuses a name whose token is live (:class:`ValueError`).
    * **Re-issue after revoke**: :meth:`create` on a revoked name issues a new
      token under the *same* admin id (tickets assigned to that admin stay
      theirs), clears ``revoked_at`` and ``last_used_at`` and keeps
      ``created_at``. The revoked token stays invalid.
    * **Verification reads only**: :meth:`verify` never writes, so admins
      authenticate on a read-only database, or one whose writes fail. A
      token without the prefix, unknown or revoked gives ``None``.
    * **Last use** is recorded apart from verification, by
      :meth:`record_use`, which only ever moves ``last_used_at`` forward.
      The authenticator calls it through a :class:`LastUseRecorder`: batched,
      at most once a minute, off the request path, its failures logged and
      never a request's.
    """

    def create(self, name: str) -> tuple[AdminAccount, str]:
        """A new (or re-issued) admin and its token; the token is shown once and only its hash is kept."""
        ...

    def verify(self, token: str) -> AdminAccount | None:
        """The admin whose live token this is, or ``None``. Never writes."""
        ...

    def revoke(self, name: str) -> bool:
        """Revoke ``name``'s token; whether there was a live one."""
        ...

    def list(self) -> list[AdminAccount]:
        """Every admin, revoked ones included, oldest first."""
        ...

    def get(self, name_or_id: str | int) -> AdminAccount | None:
        """The admin with this name, or this id (an ``int`` or a string of digits)."""
        ...

    def record_use(self, uses: Mapping[int, datetime]) -> None:
        """Set ``last_used_at`` of each admin id to its time, unless it is already later."""
        ...

    def session_binding(self, admin_id: int) -> str | None:
        """What the admin's panel sessions are bound to; ``None`` if the admin has no live token.

        An opaque value that changes whenever the admin's token is revoked or
        re-issued, or :meth:`end_sessions` is called: a session issued under
        another value is no longer valid. Reads only.
        """
        ...

    def end_sessions(self, admin_id: int) -> None:
        """End every panel session the admin holds (signing out); the token stays valid."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class InMemoryAdminTokens:
    """:class:`AdminTokens` in dicts, for tests and embedded use; thread-safe."""

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        #: name -> (account, hash of its current token)
        self._by_name: dict[str, tuple[AdminAccount, str]] = {}
        #: hash of a live token -> name
        self._by_hash: dict[str, str] = {}
        #: admin id -> session generation (one more at each sign-out)
        self._generations: dict[int, int] = {}

    def create(self, name: str) -> tuple[AdminAccount, str]:
        name = clean_admin_name(name)
        token = new_admin_token()
        digest = hash_token(token)
        with self._lock:
            known = self._by_name.get(name)
            if known is None:
                admin = AdminAccount(id=len(self._by_name) + 1, name=name, created_at=self._clock())
            elif known[0].revoked_at is None:
                raise ValueError(f"an admin named {name!r} already exists")
            else:
                admin = replace(known[0], revoked_at=None, last_used_at=None)
            self._by_name[name] = (admin, digest)
            self._by_hash[digest] = name
        return admin, token

    def verify(self, token: str) -> AdminAccount | None:
        if not token.startswith(ADMIN_TOKEN_PREFIX):
            return None
        digest = hash_token(token)
        with self._lock:
            name = self._by_hash.get(digest)
            if name is None:
                return None
            admin, stored = self._by_name[name]
        if admin.revoked_at is not None or not hmac.compare_digest(stored, digest):
            return None
        return admin

    def revoke(self, name: str) -> bool:
        with self._lock:
            entry = self._by_name.get(name.strip())
            if entry is None or entry[0].revoked_at is not None:
                return False
            admin, digest = entry
            self._by_name[admin.name] = (replace(admin, revoked_at=self._clock()), digest)
            self._by_hash.pop(digest, None)
            return True

    def list(self) -> list[AdminAccount]:
        with self._lock:
            return sorted((admin for admin, _ in self._by_name.values()), key=lambda a: a.id)

    def get(self, name_or_id: str | int) -> AdminAccount | None:
        by_id = isinstance(name_or_id, int) or name_or_id.isdecimal()
        for admin in self.list():
            if (admin.id == int(name_or_id)) if by_id else (admin.name == str(name_or_id).strip()):
                return admin
        return None

    def record_use(self, uses: Mapping[int, datetime]) -> None:
        with self._lock:
            for name, (admin, digest) in list(self._by_name.items()):
                when = uses.get(admin.id)
                if when is not None and (admin.last_used_at is None or admin.last_used_at < when):
                    self._by_name[name] = (replace(admin, last_used_at=when), digest)

    def session_binding(self, admin_id: int) -> str | None:
        with self._lock:
            for admin, digest in self._by_name.values():
                if admin.id == admin_id and admin.revoked_at is None:
                    return f"{digest}:{self._generations.get(admin_id, 0)}"
        return None

    def end_sessions(self, admin_id: int) -> None:
        with self._lock:
            self._generations[admin_id] = self._generations.get(admin_id, 0) + 1


class LastUseRecorder:
    """Records when admins last authenticated, without making authentication write.

    :meth:`note` only remembers the time; at most once per ``interval`` the
    remembered uses go to :meth:`AdminTokens.record_use` in one batch, on a
    background thread (``background=False`` writes in the caller, for
    tests). A failed write is logged and kept for the next attempt, so a
    read-only or failing database costs a log line per interval, never a
    request.
    """

    def __init__(
        self,
        tokens: AdminTokens,
        *,
        interval: timedelta = timedelta(minutes=1),
        clock: Callable[[], datetime] = _utcnow,
        background: bool = True,
    ) -> None:
        self._tokens = tokens
        self._interval = interval
        self._clock = clock
        self._background = background
        self._lock = threading.Lock()
        self._pending: dict[int, datetime] = {}
        self._last_write: datetime | None = None
        self._writing = False

    def note(self, admin: AdminAccount) -> None:
        """Remember that ``admin`` authenticated now; write the batch if the interval is up."""
        now = self._clock()
        with self._lock:
            self._pending[admin.id] = now
            if self._writing or (self._last_write is not None and now - self._last_write < self._interval):
                return
            self._writing, self._last_write = True, now
        if self._background:
            threading.Thread(target=self._write, name="supportchat-admin-last-use", daemon=True).start()
        else:
            self._write()

    def flush(self) -> None:
        """Write what is pending now (at shutdown, or in tests)."""
        with self._lock:
            if self._writing:
                return
            self._writing = True
        self._write()

    def _write(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, {}
        try:
            if batch:
                self._tokens.record_use(batch)
        except Exception as error:
            logger.warning("could not record the admins' last use (will try again): %s", error)
            with self._lock:
                for admin_id, when in batch.items():
                    self._pending[admin_id] = max(when, self._pending.get(admin_id, when))
        finally:
            with self._lock:
                self._writing = False
