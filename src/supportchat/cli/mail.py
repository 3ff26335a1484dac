"""``supportchat mail status`` / ``mail import FILE…``, and the email channel's configuration from the environment.

* ``SUPPORTCHAT_MAIL_ADDRESS``: the support mailbox (``support@example.com``); set, it turns the channel on;
* ``SUPPORTCHAT_MAIL_SECRET``: signs the thread tokens (default: derived from ``SUPPORTCHAT_SECRET``);
* ``SUPPORTCHAT_MAIL_INBOUND_SECRET``: the shared secret of ``POST {prefix}/inbound/email``;
* ``SUPPORTCHAT_SMTP_URL``: ``smtp://user:password@host:587?tls=starttls`` (``smtps://`` for TLS from the start);
* ``SUPPORTCHAT_IMAP_URL``: ``imaps://user:password@host/INBOX`` (``imap://`` without TLS), several separated by spaces;
* ``SUPPORTCHAT_MAIL_SITE_NAME``: the name mail is signed with.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, unquote, urlsplit

import typer

from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, handled, out

if TYPE_CHECKING:
    from ..mail import MailSettings

__all__ = ["ADDRESS_VARIABLE", "configured_mail", "mail_app"]

ADDRESS_VARIABLE = "SUPPORTCHAT_MAIL_ADDRESS"

mail_app = typer.Typer(help="The email channel: mailboxes, checkpoints, importing mail.", no_args_is_help=True)


def _smtp(url: str) -> Any:
    from ..mail import SMTPSettings

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise UserError("SUPPORTCHAT_SMTP_URL must be smtp://[user:password@]host[:port][?tls=starttls] or smtps://…")
    asked = parse_qs(parts.query).get("tls", [])
    tls = "ssl" if parts.scheme == "smtps" else (asked[0] if asked else None)
    return SMTPSettings(
        parts.hostname,
        parts.port or (465 if tls == "ssl" else 25),
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        tls=tls,
    )


def _imap(url: str) -> Any:
    from ..mail import ImapMailbox

    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or parts.username is None:
        raise UserError("SUPPORTCHAT_IMAP_URL must be imaps://user:password@host[:port][/folder] (or imap://)")
    secure = parts.scheme == "imaps"
    return ImapMailbox(
        parts.hostname,
        unquote(parts.username),
        unquote(parts.password or ""),
        port=parts.port or (993 if secure else 143),
        ssl=secure,
        folder=unquote(parts.path.strip("/")) or "INBOX",
    )


def configured_mail(environ: Mapping[str, str] = os.environ) -> MailSettings | None:
    """The channel's settings from the environment, or ``None`` when ``SUPPORTCHAT_MAIL_ADDRESS`` is unset."""
    address = environ.get(ADDRESS_VARIABLE)
    if not address:
        return None
    from ..mail import MailSettings
    from .config import read_secret

    secret = environ.get("SUPPORTCHAT_MAIL_SECRET")
    if not secret:
        base = read_secret(create=True, environ=environ) or ""
        # A key of its own, so that a user JWT and a thread token never share one.
        secret = hmac.new(base.encode(), b"supportchat-mail", hashlib.sha256).hexdigest()
    smtp_url = environ.get("SUPPORTCHAT_SMTP_URL")
    try:
        return MailSettings(
            address=address,
            secret=secret,
            site_name=environ.get("SUPPORTCHAT_MAIL_SITE_NAME", "Support"),
            smtp=_smtp(smtp_url) if smtp_url else None,
            inbound_secret=environ.get("SUPPORTCHAT_MAIL_INBOUND_SECRET") or None,
            mailboxes=tuple(_imap(url) for url in environ.get("SUPPORTCHAT_IMAP_URL", "").split()),
        )
    except ValueError as exc:
        raise UserError(f"{ADDRESS_VARIABLE}: {exc}") from None


def _when(seconds: float | None) -> str:
    return "never" if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@mail_app.command("status")
