"""``stats`` (numbers and charts) and ``close-resolved`` (cron-safe bulk close)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from supportchat import Actor, SupportDesk, TicketStatus
from supportchat.cli.stats import bar_chart
from supportchat.stores.sql import SQLStore

from .conftest import Cli

ADMIN = Actor.admin(1)


def test_stats_matches_the_desk_and_charts_every_key(cli: Cli, desk: SupportDesk) -> None:
    for n, (priority, category) in enumerate([("high", "billing"), ("high", "flight"), ("low", "flight")]):
        ticket = desk.create_ticket(
            Actor.user(n + 1), subject="s", description="d", priority=priority, category=category
        )
    desk.change_status(ADMIN, ticket.id, "resolved")

    data = cli.json("stats")
    assert data == desk.statistics(Actor.system()).model_dump(mode="json")
    assert data["by_priority"] == {"low": 1, "medium": 0, "high": 2, "urgent": 0}

    text = cli("stats").stdout
    assert "3 tickets" in text
    for key in ["open", "in_progress", "resolved", "closed", "urgent", "general", "order"]:
        assert key in text
    high_row = next(line for line in text.splitlines() if " high " in line)
    low_row = next(line for line in text.splitlines() if " low " in line)
    assert high_row.count("█") == 2 * low_row.count("█") > 0


def test_bar_chart_scales_to_the_largest_count_and_shows_shares() -> None:
    from rich.console import Console

    console = Console(record=True, width=100)
    console.print(bar_chart({"a": 10, "b": 5, "c": 0}, 15))
    rows = console.export_text().splitlines()
    assert [row.count("█") for row in rows] == [40, 20, 0]
    assert rows[0].rstrip().endswith("67%") and rows[2].rstrip().endswith("0%")


def resolved_days_ago(store: SQLStore, days: int) -> str:
    past = SupportDesk(store, clock=lambda: datetime.now(UTC) - timedelta(days=days))
    ticket = past.create_ticket(Actor.user(1), subject="viejo", description="resuelto hace tiempo")
    past.change_status(ADMIN, ticket.id, "resolved")
    return ticket.ticket_number


def test_close_resolved_dry_run_lists_and_changes_nothing(cli: Cli, desk_store: SQLStore) -> None:
    old = resolved_days_ago(desk_store, 10)
    resolved_days_ago(desk_store, 2)
    listed = cli.json("close-resolved", "--older-than", "7d", "--dry-run")
    assert listed["dry_run"] is True and [t["ticket_number"] for t in listed["tickets"]] == [old]
    assert desk_store.get_ticket_by_number(old).status is TicketStatus.RESOLVED  # type: ignore[union-attr]


def test_close_resolved_closes_only_old_ones_and_is_idempotent(cli: Cli, desk_store: SQLStore) -> None:
    old = resolved_days_ago(desk_store, 10)
    recent = resolved_days_ago(desk_store, 2)
    text = cli("close-resolved", "--older-than", "7d").stdout
    assert "Closed 1 ticket" in text and old in text
    assert desk_store.get_ticket_by_number(old).status is TicketStatus.CLOSED  # type: ignore[union-attr]
    assert desk_store.get_ticket_by_number(recent).status is TicketStatus.RESOLVED  # type: ignore[union-attr]
    # Run again by cron: nothing left to do, still a success.
    assert cli.json("close-resolved", "--older-than", "7d")["count"] == 0
    assert cli.json("close-resolved", "--older-than", "1d")["count"] == 1


def test_close_resolved_rejects_a_bad_age(cli: Cli) -> None:
    assert "not a duration" in cli.fails("close-resolved", "--older-than", "a week")
