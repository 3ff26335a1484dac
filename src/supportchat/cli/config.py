"""Where the CLI's database and secret are, and opening them.

Resolution order, the same for every command and for ``serve``:

* database: ``--database-url``, else ``SUPPORTCHAT_DATABASE_URL``, else
  Supabase as primary with the local SQLite file as fallback when
  ``SUPABASE_URL`` and ``SUPABASE_KEY`` are both set, else the embedded
  SQLite file (:func:`~supportchat.stores.sql.default_sqlite_path`);
* secret: ``SUPPORTCHAT_SECRET``, else the ``secret`` file beside the
  embedded database, which ``init`` and the first ``serve`` create.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..desk import SupportDesk
from ..store import Store
from .output import UserError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ..stores.admin_tokens import SQLAdminTokens
    from ..stores.sql import SQLStore

__all__ = [
    "DATABASE_URL_VARIABLE",
    "SECRET_VARIABLE",
    "Session",
    "connect",
    "data_dir",
    "open_database",
    "open_engine",
    "open_session",
    "read_secret",
    "resolve_database_url",
    "secret_path",
    "sql_url",
]

DATABASE_URL_VARIABLE = "SUPPORTCHAT_DATABASE_URL"
SECRET_VARIABLE = "SUPPORTCHAT_SECRET"
SUPABASE_URL_VARIABLE = "SUPABASE_URL"
SUPABASE_KEY_VARIABLE = "SUPABASE_KEY"


def data_dir() -> Path:
    """The folder of the embedded database, its secret and the fallback journal."""
    from ..stores.sql import default_sqlite_path

    return default_sqlite_path().parent


def secret_path() -> Path:
    return data_dir() / "secret"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


#: ``--database-url`` given before the command (``supportchat --database-url URL tickets list``);
#: the root callback sets it on every invocation.
ROOT_DATABASE_URL: ContextVar[str | None] = ContextVar("supportchat_root_database_url", default=None)


def _root_option() -> str | None:
    return ROOT_DATABASE_URL.get()


def resolve_database_url(option: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The SQLAlchemy URL of the SQL database to use (the embedded file by default).

    The command's ``--database-url`` wins over the one given before the command, which wins
    over ``SUPPORTCHAT_DATABASE_URL``.
    """
    from ..stores.sql import default_sqlite_path

    url = option or _root_option() or environ.get(DATABASE_URL_VARIABLE)
    if url:
        return url
    return sqlite_url(default_sqlite_path())


def uses_supabase(option: str | None, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether Supabase is the primary store (both variables set, no explicit SQL URL)."""
    explicit = option or _root_option() or environ.get(DATABASE_URL_VARIABLE)
    return not explicit and bool(environ.get(SUPABASE_URL_VARIABLE)) and bool(environ.get(SUPABASE_KEY_VARIABLE))


def read_secret(*, create: bool = False, environ: Mapping[str, str] = os.environ) -> str | None:
    """The secret that signs user JWTs: the environment's, else the stored one (made if ``create``)."""
    value = environ.get(SECRET_VARIABLE)
    if value:
        return value
    path = secret_path()
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Readable by the owner only; O_EXCL so that two first starts cannot both write one.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def _describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


@dataclass
class Session:
    """What a command works on: the store, a desk over it, and the SQL engine of the admin tokens."""

    store: Store
    desk: SupportDesk
    engine: sa.Engine
    description: str

    @property
    def admin_tokens(self) -> SQLAdminTokens:
        from ..stores.admin_tokens import SQLAdminTokens

        return SQLAdminTokens(self.engine)

    def close(self) -> None:
        self.store.close()


def sql_url(database_url: str | None) -> str:
    """The SQL database a command works on: the resolved URL, or the local fallback file under Supabase."""
    if uses_supabase(database_url):
        return sqlite_url(data_dir() / "supportchat.db")
    return resolve_database_url(database_url)


def open_engine(url: str, *, migrate: bool = False, check: bool = True) -> sa.Engine:
    """A SQLAlchemy engine on ``url`` with user-facing errors (see :func:`open_database`)."""
    return open_database(url, migrate=migrate, check=check).engine


def open_database(url: str, *, migrate: bool = False, check: bool = True) -> SQLStore:
    """The SQL store on ``url``, opened by :func:`~supportchat.stores.open_store`, with user-facing errors.

    ``migrate`` brings the schema to the newest revision; otherwise ``check``
    refuses a database whose schema is not at it.
    """
    import sqlalchemy as sa

    from ..errors import StorageError
    from ..migrations import status
    from ..stores.open import open_sql_store
    from ..stores.sql import default_sqlite_path

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise UserError(f"not a database URL: {url!r} (expected sqlite:///file or postgresql+psycopg://…)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        if Path(parsed.database) == default_sqlite_path():
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        elif not Path(parsed.database).parent.exists():
            raise UserError(f"the folder of {parsed.database} does not exist")
    try:
        store = open_sql_store(parsed, migrate=migrate)
    except ModuleNotFoundError as exc:
        raise UserError(
            f"the database driver is not installed ({exc.name}): pip install 'supportchat[postgres]'"
        ) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    except StorageError as exc:
        reason = getattr(exc.__cause__, "orig", None) or exc
        raise UserError(f"cannot use the database {_describe_url(url)}: {reason}") from None
    try:
        if not migrate and check and not status(store.engine).up_to_date:
            store.close()
            raise UserError(
                f"the database {_describe_url(url)} is not initialised or out of date: run `supportchat db upgrade`"
            )
    except sa.exc.SQLAlchemyError as exc:
        store.close()
        reason = getattr(exc, "orig", None) or exc
        raise UserError(f"cannot use the database {_describe_url(url)}: {reason}") from None
    return store


def _supabase_store() -> tuple[Store, sa.Engine]:
    """Supabase as primary, the local SQLite file as fallback; and that file's engine (admin tokens)."""
    from ..stores.sql import SQLStore

    try:
        from ..stores.fallback import FallbackStore
    except ImportError as exc:
        raise UserError(f"Supabase storage is not available: {exc}; pip install 'supportchat[supabase]'") from None
    store = FallbackStore.for_supabase(
        os.environ[SUPABASE_URL_VARIABLE], os.environ[SUPABASE_KEY_VARIABLE], sqlite_path=data_dir() / "supportchat.db"
    )
    assert isinstance(store.fallback, SQLStore)
    return store, store.fallback.engine


@contextmanager
def open_session(database_url: str | None, *, migrate: bool = False) -> Iterator[Session]:
    """Open the configured store for one command and close it afterwards (see :func:`connect`)."""
    session = connect(database_url, migrate=migrate)
    try:
        yield session
    finally:
        session.close()


def connect(database_url: str | None, *, migrate: bool = False) -> Session:
    """Open the configured store; the caller closes the session.

    A SQLite database is created and migrated on first use (the embedded
    default must just work); a server database must have been upgraded with
    ``supportchat db upgrade`` unless ``migrate`` is set.
    """

    url = sql_url(database_url)
    store: Store
    if uses_supabase(database_url):
        store, engine = _supabase_store()
        description = f"Supabase {os.environ[SUPABASE_URL_VARIABLE]} (fallback {_describe_url(url)})"
    else:
        sql_store = open_database(url, migrate=migrate or url.startswith("sqlite"))
        store, engine = sql_store, sql_store.engine
        description = _describe_url(url)
    return Session(store=store, desk=SupportDesk(store), engine=engine, description=description)