@handled
def status(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """The mailboxes, their checkpoints and last errors, and what the imported mail became."""
    from ..extensions import extension
    from ..mail import MailStore
    from .config import open_session

    settings = configured_mail()
    with open_session(database_url) as session:
        records = extension(session.store, MailStore)  # type: ignore[type-abstract]
        checkpoints = {c.mailbox: c for c in records.checkpoints()}
        counts = records.counts()
    mailboxes = [] if settings is None else [m.key for m in settings.mailboxes]
    names = list(dict.fromkeys([*mailboxes, *checkpoints]))
    if json_output:
        emit_json(
            {
                "address": None if settings is None else settings.address,
                "smtp": settings is not None and settings.smtp is not None,
                "mailboxes": [
                    {"mailbox": name, "configured": name in mailboxes, **vars_of(checkpoints.get(name))}
                    for name in names
                ],
                "mail": counts,
            }
        )
        return
    console = out()
    if settings is None:
        console.print(f"The email channel is off ({ADDRESS_VARIABLE} is not set).", markup=False)
    else:
        sending = "SMTP configured" if settings.smtp is not None else "no SMTP (nothing is sent)"
        console.print(f"Mailbox address {settings.address}; {sending}.", markup=False)
    for name in names:
        found = checkpoints.get(name)
        where = "" if name in mailboxes else " (no longer configured)"
        if found is None:
            console.print(f"{name}{where}: not polled yet", markup=False)
            continue
        line = (
            f"{name}{where}: UIDVALIDITY {found.uidvalidity}, last UID {found.last_uid}, "
            f"{found.imported} imported, polled {_when(found.polled_at)}"
        )
        if found.last_error:
            line += f"; last error at {_when(found.last_error_at)}: {found.last_error}"
        console.print(line, markup=False, soft_wrap=True)
    console.print("mail: " + ", ".join(f"{k} {v}" for k, v in counts.items()), markup=False)


def vars_of(checkpoint: Any) -> dict[str, Any]:
    if checkpoint is None:
        return {}
    return {k: getattr(checkpoint, k) for k in checkpoint.__dataclass_fields__ if k != "mailbox"}


@mail_app.command("import")
@handled
def import_mail(
    files: Annotated[list[Path], typer.Argument(help="Raw RFC 822 files (.eml); - reads one from standard input.")],
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Import mail files as if they had arrived in the mailbox (each once: a repeat is a duplicate)."""
    from ..mail import MailIntake
    from .attachments import configured_attachments
    from .config import open_session

    settings = configured_mail()
    if settings is None:
        raise UserError(f"set {ADDRESS_VARIABLE} (the support mailbox) to import mail")
    raws = []
    for path in files:
        if str(path) == "-":
            raws.append(("-", sys.stdin.buffer.read()))
        elif not path.is_file():
            raise UserError(f"no such file: {path}")
        else:
            raws.append((str(path), path.read_bytes()))
    results = []
    with open_session(database_url) as session:
        intake = MailIntake(session.desk, settings, attachments=configured_attachments())
        for name, raw in raws:
            result = intake.import_mail(raw, mailbox="cli")
            ticket = None if result.record.ticket_id is None else session.store.get_ticket(result.record.ticket_id)
            results.append(
                {
                    "file": name,
                    "outcome": result.outcome.value,
                    "duplicate": result.duplicate,
                    "ticket": None if ticket is None else ticket.ticket_number,
                    "reason": result.record.reason,
                }
            )
    if json_output:
        emit_json(results)
        return
    for found in results:
        line = f"{found['file']}: {found['outcome']}"
        line += f" {found['ticket']}" if found["ticket"] else ""
        line += " (a duplicate: imported before)" if found["duplicate"] else ""
        line += f" ({found['reason']})" if found["reason"] and not found["duplicate"] else ""
        out().print(line, markup=False, soft_wrap=True)
