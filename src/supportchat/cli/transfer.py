"""``supportchat export``, ``supportchat import`` and ``supportchat demo``."""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, TextIO

import typer

from ..demo import DEMO_AGENTS, fill_demo, play_sla
from ..models import Actor
from ..reports import recompute
from ..reports.upkeep import fact_store
from ..transfer import import_threads, iter_threads, read_jsonl, write_csv, write_jsonl
from .config import open_session
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, handled, out, progress_bar, tapped

__all__ = ["demo", "export", "import_"]

STDIO = "-"


class ExportFormat(enum.StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


@contextmanager
def _output(target: str, *, csv: bool) -> Iterator[TextIO]:
    if target == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(target)
    if not path.parent.exists():
        raise UserError(f"the folder of {target} does not exist")
    with path.open("w", encoding="utf-8", newline="" if csv else None) as handle:
        yield handle


@handled
def export(
    output: Annotated[str, typer.Option("--output", "-o", help="File to write; '-' is stdout.")] = STDIO,
    format: Annotated[
        ExportFormat | None,
        typer.Option("--format", "-f", help="jsonl (re-importable) or csv; default from the file name."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Tickets read per query.")] = 500,
    database_url: DatabaseUrl = None,
) -> None:
    """Write every ticket with its conversation, streaming in constant memory."""
    chosen = format or (ExportFormat.CSV if output.lower().endswith(".csv") else ExportFormat.JSONL)
    with open_session(database_url) as session:
        total = session.store.statistics().total_tickets
        with _output(output, csv=chosen is ExportFormat.CSV) as handle, progress_bar("Exporting", total) as advance:
            records = tapped(iter_threads(session.store, batch_size=batch_size), advance)
            written = write_csv(records, handle) if chosen is ExportFormat.CSV else write_jsonl(records, handle)
    if output != STDIO:
        out().print(f"Exported {written} tickets to {output} ({chosen.value}).")


@handled
def import_(
    source: Annotated[str, typer.Argument(help="A JSON Lines export; '-' reads stdin.")],
    keep_ids: Annotated[
        bool | None,
        typer.Option("--keep-ids/--new-ids", help="Keep the file's ids; default: keep them if the database is empty."),
    ] = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Load an export (JSON Lines); tickets already present are skipped, so running it twice is safe."""
    if source == STDIO:
        raw: IO[bytes] = sys.stdin.buffer
        size = None
    else:
        path = Path(source)
        if not path.is_file():
            raise UserError(f"no such file: {source}")
        if path.suffix.lower() == ".csv":
            raise UserError("CSV exports are for spreadsheets; import a JSON Lines export (--format jsonl)")
        raw = path.open("rb")
        size = path.stat().st_size
    try:
        with open_session(database_url) as session, progress_bar("Importing", size) as advance:
            lines = (line.decode("utf-8") for line in tapped(raw, advance, len))
            report = import_threads(session.store, read_jsonl(lines), keep_ids=keep_ids)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()
    if json_output:
        emit_json(
            {
                "tickets_created": report.tickets_created,
                "tickets_skipped": report.tickets_skipped,
                "messages_created": report.messages_created,
                "messages_skipped": report.messages_skipped,
            }
        )
        return
    out().print(
        f"Imported {report.tickets_created} tickets and {report.messages_created} messages "
        f"({report.tickets_skipped} tickets were already there)."
    )


@handled
def demo(
    tickets: Annotated[int, typer.Option("--tickets", "-n", min=1, max=1_000_000, help="How many tickets.")] = 200,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Spread them over this many past days.")] = 30,
    seed: Annotated[int | None, typer.Option(help="Make the data reproducible.")] = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Fill the database with realistic tickets and conversations (Spanish and English), and their history.

    Replies, automated acknowledgements, transfers, ratings, reopenings and a demo SLA policy's
    met and breached deadlines, spread over the past days, then the report facts: a new desk's
    ``supportchat report`` and the panel's reports page show meaningful figures at once.
    """
    with open_session(database_url) as session:
        admins = [admin.id for admin in session.admin_tokens.list() if admin.revoked_at is None] or DEMO_AGENTS
        with progress_bar("Creating demo tickets", tickets) as advance:
            numbers = fill_demo(
                session.store, tickets, admin_ids=admins, seed=seed, days=days, on_ticket=lambda _: advance(1)
            )
        play_sla(session.store)
        if fact_store(session.store) is not None:
            recompute(session.store)  # so that the first report reads the stored facts
        statistics = session.desk.statistics(Actor.system())
    if json_output:
        emit_json({"created": len(numbers), "statistics": statistics})
    else:
        out().print(f"Created {len(numbers)} demo tickets; the desk now holds {statistics.total_tickets}.")
