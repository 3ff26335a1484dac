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
    "PAIRS",
    "counter_key",
    "create_postgres",
    "create_sqlite",
    "create_tag_counters_postgres",
    "create_tag_counters_sqlite",
    "drop_postgres",
    "drop_sqlite",
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


def _count_existing(connection: sa.Connection) -> None:
    """Count the rows already there (an adopted or long-lived database)."""
    for dimension, value in PAIRS.items():
        connection.exec_driver_sql(
            f"INSERT INTO support_stats (dimension, value, count) "
            f"SELECT '{dimension}', {value.format(row='t')}, count(*) FROM support_tickets AS t "
            f"GROUP BY {value.format(row='t')} "
            "ON CONFLICT (dimension, value) DO UPDATE SET count = excluded.count"
        )


def create_sqlite(connection: sa.Connection) -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COLUMNS)
    for statement in (
        f"CREATE TRIGGER support_tickets_pairs_insert AFTER INSERT ON support_tickets BEGIN {_move(('NEW', 1))} END",
        f"CREATE TRIGGER support_tickets_pairs_delete AFTER DELETE ON support_tickets BEGIN {_move(('OLD', -1))} END",
        f"CREATE TRIGGER support_tickets_pairs_update AFTER UPDATE OF {', '.join(_COLUMNS)} ON support_tickets "
        f"WHEN {changed} BEGIN {_move(('OLD', -1), ('NEW', 1))} END",
    ):
        connection.exec_driver_sql(statement)
    _count_existing(connection)


def drop_sqlite(connection: sa.Connection) -> None:
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
# One ``support_stats`` row per tag (dimension ``tag``), moved by triggers on
# ``support_ticket_tags``: the statistics' tag counts and the total of a
# listing by tag, read without counting rows.

_TAG_ADDED = (
    "INSERT INTO support_stats (dimension, value, count) VALUES ('tag', NEW.tag, 1) "
    "ON CONFLICT (dimension, value) DO UPDATE SET count = support_stats.count + 1;"
)
_TAG_REMOVED = "UPDATE support_stats SET count = count - 1 WHERE dimension = 'tag' AND value = OLD.tag;"


def create_tag_counters_sqlite(connection: sa.Connection) -> None:
    connection.exec_driver_sql(
        f"CREATE TRIGGER support_ticket_tags_insert AFTER INSERT ON support_ticket_tags BEGIN {_TAG_ADDED} END"
    )
    connection.exec_driver_sql(
        f"CREATE TRIGGER support_ticket_tags_delete AFTER DELETE ON support_ticket_tags BEGIN {_TAG_REMOVED} END"
    )


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


def drop_tag_counters(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite":
        for suffix in ("insert", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS support_ticket_tags_{suffix}")
    else:
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS support_ticket_tags_count() CASCADE")
    connection.exec_driver_sql("DELETE FROM support_stats WHERE dimension = 'tag'")
