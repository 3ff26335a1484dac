"""``export`` and ``import``: formats, round trip, idempotence, streaming, and ``demo``."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from supportchat import Actor, SupportDesk
from supportchat.stores import InMemoryStore
from supportchat.stores.sql import SQLStore
from supportchat.transfer import import_threads, iter_threads

from .conftest import Cli

ADMIN = Actor.admin(1)


def fill(desk: SupportDesk) -> None:
    """Tickets in every state, with read and unread messages and change records."""
    for n in range(5):
        user = Actor.user(n + 1)
        ticket = desk.create_ticket(user, subject=f"Asunto {n}", description="=SUM(A1:A9) descripción")
        desk.post_message(user, ticket.id, f"mensaje {n}")
        if n % 2:
            desk.get_ticket(ADMIN, ticket.id)
            desk.post_message(ADMIN, ticket.id, "respuesta")
            desk.change_status(ADMIN, ticket.id, "resolved", assigned_to=1)
        if n == 4:
            desk.change_status(ADMIN, ticket.id, "closed")


def snapshot(store: SQLStore) -> dict[str, object]:
    """Everything an export carries, from the target's own point of view."""
    return {
        "statistics": store.statistics().model_dump(),
        "threads": [
            (
                record.ticket.model_dump(exclude={"unread_count"}),
                (record.ticket.unread_from_user, record.ticket.unread_from_admin),
                [m.model_dump() for m in record.messages],
                [c.model_dump(exclude={"id"}) for c in record.changes],
            )
            for record in iter_threads(store)
        ],
    }


def test_export_then_import_reproduces_the_desk(
    cli: Cli, desk: SupportDesk, desk_store: SQLStore, tmp_path: Path
) -> None:
    fill(desk)
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    exported = tmp_path / "desk.jsonl"
    assert "Exported 5 tickets" in cli("export", "--output", str(exported)).stdout
    lines = exported.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "supportchat-export" and len(lines) == 6

    report = cli.json("import", str(exported), "--database-url", target)
    assert report == {"tickets_created": 5, "tickets_skipped": 0, "messages_created": 7, "messages_skipped": 0}
    copy = SQLStore.from_url(target)
    try:
        assert snapshot(copy) == snapshot(desk_store)
        # Importing again adds nothing.
        again = cli.json("import", str(exported), "--database-url", target)
        assert again["tickets_created"] == 0 and again["messages_created"] == 0 and again["tickets_skipped"] == 5
        assert snapshot(copy) == snapshot(desk_store)
    finally:
        copy.close()


def test_import_writes_one_event_per_ticket_message_and_history(cli: Cli, desk: SupportDesk, tmp_path: Path) -> None:
    fill(desk)
    exported = tmp_path / "desk.jsonl"
    cli("export", "-o", str(exported))
    target = f"sqlite:///{tmp_path / 'events.db'}"
    cli("import", str(exported), "--database-url", target)
    copy = SQLStore.from_url(target)
    try:
        kinds = Counter(event.type.value for event in copy.events_after(0, limit=1000))
        assert kinds == {"ticket_created": 5, "message_created": 7, "ticket_updated": 3}
        message_events = [e for e in copy.events_after(0, limit=1000) if e.message_id is not None]
        assert all(copy.list_messages(e.ticket_id, after_id=e.message_id - 1, limit=1) for e in message_events)
    finally:
        copy.close()


def test_a_file_repeating_a_ticket_imports_it_once(cli: Cli, desk: SupportDesk, tmp_path: Path) -> None:
    fill(desk)
    lines = cli("export").stdout.splitlines()
    path = tmp_path / "twice.jsonl"
    path.write_text("\n".join([*lines, lines[1], lines[3]]) + "\n")
    report = cli.json("import", str(path), "--database-url", f"sqlite:///{tmp_path / 'twice.db'}")
    assert report["tickets_created"] == 5 and report["tickets_skipped"] == 2 and report["messages_created"] == 7


@pytest.mark.parametrize("keep_ids", [True, False])
def test_import_through_the_store_protocol_alone(keep_ids: bool) -> None:
    source, target = InMemoryStore(), InMemoryStore()
    fill(SupportDesk(source))
    records = list(iter_threads(source))
    first = import_threads(target, records, keep_ids=keep_ids, batch_size=2)
    assert (first.tickets_created, first.messages_created) == (5, 7)
    assert target.statistics() == source.statistics()
    assert import_threads(target, records).tickets_skipped == 5
    assert target.statistics() == source.statistics()
    assert sum(len(target.list_changes(t.id)) for t in (r.ticket for r in iter_threads(target))) == 5


def test_import_into_a_desk_with_tickets_draws_new_ids_and_keeps_numbers(
    cli: Cli, desk: SupportDesk, tmp_path: Path
) -> None:
    fill(desk)
    exported = tmp_path / "desk.jsonl"
    cli("export", "-o", str(exported))
    target = f"sqlite:///{tmp_path / 'busy.db'}"
    busy = SQLStore.from_url(target)
    try:
        existing = SupportDesk(busy).create_ticket(Actor.user(9), subject="ya estaba", description="antes")
        cli("import", str(exported), "--database-url", target)
        numbers = {record.ticket.ticket_number: record.ticket.id for record in iter_threads(busy)}
        assert len(numbers) == 6 and numbers[existing.ticket_number] == existing.id
        assert sorted(numbers.values()) == list(range(1, 7))
        assert busy.statistics().unread_messages == desk.statistics(ADMIN).unread_messages
    finally:
        busy.close()


