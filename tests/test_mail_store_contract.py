"""The email channel's store extension and its threading rules, on every backend of ``tests/stores.py``.

Supabase alone has no mail tables (like the jobs, the channel's records
live in the fallback store's local database there): its test checks that
asking for them is the configuration error it should be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.errors import ExtensionUnavailable, StorageUnavailable
from supportchat.extensions import extension
from supportchat.mail import MailIntake, MailSettings, MailStore, NewMailRecord, Outcome
from supportchat.mail.intake import BAD_TOKEN, CLOSED
from supportchat.models import SenderType
from supportchat.stores import Store

from .stores import StoreMaker

ADDRESS = "support@example.com"


def records_of(store: Store) -> MailStore:
    try:
        return extension(store, MailStore)
    except ExtensionUnavailable:
        assert type(store).__name__ == "SupabaseStore", "every other backend has the mail records"
        pytest.skip("SupabaseStore has no MailStore (the records live in the fallback store's database)")


#: Backends whose primary is (sometimes) down: a new contact needs the primary, so imports fail and are retried.
PRIMARY_AWAY = ("fallback-down", "fallback-flapping")


@pytest.fixture
def intake(desk: SupportDesk, request: pytest.FixtureRequest) -> MailIntake:
    if request.node.callspec.params.get("make_store") in PRIMARY_AWAY:
        pytest.skip("the contacts directory refuses writes while the primary is down (docs/architecture.md)")
    return MailIntake(desk, MailSettings(address=ADDRESS, secret="contract-secret"), records=records_of(desk.store))


def test_with_the_primary_down_an_import_fails_retryably_and_records_nothing(
    desk: SupportDesk, request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.params.get("make_store") != "fallback-down":
        pytest.skip("only the fallback store with its primary down")
    intake = MailIntake(desk, MailSettings(address=ADDRESS, secret="s"), records=records_of(desk.store))
    with pytest.raises(StorageUnavailable):
        intake.import_mail(mail("new@example.org", "down@example.org", "Hola"))
    assert intake.records.get("down@example.org") is None  # nothing claimed: the next poll imports it


def mail(sender: str, message_id: str, body: str, *, subject: str = "Ayuda", **headers: str) -> bytes:
    lines = [f"From: {sender}", f"Message-ID: <{message_id}>", f"Subject: {subject}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if not any(name == "To" for name in headers):
        lines.append(f"To: {ADDRESS}")
    return ("\r\n".join(lines) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def test_supabase_alone_has_no_mail_store_and_says_so(make_store: StoreMaker) -> None:
    store = make_store()
    if type(store).__name__ != "SupabaseStore":
        assert isinstance(extension(store, MailStore), MailStore)
        return
    with pytest.raises(ExtensionUnavailable, match="SupabaseStore has no MailStore extension"):
        extension(store, MailStore)


def test_a_key_is_claimed_once_and_finished_with_its_ticket(store: Store) -> None:
    records = records_of(store)
    plan = NewMailRecord("a@example.org", "in", Outcome.NEW_TICKET, ticket_number="TKT-AAAA2222", raw=b"raw bytes")
    first, claimed = records.claim(plan, now=100.0)
    again, claimed_again = records.claim(NewMailRecord("a@example.org", "in", Outcome.AUTOMATIC, done=True), now=101.0)
    assert claimed and not claimed_again and again == first and first.state == "claimed"
    assert records.raw("a@example.org") == b"raw bytes"
    done = records.finish("a@example.org", ticket_id=7, support_message_id=None, now=102.0)
    assert done.done and done.ticket_id == 7 and done.outcome is Outcome.NEW_TICKET and done.finished_at == 102.0
    assert records.thread_of(["unknown@x", "a@example.org"]) == 7
    assert [r.message_key for r in records.for_ticket(99, "TKT-AAAA2222")] == ["a@example.org"]
    assert records.counts()["new_ticket"] == 1 and records.counts()["reply"] == 0


def test_automatic_mail_is_counted_per_address_and_period(store: Store) -> None:
    records = records_of(store)
    for n, at in enumerate((10.0, 20.0, 30.0)):
        out = NewMailRecord(f"ack{n}@example.com", "out", Outcome.SENT_ACK, address="x@example.org", automatic=True)
        records.claim(dataclass_done(out), now=at)
    records.claim(
        NewMailRecord("reply@example.com", "out", Outcome.SENT_REPLY, address="x@example.org", done=True), now=30
    )
    assert records.automatic_sent_since("x@example.org", 15.0) == 2
    assert records.automatic_sent_since("y@example.org", 0.0) == 0


def dataclass_done(record: NewMailRecord) -> NewMailRecord:
    from dataclasses import replace

    return replace(record, done=True)


def test_checkpoints_advance_per_message_and_restart_on_a_new_uidvalidity(store: Store) -> None:
    records = records_of(store)
    assert records.checkpoint("box") is None
    assert records.note_poll("box", 111, error=None, now=1.0).last_uid == 0
    records.advance("box", 111, 5, imported=1, now=2.0)
    records.advance("box", 111, 3, imported=1, now=3.0)  # never backwards
    records.advance("box", 999, 9, imported=1, now=3.0)  # not this UIDVALIDITY's
    checkpoint = records.checkpoint("box")
    assert checkpoint is not None and (checkpoint.last_uid, checkpoint.imported) == (5, 1)
    failed = records.note_poll("box", None, error="connect: refused", now=4.0)
    assert failed.last_error == "connect: refused" and failed.last_uid == 5
    renumbered = records.note_poll("box", 222, error=None, now=5.0)
    assert (renumbered.uidvalidity, renumbered.last_uid, renumbered.imported) == (222, 0, 1)
    assert [c.mailbox for c in records.checkpoints()] == ["box"]


def test_participants_and_reply_preferences(store: Store) -> None:
    records = records_of(store)
    records.add_participants(3, ["b@example.org", "c@example.org"])
    records.add_participants(3, ["b@example.org"])
    assert records.participants(3) == {"b@example.org", "c@example.org"} and records.participants(4) == set()
    assert not records.notify_replies(10)
    records.set_notify_replies(10, True)
    assert records.notify_replies(10)
    records.set_notify_replies(10, False)
    assert not records.notify_replies(10)


def opened(intake: MailIntake) -> Any:
    result = intake.import_mail(mail("Ana <ana@example.org>", "first@example.org", "No puedo entrar."))
    ticket = intake.desk.store.get_ticket(result.record.ticket_id or 0)
    assert result.outcome is Outcome.NEW_TICKET and ticket is not None
    return ticket


def test_a_signed_reply_from_the_requester_joins_with_its_quote_stripped(intake: MailIntake) -> None:
    ticket = opened(intake)
    plus = intake.signer.reply_to(ticket.ticket_number, ticket.id, ticket.user_id)
    body = (
        "Ya funciona.\r\n\r\nEl lun, 30 nov 2026, Soporte <support@example.com> escribió:\r\n"
        "> ##- Escriba su respuesta encima de esta línea -##\r\n> hola"
    )
    result = intake.import_mail(mail("ana@example.org", "second@example.org", body, To=plus))
    assert result.outcome is Outcome.REPLY and result.record.ticket_id == ticket.id
    (message,) = intake.desk.store.list_messages(ticket.id)
    assert (message.sender_type, message.sender_id, message.message) == (
        SenderType.USER,
        ticket.user_id,
        "Ya funciona.",
    )
    assert intake.import_mail(mail("ana@example.org", "second@example.org", body, To=plus)).duplicate
    assert len(intake.desk.store.list_messages(ticket.id)) == 1


def test_a_forged_token_or_another_sender_never_joins(intake: MailIntake) -> None:
    ticket = opened(intake)
    number = ticket.ticket_number
    token = intake.signer.token(ticket.id, ticket.user_id)
    forged_token = ("a" if token[0] != "a" else "b") + token[1:]
    forged_address = f"support+{number.lower()}.{forged_token}@example.com"
    # A valid subject tag and the requester's own address, but a token that does not verify.
    forged = intake.import_mail(
        mail("ana@example.org", "f1@x", "Dame acceso", subject=f"Re: [{number}]", To=forged_address)
    )
    assert forged.outcome is Outcome.FOLLOW_UP and forged.record.follow_up_of == ticket.id
    assert forged.record.reason == BAD_TOKEN and forged.record.ticket_id != ticket.id
    # A valid token, a valid tag, but someone else sends it.
    valid = intake.signer.reply_to(number, ticket.id, ticket.user_id)
    stranger = intake.import_mail(mail("eve@example.net", "f2@x", "Soy Ana", subject=f"Re: [{number}]", To=valid))
    assert (
        stranger.outcome is Outcome.FOLLOW_UP and stranger.record.reason == "its sender is not the ticket's requester"
    )
    # Only the tag, from a stranger (how Zammad's follow-ups get hijacked).
    tagged = intake.import_mail(mail("eve@example.net", "f3@x", "Hola", subject=f"Re: [{number}] Ayuda"))
    assert tagged.outcome is Outcome.FOLLOW_UP and tagged.record.follow_up_of == ticket.id
    assert intake.desk.store.list_messages(ticket.id) == []
    # Only the tag, from the requester: joins (people keep subjects, clients drop headers).
    own = intake.import_mail(mail("ana@example.org", "f4@x", "Sigo sin poder", subject=f"RE: [{number}] Ayuda"))
    assert own.outcome is Outcome.REPLY and own.record.ticket_id == ticket.id


def test_someone_the_requester_copied_may_join_and_a_closed_ticket_opens_a_follow_up(intake: MailIntake) -> None:
    ticket = opened(intake)
    plus = intake.signer.reply_to(ticket.ticket_number, ticket.id, ticket.user_id)
    intake.import_mail(mail("ana@example.org", "cc1@x", "Copio a mi jefe", To=plus, Cc="Jefe <boss@example.org>"))
    boss = intake.import_mail(mail("boss@example.org", "cc2@x", "Confirmo lo que dice Ana", To=plus))
    assert boss.outcome is Outcome.REPLY and boss.record.ticket_id == ticket.id
    intake.desk.change_status(Actor.admin(1), ticket.id, "closed")
    late = intake.import_mail(mail("ana@example.org", "late@x", "Otra cosa", To=plus))
    assert late.outcome is Outcome.FOLLOW_UP and late.record.reason == CLOSED
    assert late.record.ticket_id not in (None, ticket.id)


def test_an_import_that_died_after_writing_is_carried_out_once_when_met_again(
    intake: MailIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = mail("Luis <luis@example.org>", "crash@example.org", "Primer correo")
    real_finish = intake.records.finish

    def die(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("killed after the ticket was written")

    monkeypatch.setattr(intake.records, "finish", die)
    with pytest.raises(SystemExit):
        intake.import_mail(raw)
    monkeypatch.setattr(intake.records, "finish", real_finish)
    result = intake.import_mail(raw)
    assert result.outcome is Outcome.NEW_TICKET and not result.duplicate
    assert intake.desk.store.statistics().total_tickets == 1
    assert intake.import_mail(raw).duplicate and intake.desk.store.statistics().total_tickets == 1


def test_machine_mail_and_our_own_mail_open_nothing(intake: MailIntake) -> None:
    auto = intake.import_mail(mail("ana@example.org", "a1@x", "De vacaciones", Auto_Submitted="auto-replied"))
    own = intake.import_mail(mail(f"Support <{ADDRESS}>", "a2@x", "Our own notice"))
    bulk = intake.import_mail(mail("news@example.org", "a3@x", "Ofertas", Precedence="bulk"))
    assert [r.outcome for r in (auto, own, bulk)] == [Outcome.AUTOMATIC, Outcome.OWN, Outcome.AUTOMATIC]
    assert intake.desk.store.statistics().total_tickets == 0


CORPUS = Path(__file__).resolve().parent / "corpora" / "mail"


def test_an_outlook_reply_with_its_in_reply_to_rewritten_joins_by_the_reply_to_address(intake: MailIntake) -> None:
    opened_by_paul = mail("Paul Martin <paul.martin@contoso.com>", "paul-1@contoso.com", "Invoice address?")
    first = intake.import_mail(opened_by_paul)
    ticket = intake.desk.store.get_ticket(first.record.ticket_id or 0)
    assert ticket is not None
    # The corpus's Outlook reply, addressed to this ticket's real plus-address: In-Reply-To and
    # References name Exchange's own ids, which the desk never sent.
    raw = (CORPUS / "08_outlook_rewritten_in_reply_to.eml").read_bytes()
    real = intake.signer.reply_to(ticket.ticket_number, ticket.id, ticket.user_id).encode()
    raw = raw.replace(b"support+tkt-abcd2345.aaaaaaaaaaaaaaaa@example.com", real)
    raw = raw.replace(b"TKT-ABCD2345", ticket.ticket_number.encode())
    result = intake.import_mail(raw)
    assert result.outcome is Outcome.REPLY and result.record.ticket_id == ticket.id
    (message,) = intake.desk.store.list_messages(ticket.id)
    assert message.message == "Hi,\n\nThe new address is 12 Baker Street – please update it.\n\nKind regards\nPaul"


def test_a_sender_the_directory_refuses_is_recorded_and_blocks_nothing(intake: MailIntake) -> None:
    raw = mail('"quoted local part"@example.org', "quoted@example.org", "Hola")
    refused = intake.import_mail(raw)
    assert refused.outcome is Outcome.REJECTED and refused.record.reason is not None
    assert refused.record.reason.startswith("refused: ") and refused.record.ticket_id is None
    assert intake.import_mail(raw).duplicate
    assert intake.import_mail(mail("next@example.org", "next@x", "Hola")).outcome is Outcome.NEW_TICKET
