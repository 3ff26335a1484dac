"""A fresh PostgreSQL database laid out like a Supabase project, with the shipped SQL applied."""

from __future__ import annotations

import queue
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files

import psycopg
from psycopg import sql

from supportchat.sql import supabase_sql

SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/test"

#: Supabase's API roles. Roles belong to the whole server, so they are made once, under a
#: lock, by whichever test database comes first (parallel workers included).
ROLES_SQL = """
select pg_advisory_xact_lock(hashtext('supportchat-emulator-roles'));
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    elsif not (select rolbypassrls from pg_roles where rolname = 'service_role') then
        alter role service_role bypassrls;
    end if;
end
$$;
"""

#: The tables :meth:`EmulatedDatabase.reset` empties, children first.
SUPPORT_TABLES = (
    "support_events",
    "support_ticket_changes",
    "support_ticket_notes",
    "support_messages",
    "support_tickets",
)
#: Tables without an id that name a ticket: emptied before the tickets.
TICKET_KEYED_TABLES = ("support_ticket_tags",)
#: Tables keyed by ids the caller gives (no sequence to restart), emptied too.
KEYED_TABLES = ("support_agents", "support_contacts", "support_ratings")


@dataclass(frozen=True)
class Function:
    """What PostgREST's schema cache knows of a function: its arguments and result shape."""

    name: str
    arguments: tuple[tuple[str, str], ...]
    required: frozenset[str]
    returns_set: bool
    returns_row: bool


@dataclass
class Catalog:
    """Tables' column types and the functions of the ``public`` schema (a schema cache)."""

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    functions: dict[str, list[Function]] = field(default_factory=dict)


class EmulatedDatabase:
    """A database of its own on the test server, dropped by :meth:`drop`.

    It holds the Supabase prerequisites (roles, ``auth`` schema, default
    privileges, Realtime publication), then ``existing_sql`` if given (a
    project's tables before supportchat), then exactly the SQL supportchat
    ships. Connections are superuser connections; the emulator drops to the
    request's role inside each transaction, as PostgREST's authenticator does.
    """

    def __init__(self, server_dsn: str = SERVER_DSN, *, pool_size: int = 4, existing_sql: str | None = None) -> None:
        self.name = f"sc_supabase_{secrets.token_hex(6)}"
        self._server_dsn = server_dsn
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            with admin.transaction():
                admin.execute(ROLES_SQL.encode())
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(self.name)))
        self.dsn = psycopg.conninfo.make_conninfo(server_dsn, dbname=self.name)
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._pool_size = pool_size
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                bootstrap = files(__package__).joinpath("supabase_bootstrap.sql").read_text(encoding="utf-8")
                conn.execute(bootstrap.encode())
                if existing_sql is not None:
                    # What the project held before supportchat came (for adoption tests).
                    conn.execute(existing_sql.encode())
                conn.execute(supabase_sql().encode())
                self.catalog = load_catalog(conn)
        except BaseException:
            self.drop()
            raise

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection, returned to the pool unless it broke."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = psycopg.connect(self.dsn, options="-c TimeZone=UTC")
        try:
            yield conn
        finally:
            if conn.closed or conn.broken or self._idle.qsize() >= self._pool_size:
                conn.close()
            else:
                self._idle.put(conn)

    def reset(self) -> None:
        """Empty every supportchat table and restart its ids.

        DELETE rather than TRUNCATE: on the few rows a test leaves it is
        about fifty times faster, and the stateful test resets per example.
        """
        with self.connection() as conn, conn.transaction():
            for name in TICKET_KEYED_TABLES:
                conn.execute(sql.SQL("delete from {}").format(sql.Identifier("public", name)))
            for name in SUPPORT_TABLES:
                conn.execute(sql.SQL("delete from {}").format(sql.Identifier("public", name)))
                conn.execute("select setval(pg_get_serial_sequence(%s, 'id'), 1, false)", [f"public.{name}"])
            for name in KEYED_TABLES:
                conn.execute(sql.SQL("delete from {}").format(sql.Identifier("public", name)))

    def drop(self) -> None:
        """Close the pool and drop the database."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
        with psycopg.connect(self._server_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.name)))


def load_catalog(conn: psycopg.Connection) -> Catalog:
    """Read the ``public`` schema's tables and functions, as PostgREST's schema cache does."""
    catalog = Catalog()
    rows = conn.execute(
        """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'v', 'p') and a.attnum > 0 and not a.attisdropped
        order by c.relname, a.attnum
        """
    ).fetchall()
    for table, column, type_name in rows:
        catalog.columns.setdefault(table, {})[column] = type_name
    functions = conn.execute(
        """
        select p.proname, coalesce(p.proargnames, '{}'),
               array(select format_type(t, null) from unnest(p.proargtypes) t),
               p.pronargdefaults, p.proretset, rt.typtype = 'c'
        from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        join pg_type rt on rt.oid = p.prorettype
        where n.nspname = 'public' and p.prokind = 'f'
        """
    ).fetchall()
    for name, arg_names, arg_types, n_defaults, returns_set, returns_row in functions:
        arguments = tuple(zip(arg_names[: len(arg_types)], arg_types, strict=True))
        required = frozenset(arg for arg, _ in arguments[: len(arguments) - n_defaults])
        catalog.functions.setdefault(name, []).append(
            Function(name, arguments, required, returns_set, bool(returns_row))
        )
    return catalog