def test_export_to_stdout_is_pipeable_jsonl_without_a_progress_bar(cli: Cli, desk: SupportDesk) -> None:
    fill(desk)
    result = cli("export")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 6 and rows[1]["ticket"]["id"] == 1
    assert {m["message"] for m in rows[2]["messages"]} == {"mensaje 1", "respuesta"}
    assert result.stderr == ""  # no progress bar when not on a terminal


def test_import_from_stdin(cli: Cli, desk: SupportDesk, tmp_path: Path) -> None:
    fill(desk)
    exported = cli("export").stdout
    target = f"sqlite:///{tmp_path / 'stdin.db'}"
    result = cli("import", "-", "--database-url", target, input=exported)
    assert "Imported 5 tickets and 7 messages" in result.stdout


def test_export_csv_has_one_row_per_ticket_and_defuses_formulas(cli: Cli, desk: SupportDesk, tmp_path: Path) -> None:
    fill(desk)
    path = tmp_path / "desk.csv"
    cli("export", "-o", str(path))  # the format follows the file name
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [row["subject"] for row in rows] == [f"Asunto {n}" for n in range(5)]
    assert all(row["description"].startswith("'=SUM") for row in rows)
    assert rows[4]["status"] == "closed" and rows[1]["assigned_to"] == "1"
    assert cli("export", "--format", "csv").stdout.splitlines()[0].startswith("id,ticket_number,")


def test_import_reports_the_first_bad_line_and_refuses_csv(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "supportchat-export", "version": 1}\n{"ticket": {"id": "x"}}\n')
    assert "line 2" in cli.fails("import", str(bad))
    future = tmp_path / "future.jsonl"
    future.write_text('{"format": "supportchat-export", "version": 99}\n')
    assert "version 99" in cli.fails("import", str(future))
    assert "no such file" in cli.fails("import", str(tmp_path / "missing.jsonl"))
    sheet = tmp_path / "desk.csv"
    sheet.write_text("id\n")
    assert "JSON Lines" in cli.fails("import", str(sheet))


def test_import_sanitises_hand_written_text(cli: Cli, tmp_path: Path, desk_store: SQLStore) -> None:
    source = InMemoryStore()
    SupportDesk(source).create_ticket(Actor.user(1), subject="limpio", description="limpio")
    line = next(iter_threads(source)).to_json().replace('"limpio"', '"<script>x</script>hola"', 1)
    path = tmp_path / "hand.jsonl"
    path.write_text(line + "\n")
    cli("import", str(path))
    assert desk_store.get_ticket(1).subject == "< script>x</script>hola"  # type: ignore[union-attr]


def test_sql_export_reads_in_bounded_batches_in_id_order(desk: SupportDesk, desk_store: SQLStore) -> None:
    fill(desk)
    batches = [record.ticket.id for record in iter_threads(desk_store, batch_size=2)]
    assert batches == [1, 2, 3, 4, 5]
    assert [len(r.messages) for r in iter_threads(desk_store, batch_size=2)] == [1, 2, 1, 2, 1]
    with pytest.raises(ValueError):
        next(iter_threads(desk_store, batch_size=0))


def test_any_store_can_be_exported_through_the_protocol() -> None:
    memory = InMemoryStore()
    fill(SupportDesk(memory))
    records = list(iter_threads(memory, batch_size=2))
    assert sorted(r.ticket.id for r in records) == [1, 2, 3, 4, 5]
    assert sum(len(r.messages) for r in records) == 7
    assert sum(len(r.changes) for r in records) == 5  # status and assignment twice, one close


def test_demo_fills_the_database_in_both_languages(cli: Cli, desk_store: SQLStore) -> None:
    result = cli.json("demo", "--tickets", "40", "--seed", "7")
    assert result["created"] == 40 and result["statistics"]["total_tickets"] == 40
    subjects = {record.ticket.subject for record in iter_threads(desk_store)}
    assert any("¿" in s or "ñ" in s or "No puedo" in s for s in subjects)
    assert any(s.startswith(("Baggage", "Invoice", "Received", "Password", "Feature")) for s in subjects)
    statuses = result["statistics"]["by_status"]
    assert all(statuses[s] > 0 for s in ("open", "in_progress", "resolved", "closed"))
    assert sum(len(r.messages) for r in iter_threads(desk_store)) > 40
    assert "Created 5 demo tickets" in cli("demo", "-n", "5").stdout


@pytest.mark.postgres
def test_export_from_sqlite_imports_into_postgresql(
    cli: Cli, desk: SupportDesk, desk_store: SQLStore, postgres_url: str, tmp_path: Path
) -> None:
    fill(desk)
    exported = tmp_path / "desk.jsonl"
    cli("export", "-o", str(exported))
    assert "db upgrade" in cli.fails("import", str(exported), "--database-url", postgres_url)
    cli("db", "upgrade", "--database-url", postgres_url)
    cli("import", str(exported), "--database-url", postgres_url)
    assert cli.json("stats", "--database-url", postgres_url) == cli.json("stats")
    copy = SQLStore.from_url(postgres_url)
    try:
        assert snapshot(copy) == snapshot(desk_store)
    finally:
        copy.close()


@pytest.mark.timeout(120)
def test_a_terminal_gets_a_progress_bar_on_stderr(cli: Cli, desk: SupportDesk, tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    fill(desk)
    controller, terminal = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "XDG_DATA_HOME": str(cli.home)}
    child = subprocess.Popen(
        [sys.executable, "-m", "supportchat", "export", "-o", str(tmp_path / "out.jsonl")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert child.wait(timeout=60) == 0
    assert b"Exporting" in shown and b"5/5" in shown
