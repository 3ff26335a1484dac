"""The initial schema, or the adoption of the original system's two tables.

On an empty database this creates every table, index, statistics counter and
trigger. On a SQLite database that already holds the seed's
``support_tickets`` and ``support_messages`` (created by its exact
``CREATE TABLE`` statements), it rebuilds those two tables in place with the
new columns, constraints and indexes, keeping every row and id:

- ticket numbers stay as they are, whatever ``TKT-`` form they have;
- naive timestamps are taken as UTC and rewritten as
  ``YYYY-MM-DD HH:MM:SS.ffffff`` (offsets, if any, are converted to UTC);
- ``is_read`` becomes a strict 0/1, enumerations are trimmed and lower-cased,
  missing values get the seed's defaults;
- the per-ticket counters and the statistics counters are computed from the
  rows;
- the foreign key to the host's ``users`` table is not kept: the desk does
  not own users, and on a database without that table (the usual case for an
  embedded file) SQLite would refuse every new ticket;
- messages whose ticket no longer exists are kept in
  ``support_messages_orphaned``.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportchat.sqlschema import tables as schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SEED_TABLES = [schema.tickets, schema.messages]
_OWN_TABLES = [schema.changes, schema.events, schema.stats, schema.admins]

_ENUMERATIONS = {
    ("support_tickets", "priority"): schema.STATS_DIMENSIONS["priority"],
    ("support_tickets", "status"): schema.STATS_DIMENSIONS["status"],
    ("support_tickets", "category"): schema.STATS_DIMENSIONS["category"],
    ("support_messages", "sender_type"): ("user", "admin"),
    ("support_messages", "message_type"): ("text", "image", "file"),
}
_DEFAULTS = {"priority": "medium", "status": "open", "category": "general", "message_type": "text"}


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if inspector.has_table("support_tickets"):
        _adopt_seed_tables(bind)
    else:
        schema.metadata.create_all(bind, tables=_SEED_TABLES)
    schema.metadata.create_all(bind, tables=_OWN_TABLES)
    _count_statistics(bind)
    if bind.dialect.name == "sqlite":
        for statement in [*_SQLITE_TRIGGERS, *_SQLITE_EVENT_TRIGGERS]:
            bind.exec_driver_sql(statement)
    else:
        bind.exec_driver_sql(_POSTGRES_TRIGGER)
        bind.exec_driver_sql(_POSTGRES_EVENT_TRIGGERS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for function in ("support_tickets_stats", *_POSTGRES_EVENT_FUNCTIONS):
            op.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
    schema.metadata.drop_all(op.get_bind())


# -- adoption ------------------------------------------------------------------


def _legacy(value: str) -> str:
    """A normalised enumeration value: trimmed, lower case, the seed's default if missing."""
    column = value.rsplit(".", 1)[-1]
    return f"coalesce(nullif(lower(trim({value})), ''), '{_DEFAULTS[column]}')"


def _timestamp(*candidates: str) -> str:
    """The first parseable timestamp of ``candidates`` in the stored UTC form."""
    forms = [f"strftime('%Y-%m-%d %H:%M:%f', {c}) || '000'" for c in candidates]
    return f"coalesce({', '.join(forms)})" if len(forms) > 1 else forms[0]


def _adopt_seed_tables(bind: sa.Connection) -> None:
    if bind.dialect.name != "sqlite":
        raise RuntimeError(
            "support_tickets exists but was not created by supportchat's migrations; "
            "adopting the original tables is supported on SQLite only (see docs/storage.md)"
        )
    columns = {column["name"] for column in sa.inspect(bind).get_columns("support_tickets")}
    if "version" in columns:
        raise RuntimeError("support_tickets already has supportchat's columns but no migration record")
    _check_enumerations(bind)
    bind.exec_driver_sql("ALTER TABLE support_messages RENAME TO _legacy_support_messages")
    bind.exec_driver_sql("ALTER TABLE support_tickets RENAME TO _legacy_support_tickets")
    schema.metadata.create_all(bind, tables=_SEED_TABLES)
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
    bind.exec_driver_sql(
        f"""
        INSERT INTO support_tickets (id, ticket_number, user_id, subject, description, priority, status,
                                     category, assigned_to, created_at, updated_at, resolved_at)
        SELECT t.id, t.ticket_number, t.user_id, t.subject, t.description,
               {_legacy("t.priority")}, {_legacy("t.status")}, {_legacy("t.category")}, t.assigned_to,
               coalesce({_timestamp("t.created_at", "t.updated_at")}, {now}),
               coalesce({_timestamp("t.updated_at", "t.created_at")}, {now}),
               {_timestamp("t.resolved_at")}
        FROM _legacy_support_tickets AS t
        """
    )
    bind.exec_driver_sql(
        f"""
        INSERT INTO support_messages (id, ticket_id, sender_id, sender_type, message, message_type, file_url,
                                      is_read, created_at)
        SELECT m.id, m.ticket_id, m.sender_id, lower(trim(m.sender_type)), m.message,
               {_legacy("m.message_type")}, m.file_url,
               CASE WHEN lower(CAST(m.is_read AS TEXT)) IN ('1', 'true', 't', 'yes') THEN 1 ELSE 0 END,
               coalesce({_timestamp("m.created_at")}, {now})
        FROM _legacy_support_messages AS m
        WHERE m.ticket_id IN (SELECT id FROM support_tickets)
        """
    )
    orphans = bind.exec_driver_sql(
        "SELECT count(*) FROM _legacy_support_messages WHERE ticket_id NOT IN (SELECT id FROM support_tickets)"
    ).scalar_one()
    if orphans:
        bind.exec_driver_sql(
            "CREATE TABLE support_messages_orphaned AS SELECT * FROM _legacy_support_messages "
            "WHERE ticket_id NOT IN (SELECT id FROM support_tickets)"
        )
    bind.exec_driver_sql("DROP TABLE _legacy_support_messages")
    bind.exec_driver_sql("DROP TABLE _legacy_support_tickets")
    bind.exec_driver_sql(
        """
        UPDATE support_tickets SET
            message_count = (SELECT count(*) FROM support_messages AS m WHERE m.ticket_id = support_tickets.id),
            unread_from_user = (SELECT count(*) FROM support_messages AS m
                                WHERE m.ticket_id = support_tickets.id AND m.sender_type = 'user' AND m.is_read = 0),
            unread_from_admin = (SELECT count(*) FROM support_messages AS m
                                 WHERE m.ticket_id = support_tickets.id AND m.sender_type = 'admin' AND m.is_read = 0)
        """
    )


