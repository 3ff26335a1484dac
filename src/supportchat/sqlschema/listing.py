"""Counters that give a listing's total without counting rows.

``support_stats`` holds one count per status, priority and category (migration
``0001``). These are more rows in it, kept by triggers in the writing
transaction, for the filters a desk lists by most: the assignee alone
(``assigned_to``, value the admin id, ``''`` for unassigned) and status with
each of category, priority and assignee (value ``"<status>|<other>"``). Rows
appear on first use (an upsert) and stay at 0 afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "INSERT_COUNTED",
    "PAIRS",
    "counter_key",
    "create_postgres",
    "create_sqlite",
    "create_sqlite_insert_counter",
    "create_tag_counters_postgres",
    "create_tag_counters_sqlite",
    "drop_postgres",
    "drop_sqlite",
    "drop_sqlite_insert_counter",
    "drop_tag_counters",
]

#: dimension -> the SQL expression of its value over a ticket row ``{row}``.
PAIRS: dict[str, str] = {
    "assigned_to": "coalesce(CAST({row}.assigned_to AS TEXT), '')",
    "status+category": "{row}.status || '|' || {row}.category",
    "status+priority": "{row}.status || '|' || {row}.priority",
    "status+assigned_to": "{row}.status || '|' || coalesce(CAST({row}.assigned_to AS TEXT), '')",
}
_COLUMNS = ("status", "category", "priority", "assigned_to")


def counter_key(dimension: str, *parts: object) -> tuple[str, str]:
    """The (dimension, value) row counting tickets with these values (``None``: unassigned)."""
    return dimension, "|".join("" if part is None else str(part) for part in parts)


def _move(*moves: tuple[str, int]) -> str:
    """One statement adding ``delta`` to the counters of each (row, delta), e.g. (``OLD``, -1).

    One upsert in (dimension, value) order: concurrent PostgreSQL writers
    lock the counter rows in the same order, so they cannot deadlock.
    """
    values = ", ".join(
        f"('{dimension}', {value.format(row=row)}, {delta})"
        for row, delta in moves
        for dimension, value in PAIRS.items()
    )
    return (
        "INSERT INTO support_stats (dimension, value, count) "
        f"SELECT column1, column2, sum(column3) FROM (VALUES {values}) AS moves WHERE true "
        "GROUP BY column1, column2 HAVING sum(column3) <> 0 ORDER BY column1, column2 "
        "ON CONFLICT (dimension, value) DO UPDATE SET count = support_stats.count + excluded.count;"
    )


#: SQLite, since ``0018_search_by_ticket``: the one trigger counting a new ticket, in place of
#: ``0001``'s statistics trigger (four ``UPDATE`` statements) and :func:`create_sqlite`'s
#: pairs trigger (an upsert through a grouped, sorted ``SELECT``): one upsert of
#: every counter a new ticket moves, the cheapest a ticket's insert can count.
INSERT_COUNTED = "support_tickets_counted_insert"


def create_sqlite_insert_counter(connection: sa.Connection) -> None:
    values = [f"('{d}', NEW.{d}, 1)" for d in ("status", "priority", "category")]
    values += [f"('{dimension}', {value.format(row='NEW')}, 1)" for dimension, value in PAIRS.items()]
    values.append("('unread', 'user', NEW.unread_from_user)")
    connection.exec_driver_sql(
        f"CREATE TRIGGER {INSERT_COUNTED} AFTER INSERT ON support_tickets BEGIN "
        f"INSERT INTO support_stats (dimension, value, count) VALUES {', '.join(values)} "
        "ON CONFLICT (dimension, value) DO UPDATE SET count = support_stats.count + excluded.count; END"
    )


def drop_sqlite_insert_counter(connection: sa.Connection) -> None:
    """Back to ``0001``'s and :func:`create_sqlite`'s insert triggers."""
    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {INSERT_COUNTED}")
    moves = "\n".join(
        f"UPDATE support_stats SET count = count + 1 WHERE dimension = '{d}' AND value = NEW.{d};"
        for d in ("status", "priority", "category")
    )
    connection.exec_driver_sql(
        f"CREATE TRIGGER support_tickets_stats_insert AFTER INSERT ON support_tickets BEGIN\n{moves}\n"
        "UPDATE support_stats SET count = count + NEW.unread_from_user "
        "WHERE dimension = 'unread' AND value = 'user' AND NEW.unread_from_user <> 0;\nEND"
    )
    connection.exec_driver_sql(_PAIRS_INSERT)


def _count_existing(connection: sa.Connection) -> None:
    """Count the rows already there (an adopted or long-lived database)."""
    for dimension, value in PAIRS.items():
        connection.exec_driver_sql(
            f"INSERT INTO support_stats (dimension, value, count) "
            f"SELECT '{dimension}', {value.format(row='t')}, count(*) FROM support_tickets AS t "
            f"GROUP BY {value.format(row='t')} "
            "ON CONFLICT (dimension, value) DO UPDATE SET count = excluded.count"
        )


_PAIRS_INSERT = (
    f"CREATE TRIGGER support_tickets_pairs_insert AFTER INSERT ON support_tickets BEGIN {_move(('NEW', 1))} END"
)


def create_sqlite(connection: sa.Connection) -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COLUMNS)
    for statement in (
        _PAIRS_INSERT,
        f"CREATE TRIGGER support_tickets_pairs_delete AFTER DELETE ON support_tickets BEGIN {_move(('OLD', -1))} END",
        f"CREATE TRIGGER support_tickets_pairs_update AFTER UPDATE OF {', '.join(_COLUMNS)} ON support_tickets "
        f"WHEN {changed} BEGIN {_move(('OLD', -1), ('NEW', 1))} END",
    ):
        connection.exec_driver_sql(statement)
    _count_existing(connection)


def drop_sqlite(connection: sa.Connection) -> None:
    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {INSERT_COUNTED}")
    for suffix in ("insert", "delete", "update"):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS support_tickets_pairs_{suffix}")
    _drop_rows(connection)


def create_postgres(connection: sa.Connection) -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _COLUMNS)
    connection.exec_driver_sql(
        f"""
        CREATE OR REPLACE FUNCTION support_tickets_pairs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_move(("NEW", 1))}
            ELSIF TG_OP = 'DELETE' THEN
                {_move(("OLD", -1))}
            ELSIF {changed} THEN
                {_move(("OLD", -1), ("NEW", 1))}
            END IF;
            RETURN NULL;
        END $$
        """
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER support_tickets_pairs AFTER INSERT OR DELETE OR UPDATE OF "
        f"{', '.join(_COLUMNS)} ON support_tickets FOR EACH ROW EXECUTE FUNCTION support_tickets_pairs()"
    )
    _count_existing(connection)


def drop_postgres(connection: sa.Connection) -> None:
    connection.exec_driver_sql("DROP TRIGGER IF EXISTS support_tickets_pairs ON support_tickets")
    connection.exec_driver_sql("DROP FUNCTION IF EXISTS support_tickets_pairs()")
    _drop_rows(connection)


def _drop_rows(connection: sa.Connection) -> None:
    names = ", ".join(f"'{d}'" for d in PAIRS)
    connection.exec_driver_sql(f"DELETE FROM support_stats WHERE dimension IN ({names})")


# -- tag counters (0008_notes_tags) ------------------------------------------------
#
# One ``support_stats`` row per tag (dimension ``tag``) and per tag and status
# (``tag+status``, value ``"<tag>|<status>"``), moved by triggers on
# ``support_ticket_tags`` and on a ticket's status: the statistics' tag counts
# and the totals of a listing by tag, alone or with a status (the panel's
# status tabs), read without counting rows.

_STATUS_OF = "(SELECT t.status FROM support_tickets AS t WHERE t.id = {row}.ticket_id)"


def _upsert(rows: str) -> str:
    """One upsert of ``rows`` (dimension, value, delta), in (dimension, value) order.

    One statement whose counter rows are locked in that order, as :func:`_move`'s:
    concurrent PostgreSQL writers cannot deadlock on them.
    """
    return (
        "INSERT INTO support_stats (dimension, value, count) "
        f"SELECT dimension, value, sum(delta) FROM ({rows}) AS moves WHERE true "
        "GROUP BY dimension, value HAVING sum(delta) <> 0 ORDER BY dimension, value "
        "ON CONFLICT (dimension, value) DO UPDATE SET count = support_stats.count + excluded.count;"
    )


def _tag_rows(row: str, delta: int) -> str:
    status = _STATUS_OF.format(row=row)
    return (
        f"SELECT 'tag' AS dimension, {row}.tag AS value, {delta} AS delta "
        f"UNION ALL SELECT 'tag+status', {row}.tag || '|' || {status}, {delta}"
    )


_TAG_ADDED = _upsert(_tag_rows("NEW", 1))
_TAG_REMOVED = _upsert(_tag_rows("OLD", -1))
#: A ticket changing status moves its tags' ``tag+status`` counters.
_STATUS_MOVED = _upsert(
    "SELECT 'tag+status' AS dimension, g.tag || '|' || NEW.status AS value, 1 AS delta FROM support_ticket_tags AS g "
    "WHERE g.ticket_id = NEW.id "
    "UNION ALL SELECT 'tag+status', g.tag || '|' || OLD.status, -1 FROM support_ticket_tags AS g "
    "WHERE g.ticket_id = OLD.id"
)


def _count_existing_tags(connection: sa.Connection) -> None:
    connection.exec_driver_sql(
        _upsert(
            "SELECT 'tag' AS dimension, g.tag AS value, 1 AS delta FROM support_ticket_tags AS g UNION ALL "
            "SELECT 'tag+status', g.tag || '|' || t.status, 1 FROM support_ticket_tags AS g "
            "JOIN support_tickets AS t ON t.id = g.ticket_id"
        )
    )


def create_tag_counters_sqlite(connection: sa.Connection) -> None:
    for statement in (
        f"CREATE TRIGGER support_ticket_tags_insert AFTER INSERT ON support_ticket_tags BEGIN {_TAG_ADDED} END",
        f"CREATE TRIGGER support_ticket_tags_delete AFTER DELETE ON support_ticket_tags BEGIN {_TAG_REMOVED} END",
        "CREATE TRIGGER support_tickets_tag_status AFTER UPDATE OF status ON support_tickets "
        f"WHEN OLD.status IS NOT NEW.status BEGIN {_STATUS_MOVED} END",
    ):
        connection.exec_driver_sql(statement)
    _count_existing_tags(connection)


def create_tag_counters_postgres(connection: sa.Connection) -> None:
    connection.exec_driver_sql(
        f"""
        CREATE OR REPLACE FUNCTION support_ticket_tags_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_TAG_ADDED}
            ELSE
                {_TAG_REMOVED}
            END IF;
            RETURN NULL;
        END $$
        """
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER support_ticket_tags_count AFTER INSERT OR DELETE ON support_ticket_tags "
        "FOR EACH ROW EXECUTE FUNCTION support_ticket_tags_count()"
    )
    connection.exec_driver_sql(
        f"""
        CREATE OR REPLACE FUNCTION support_tickets_tag_status() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_STATUS_MOVED}
            RETURN NULL;
        END $$
        """
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER support_tickets_tag_status AFTER UPDATE OF status ON support_tickets FOR EACH ROW "
        "WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION support_tickets_tag_status()"
    )
    _count_existing_tags(connection)


def drop_tag_counters(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite":
        for trigger in ("support_ticket_tags_insert", "support_ticket_tags_delete", "support_tickets_tag_status"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        for function in ("support_ticket_tags_count", "support_tickets_tag_status"):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
    connection.exec_driver_sql("DELETE FROM support_stats WHERE dimension IN ('tag', 'tag+status')")
