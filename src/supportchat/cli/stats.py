"""``supportchat stats`` (with terminal charts) and ``supportchat close-resolved`` (cron-safe)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from ..models import Actor, Statistics, utc_iso
from .config import open_session
from .durations import parse_duration
from .options import DatabaseUrl, JsonOutput
from .output import emit_json, handled, out

__all__ = ["close_resolved", "stats"]

_BAR_WIDTH = 40
_COLOURS = {
    "open": "yellow",
    "in_progress": "blue",
    "resolved": "green",
    "closed": "bright_black",
    "low": "bright_black",
    "medium": "cyan",
    "high": "yellow",
    "urgent": "red",
}


#: The tags ``supportchat stats`` charts (JSON output has every tag).
_TOP_TAGS = 15


def bar_chart(counts: Mapping[str, int], total: int) -> Table:
    """One horizontal bar per key, scaled to the largest count, with count and share."""
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right")
    table.add_column()
    table.add_column(justify="right")
    table.add_column(justify="right", style="dim")
    peak = max(counts.values(), default=0)
    for key, count in counts.items():
        width = 0 if peak == 0 else round(_BAR_WIDTH * count / peak)
        if count and not width:
            width = 1
        colour = _COLOURS.get(key, "magenta")
        share = f"{100 * count / total:.0f}%" if total else "-"
        table.add_row(key, f"[{colour}]{'█' * width}[/]" + " " * (_BAR_WIDTH - width), str(count), share)
    return table


def render_statistics(statistics: Statistics) -> Group:
    total = statistics.total_tickets
    panels = [
        Panel(bar_chart(statistics.by_status, total), title="by status", title_align="left"),
        Panel(bar_chart(statistics.by_priority, total), title="by priority", title_align="left"),
        Panel(bar_chart(statistics.by_category, total), title="by category", title_align="left"),
    ]
    if statistics.by_tag:
        # The most used first (a tag is plain a-z, 0-9, - and _: nothing for Rich to read as markup).
        tags = dict(sorted(statistics.by_tag.items(), key=lambda item: (-item[1], item[0]))[:_TOP_TAGS])
        panels.append(Panel(bar_chart(tags, total), title="by tag (most used)", title_align="left"))
    return Group(
        f"[bold]{total}[/] tickets, [bold]{statistics.unread_messages}[/] user messages unread by any admin",
        *panels,
    )


@handled
def stats(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Counts by status, priority, category and tag, with charts."""
    with open_session(database_url) as session:
        statistics = session.desk.statistics(Actor.system())
    if json_output:
        emit_json(statistics)
    else:
        out().print(render_statistics(statistics))


@handled
def close_resolved(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Close tickets resolved longer ago than this.")
    ] = "7d",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be closed.")] = False,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Close tickets resolved longer ago than --older-than; safe to run from cron, even twice at once."""
    age = parse_duration(older_than)
    with open_session(database_url) as session:
        tickets = session.desk.close_resolved(Actor.system(), older_than=age, dry_run=dry_run)
    if json_output:
        emit_json({"dry_run": dry_run, "count": len(tickets), "tickets": tickets})
        return
    verb = "Would close" if dry_run else "Closed"
    console = out()
    console.print(
        f"{verb} {len(tickets)} ticket{'s' if len(tickets) != 1 else ''} resolved more than {older_than} ago."
    )
    for ticket in tickets:
        since = "" if ticket.resolved_at is None else f"  resolved {utc_iso(ticket.resolved_at)[:16].replace('T', ' ')}"
        console.print(f"  {ticket.ticket_number}{since}", markup=False)
