"""Outages and moving data: blobs kept locally while S3 is down and replayed; uploads during a
primary store outage replayed with their messages; a ticket's data deleted; CLI export and import."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tenacity import Retrying, stop_after_attempt, wait_none
from typer.testing import CliRunner

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.attachments import FallbackBlobStore, LocalBlobStore, S3BlobStore, attachment_records
from supportchat.errors import StorageUnavailable
from supportchat.stores import FallbackStore
from supportchat.stores._breaker import CircuitBreaker

from ..api.conftest import PREFIX
from ..faults import FaultyStore
from . import files
from .conftest import build, upload
from .s3server import _free_port, new_bucket, s3_client


def _moto(port: int):  # type: ignore[no-untyped-def]
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def test_blobs_uploaded_while_s3_is_down_are_kept_locally_and_replayed(tmp_path: Path) -> None:
    port = _free_port()
    server = _moto(port)
    try:
        client = s3_client(f"http://127.0.0.1:{port}")
        primary = S3BlobStore(new_bucket(client), client=client)
        blobs = FallbackBlobStore(primary, LocalBlobStore(tmp_path / "pending"))
        att = build("flask", InMemoryStore(), tmp_path)
        att.attachments.blobs = blobs
        ticket = att.ticket_for(5)
        server.stop()
        with pytest.raises(StorageUnavailable):
            primary.size("0" * 64)
        reply = upload(
            att.client,
            f"{PREFIX}/user/5/tickets/{ticket.id}/attachments",
            att.user(5),
            "r.pdf",
            files.pdf(),
            "application/pdf",
        )
        assert reply.status == 200, reply.body
        data = reply.json()["data"]
        assert blobs.pending() == [data["sha256"]]
        served = att.client.request("GET", data["url"])
        assert served.status == 200 and served.body == files.pdf()  # from the local copy, during the outage
        server = _moto(port)  # the same port; moto keeps its buckets in this process
        assert blobs.replay() == 1 and blobs.pending() == []
        assert primary.size(data["sha256"]) == len(files.pdf())
        assert att.client.request("GET", data["url"]).body == files.pdf()
    finally:
        server.stop()


def test_uploads_during_a_store_outage_are_recorded_locally_and_cited_by_replayed_messages(tmp_path: Path) -> None:
    primary = FaultyStore(InMemoryStore())
    store = FallbackStore(
        primary,  # type: ignore[arg-type]
        InMemoryStore(),
        journal=tmp_path / "journal.sqlite",
        retry=Retrying(stop=stop_after_attempt(2), wait=wait_none(), sleep=lambda _s: None),
        breaker=CircuitBreaker(cool_down=0),
    )
    att = build("fastapi", store, tmp_path)
    ticket = att.ticket_for(5)
    primary.down = True
    reply = upload(
        att.client, f"{PREFIX}/user/5/tickets/{ticket.id}/attachments", att.user(5), "a.png", files.png(), "image/png"
    )
    assert reply.status == 200, reply.body
    sent = att.call(
        "POST",
        f"/tickets/{ticket.id}/user-message",
        headers=att.user(5),
        json={"message": "captura", "attachment_id": reply.json()["data"]["id"]},
    )
    assert sent.status == 200, sent.body
    message_id = sent.json()["data"]["id"]
    primary.down = False
    store.replay()
    assert store.state().pending_writes == 0
    replayed = primary.inner.list_messages(ticket.id, after_id=0)
    assert replayed[-1].id == message_id  # the id the client was given, on the primary now
    assert (replayed[-1].file_url or "").endswith(f"/attachments/{reply.json()['data']['id']}")
    thread = att.call("GET", f"/user/5/tickets/{ticket.id}", headers=att.user(5)).json()["data"]
    assert thread["messages"][-1]["attachment"]["id"] == reply.json()["data"]["id"]
    assert att.client.request("GET", thread["messages"][-1]["file_url"]).status == 200


def test_deleting_a_tickets_data_removes_its_attachments_and_unshared_blobs(tmp_path: Path) -> None:
    att = build("flask", InMemoryStore(), tmp_path)
    one, two = att.ticket_for(5), att.ticket_for(5, "Dos")
    for ticket, data in ((one, files.pdf()), (one, b"solo uno"), (two, files.pdf())):
        name = "a.pdf" if data.startswith(b"%PDF") else "a.txt"
        assert (
            upload(att.client, f"{PREFIX}/tickets/{ticket.id}/attachments", att.admin, name, data, None).status == 200
        )
    assert att.attachments.forget_ticket(att.store, one.id) == 2
    assert attachment_records(att.store).for_ticket(one.id) == []
    assert len(list(att.attachments.blobs.keys())) == 1  # the PDF ticket two still uses


def test_cli_export_then_import_moves_attachments_with_their_tickets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supportchat.cli.app import app

    source_db, target_db = tmp_path / "a.db", tmp_path / "b.db"
    monkeypatch.setenv("SUPPORTCHAT_SECRET", "cli-secret-0123456789abcdefghij")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    runner = CliRunner()
    from supportchat.cli.attachments import configured_attachments
    from supportchat.stores.sql import SQLStore

    store = SQLStore.from_url(f"sqlite:///{source_db}")
    desk = SupportDesk(store)
    ticket = desk.create_ticket(Actor.user(5), subject="Con adjunto", description="ver")
    attachments = configured_attachments()
    from supportchat.http.raw import RawRequest

    from .conftest import multipart

    body, media_type = multipart("recibo.pdf", files.pdf(), "application/pdf")
    stream = io.BytesIO(body)
    view = attachments.upload(
        desk, Actor.user(5), ticket.id, RawRequest({"content-type": media_type}, stream.read, len(body))
    )
    message = desk.post_message(
        Actor.user(5),
        ticket.id,
        "recibo",
        message_type="file",
        file_url=attachments.stored_url(view.id),
        client_message_id="m1",
    )
    attachments.cite(store, view.id, message.id)
    store.close()
    export_dir = tmp_path / "export"
    for command in (
        ["--database-url", f"sqlite:///{source_db}", "export", "-o", str(tmp_path / "t.jsonl")],
        ["--database-url", f"sqlite:///{source_db}", "attachments", "export", str(export_dir)],
        ["--database-url", f"sqlite:///{target_db}", "import", str(tmp_path / "t.jsonl")],
        ["--database-url", f"sqlite:///{target_db}", "attachments", "import", str(export_dir)],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    target = SQLStore.from_url(f"sqlite:///{target_db}")
    moved = target.get_ticket_by_number(ticket.ticket_number)
    assert moved is not None
    [copied] = attachment_records(target).for_ticket(moved.id)
    assert copied.sha256 == view.sha256 and copied.filename == "recibo.pdf"
    assert copied.message_id == target.get_message_by_uid(message.uid or "").id  # type: ignore[union-attr]
    target.close()
