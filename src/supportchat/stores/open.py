"""Opening a store from a URL: the one factory the CLI and host apps use.

:func:`open_store` is to supportchat what ``limits``' ``storage_from_string``
is to that library: one string names the storage. It is also where the
migrations run: a store's constructor never migrates, the factory does
(``migrate=True`` by default), so :mod:`supportchat.migrations` and the
stores do not import each other.

URLs:

* ``memory://``: an :class:`~supportchat.stores.InMemoryStore` (tests, demos);
* ``sqlite:///path/to/file.db``: the embedded default, a SQLite file;
* ``sqlite://``: an in-memory SQLite database (lives as long as the store);
* ``postgresql+psycopg://user:password@host/database``: PostgreSQL.

The caller closes the store (:meth:`~supportchat.store.Store.close`), which
disposes of the engine the factory created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..store import Store

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .sql import SQLStore

__all__ = ["MEMORY_URL", "open_sql_engine", "open_sql_store", "open_store"]

MEMORY_URL = "memory://"
_SQL_BACKENDS = ("sqlite", "postgresql")


def open_store(url: str, *, migrate: bool = True, **engine_options: Any) -> Store:
    """The store ``url`` names (see the module docstring), its schema migrated unless ``migrate=False``.

    ``engine_options`` go to :func:`~supportchat.sqlschema.engine.create_engine`
    for the SQL URLs. Raises :class:`ValueError` for a URL of no supported
    kind and :class:`~supportchat.errors.StorageError` (``StorageUnavailable``
    when the database cannot be reached) if migrating fails.
    """
    if url == MEMORY_URL:
        from .memory import InMemoryStore

        return InMemoryStore()
    return open_sql_store(url, migrate=migrate, **engine_options)


def open_sql_store(url: str | sa.URL, *, migrate: bool = True, **engine_options: Any) -> SQLStore:
    """A :class:`~supportchat.stores.SQLStore` on a new engine for ``url``, which it owns."""
    from .sql import SQLStore

    return SQLStore(open_sql_engine(url, migrate=migrate, **engine_options), owns_engine=True)


def open_sql_engine(url: str | sa.URL, *, migrate: bool = True, **engine_options: Any) -> sa.Engine:
    """An engine for ``url`` set up as the SQL store expects it, migrated to the newest revision if ``migrate``."""
    import sqlalchemy as sa

    from ..migrations import upgrade
    from ..sqlschema.engine import create_engine
    from ._sql_errors import translated

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(
            f"not a store URL: {str(url)!r} (expected memory://, sqlite:///file or postgresql+psycopg://…)"
        ) from None
    if parsed.get_backend_name() not in _SQL_BACKENDS:
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")
    engine = create_engine(parsed, **engine_options)
    if migrate:
        try:
            with translated():
                upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine
