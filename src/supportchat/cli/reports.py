"""``supportchat report``: spec §19's figures as a table, a terminal bar chart, ``--csv`` or ``--json``.

The numbers are those of ``GET {prefix}/reports`` (the same function builds
both): times in seconds, medians and p90s as the JSON gives them.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from ..reports.csv_format import report_csv
from ..reports.feature import recompute_facts, report_for
from ..reports.figures import SlaFigure, Summary
from ..reports.report import Report
from .config import open_session
from .options import DatabaseUrl, JsonOutput
from .output import emit_json, handled, out
from .stats import bar_chart

__all__ = ["report_app", "report_table"]

report_app = typer.Typer(help="Response and resolution times, CSAT and backlog (spec §19).", no_args_is_help=False)

#: The table's columns: a heading and how to read it from a row's JSON.
_COLUMNS = (
    "group",
    "created",
    "resolved",
    "reopened",
    "first resp. median s",
    "first resp. p90 s",
    "next resp. median s",
    "resolution median s",
    "resolution p90 s",
    "CSAT",
    "CSAT n",
    "SLA first resp.",
    "SLA resolution",
    "backlog",
)


def _figure(value: float | None) -> str:
    return "-" if value is None else str(value)


def _share(figure: SlaFigure) -> str:
    return "-" if figure.share is None else f"{figure.share} of {figure.count}"


def _median(summary: Summary) -> str:
    return _figure(summary.median)


def report_table(report: Report) -> Table:
    """One line per group and the total, the figures as the API gives them."""
    table = Table(title=f"{report.start.isoformat()} – {report.end.isoformat()}, by {report.group_by.value}")
    for heading in _COLUMNS:
        table.add_column(heading, justify="left" if heading == "group" else "right")
    for row in [*report.rows, report.total]:
        table.add_row(
            row.group,
            str(row.created),
            str(row.resolved),
            str(row.reopened),
            _median(row.first_response.wall),
            _figure(row.first_response.wall.p90),
            _median(row.next_response.wall),
            _median(row.resolution.wall),
            _figure(row.resolution.wall.p90),
            _figure(row.csat.mean),
            str(row.csat.count),
            _share(row.sla.first_response),
            _share(row.sla.resolution),
            str(row.backlog),
            end_section=row is report.rows[-1] if report.rows else False,
        )
    return table


@report_app.callback(invoke_without_command=True)
@handled
def report(
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD) or ISO moment, included.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="End, excluded (default: the next midnight UTC).")] = None,
    group_by: Annotated[str, typer.Option("--group-by", help="day, week, month, agent, category, priority.")] = "day",
    csv_output: Annotated[bool, typer.Option("--csv", help="Print the CSV of GET /reports?format=csv.")] = False,
    recompute: Annotated[
        bool,
        typer.Option("--recompute", help="Rebuild the stored facts from every history (after a metrics change)."),
    ] = False,
    json_output: JsonOutput = False,
    database_url: DatabaseUrl = None,
) -> None:
    """The report over a range: a table and a chart of tickets created per group."""
    with open_session(database_url) as session:
        if recompute:
            done = recompute_facts(session.desk)
            if json_output:
                emit_json(done.model_dump(mode="json"))
            else:
                out().print(f"Stored the facts of {done.tickets} tickets (metrics version {done.metrics_version}).")
            return
        found = report_for(session.desk, start, end, group_by)
    if csv_output:
        typer.echo(report_csv(found), nl=False)
        return
    if json_output:
        emit_json(found.model_dump(mode="json"))
        return
    created = {row.group: row.created for row in found.rows}
    out().print(
        Group(
            report_table(found),
            Panel(bar_chart(created, found.total.created), title="tickets created", title_align="left"),
        )
    )