def _check_enumerations(bind: sa.Connection) -> None:
    """Refuse to adopt rows whose enumerations would be lost; say which values to fix."""
    problems = []
    for (table, column), allowed in _ENUMERATIONS.items():
        value = f"lower(trim({column}))" if column not in _DEFAULTS else _legacy(column)
        listed = ", ".join(f"'{choice}'" for choice in allowed)
        rows = bind.exec_driver_sql(f"SELECT DISTINCT {column} FROM {table} WHERE {value} NOT IN ({listed})").all()
        if rows:
            found = ", ".join(sorted(repr(row[0]) for row in rows))
            problems.append(f"{table}.{column} holds {found} (allowed: {listed})")
    if problems:
        raise RuntimeError("cannot adopt the existing tables: " + "; ".join(problems))


# -- statistics counters -------------------------------------------------------


def _count_statistics(bind: sa.Connection) -> None:
    """One counter row per enumerated value, counted from the rows present."""
    stats = schema.stats
    bind.execute(stats.delete())
    bind.execute(
        stats.insert(),
        [
            {"dimension": dimension, "value": value, "count": 0}
            for dimension, values in schema.STATS_DIMENSIONS.items()
            for value in values
        ],
    )
    for dimension in ("status", "priority", "category"):
        bind.exec_driver_sql(
            f"UPDATE support_stats SET count = (SELECT count(*) FROM support_tickets AS t "
            f"WHERE t.{dimension} = support_stats.value) WHERE dimension = '{dimension}'"
        )
    bind.exec_driver_sql(
        "UPDATE support_stats SET count = (SELECT coalesce(sum(unread_from_user), 0) FROM support_tickets) "
        "WHERE dimension = 'unread' AND value = 'user'"
    )


def _sqlite_moves(sign: str, row: str) -> str:
    return "\n".join(
        f"UPDATE support_stats SET count = count {sign} 1 WHERE dimension = '{d}' AND value = {row}.{d};"
        for d in ("status", "priority", "category")
    ) + (
        f"\nUPDATE support_stats SET count = count {sign} {row}.unread_from_user "
        f"WHERE dimension = 'unread' AND value = 'user' AND {row}.unread_from_user <> 0;"
    )


def _sqlite_change(dimension: str) -> str:
    return (
        f"UPDATE support_stats SET count = count + CASE WHEN value = NEW.{dimension} THEN 1 ELSE -1 END "
        f"WHERE dimension = '{dimension}' AND value IN (OLD.{dimension}, NEW.{dimension}) "
        f"AND OLD.{dimension} IS NOT NEW.{dimension};"
    )


_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER support_tickets_stats_insert AFTER INSERT ON support_tickets BEGIN
{_sqlite_moves("+", "NEW")}
END""",
    f"""CREATE TRIGGER support_tickets_stats_delete AFTER DELETE ON support_tickets BEGIN
{_sqlite_moves("-", "OLD")}
END""",
    f"""CREATE TRIGGER support_tickets_stats_update
AFTER UPDATE OF status, priority, category, unread_from_user ON support_tickets BEGIN
{_sqlite_change("status")}
{_sqlite_change("priority")}
{_sqlite_change("category")}
UPDATE support_stats SET count = count + NEW.unread_from_user - OLD.unread_from_user
WHERE dimension = 'unread' AND value = 'user' AND NEW.unread_from_user <> OLD.unread_from_user;
END""",
]

# The counter rows a ticket's insert, update or delete moves, with how much.
_POSTGRES_DELTAS = """
    SELECT c.dimension, c.value, sum(c.delta) AS delta
    FROM (
        SELECT 'status' AS dimension, NEW.status AS value, 1 AS delta WHERE TG_OP <> 'DELETE'
        UNION ALL SELECT 'priority', NEW.priority, 1 WHERE TG_OP <> 'DELETE'
        UNION ALL SELECT 'category', NEW.category, 1 WHERE TG_OP <> 'DELETE'
        UNION ALL SELECT 'unread', 'user', NEW.unread_from_user WHERE TG_OP <> 'DELETE'
        UNION ALL SELECT 'status', OLD.status, -1 WHERE TG_OP <> 'INSERT'
        UNION ALL SELECT 'priority', OLD.priority, -1 WHERE TG_OP <> 'INSERT'
        UNION ALL SELECT 'category', OLD.category, -1 WHERE TG_OP <> 'INSERT'
        UNION ALL SELECT 'unread', 'user', -OLD.unread_from_user WHERE TG_OP <> 'INSERT'
    ) AS c
    GROUP BY c.dimension, c.value
    HAVING sum(c.delta) <> 0
"""
# Counter rows are locked in one fixed order (by key) before they are
# changed, so two transactions moving the same counters cannot deadlock.
_POSTGRES_TRIGGER = f"""
CREATE OR REPLACE FUNCTION support_tickets_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM support_stats AS s JOIN ({_POSTGRES_DELTAS}) AS d
        ON s.dimension = d.dimension AND s.value = d.value
    ORDER BY s.dimension, s.value
    FOR UPDATE OF s;
    UPDATE support_stats AS s SET count = s.count + d.delta
    FROM ({_POSTGRES_DELTAS}) AS d
    WHERE s.dimension = d.dimension AND s.value = d.value;
    RETURN NULL;
END
$$;
CREATE TRIGGER support_tickets_stats
AFTER INSERT OR DELETE OR UPDATE OF status, priority, category, unread_from_user ON support_tickets
FOR EACH ROW EXECUTE FUNCTION support_tickets_stats();
"""


# -- the event log ---------------------------------------------------------------
#
# Exactly one entry per write, in the writing transaction, whoever writes: a
# new ticket logs ticket_created, a new message message_created, and a change
# of the ticket's version that is not a message's (message_count unchanged)
# ticket_updated. Marking messages read changes no version and logs nothing.

_EVENT_COLUMNS = "INSERT INTO support_events (type, ticket_id, user_id, message_id, created_at)"
_TICKET_CREATED = f"{_EVENT_COLUMNS} VALUES ('ticket_created', NEW.id, NEW.user_id, NULL, NEW.created_at);"
_TICKET_UPDATED = f"{_EVENT_COLUMNS} VALUES ('ticket_updated', NEW.id, NEW.user_id, NULL, NEW.updated_at);"
_MESSAGE_CREATED = (
    f"{_EVENT_COLUMNS} SELECT 'message_created', NEW.ticket_id, t.user_id, NEW.id, NEW.created_at "
    "FROM support_tickets AS t WHERE t.id = NEW.ticket_id;"
)
_TICKET_UPDATED_WHEN = "NEW.version <> OLD.version AND NEW.message_count = OLD.message_count"

_SQLITE_EVENT_TRIGGERS = [
    f"CREATE TRIGGER support_log_ticket_created AFTER INSERT ON support_tickets BEGIN {_TICKET_CREATED} END",
    f"CREATE TRIGGER support_log_ticket_updated AFTER UPDATE OF version ON support_tickets "
    f"WHEN {_TICKET_UPDATED_WHEN} BEGIN {_TICKET_UPDATED} END",
    f"CREATE TRIGGER support_log_message_created AFTER INSERT ON support_messages BEGIN {_MESSAGE_CREATED} END",
]

#: Function name: (timing and table, row condition, body).
_POSTGRES_EVENT_FUNCTIONS: dict[str, tuple[str, str, str]] = {
    "support_log_ticket_created": ("AFTER INSERT ON support_tickets", "", _TICKET_CREATED),
    "support_log_ticket_updated": (
        "AFTER UPDATE OF version ON support_tickets",
        f"WHEN ({_TICKET_UPDATED_WHEN})",
        _TICKET_UPDATED,
    ),
    "support_log_message_created": ("AFTER INSERT ON support_messages", "", _MESSAGE_CREATED),
}
_POSTGRES_EVENT_TRIGGERS = "\n".join(
    f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {body}
    RETURN NULL;
END
$$;
CREATE TRIGGER {name} {timing} FOR EACH ROW {condition} EXECUTE FUNCTION {name}();
"""
    for name, (timing, condition, body) in _POSTGRES_EVENT_FUNCTIONS.items()
)
