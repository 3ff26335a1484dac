"""Reading a raw mail (RFC 5322 / MIME) with the standard library's ``email`` package, policy ``default``.

:func:`parse_mail` gives a :class:`ParsedMail`: the addresses and threading
headers, the subject, the body as text (the ``text/plain`` part, else the
``text/html`` part read by :func:`~.htmltext.html_to_text`), and the
attachments and inline images as :class:`MailPart` s. Every charset Python
knows is decoded; a part in an unknown or wrong charset is decoded as UTF-8
with replacement characters rather than lost, and header defects do not stop
the parse. The raw bytes stay with the result: the channel keeps them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from .htmltext import html_to_text

__all__ = ["MailPart", "ParsedMail", "message_ids", "normalize_message_id", "parse_mail"]

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_REPORTS = frozenset({"message/delivery-status", "message/disposition-notification", "message/feedback-report"})


def normalize_message_id(value: str) -> str | None:
    """``local@domain`` of a Message-ID header value (brackets and case of the domain dropped), if any."""
    found = _MESSAGE_ID.search(value) or re.fullmatch(r"\s*([^<>\s]+@[^<>\s]+)\s*", value)
    if found is None:
        return None
    local, at, domain = found.group(1).rpartition("@")
    return f"{local}@{domain.lower()}" if at else found.group(1)


def message_ids(value: str | None) -> list[str]:
    """Every Message-ID in an ``In-Reply-To`` or ``References`` value, in order."""
    if not value:
        return []
    found = [normalize_message_id(f"<{m}>") for m in _MESSAGE_ID.findall(value)]
    return [m for m in found if m]


@dataclass(frozen=True, slots=True)
class MailPart:
    """An attachment or inline image: its name, type, bytes, and Content-ID for inline ones."""

    filename: str | None
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What the channel reads of one mail."""

    raw: bytes
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender: str | None
    sender_name: str | None
    to: list[str]
    cc: list[str]
    #: Envelope and delivery headers naming the mailbox (Delivered-To, X-Original-To, Envelope-To).
    delivered_to: list[str]
    text: str
    #: The body came from an HTML part (no text/plain alternative).
    from_html: bool
    parts: list[MailPart] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"

    @property
    def key(self) -> str:
        """The de-duplication key: the Message-ID, or the SHA-256 of the raw bytes for mail without one."""
        return self.message_id or "sha256:" + hashlib.sha256(self.raw).hexdigest()

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def _addresses(message: Message, *names: str) -> list[str]:
    values: list[str] = []
    for name in names:
        values.extend(str(v) for v in message.get_all(name, []))
    found = []
    for _, address in getaddresses(values):
        address = address.strip().lower()
        if "@" in address and address not in found:
            found.append(address)
    return found


def _sender(message: Message) -> tuple[str | None, str | None]:
    header = message.get("From")
    if header is None:
        return None, None
    addresses = getattr(header, "addresses", None)
    if addresses:
        first: Address = addresses[0]
        address = first.addr_spec.strip().lower()
        return (address if "@" in address else None), (first.display_name or None)
    name, address = parseaddr(str(header))
    return (address.lower() if "@" in address else None), (name or None)


def _decoded(part: Message) -> str:
    """A text part's content in any charset; unknown or lying charsets become UTF-8 with replacements.

    A part that declares no charset but carries 8-bit bytes (common from
    scripts) is read as UTF-8 when it is valid UTF-8, else as Windows-1252.
    """
    if part.get_content_charset() is None:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and not payload.isascii():
            try:
                return payload.decode("utf-8")
            except UnicodeDecodeError:
                return payload.decode("cp1252", "replace")
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else str(part.get_payload()).encode("utf-8", "replace")
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset)
    except (LookupError, UnicodeError):
        return data.decode("utf-8", "replace")


def _leaves(part: Message) -> Iterator[Message]:
    """The parts of a message that hold content, without descending into attached messages and reports."""
    if part.get_content_maintype() == "message":
        yield part
    elif part.is_multipart():
        for child in part.get_payload():
            yield from _leaves(child)  # type: ignore[arg-type]
    else:
        yield part


def _attachment(part: Message, content_type: str) -> MailPart:
    if content_type == "message/rfc822":
        inner = part.get_payload()
        attached = inner[0] if isinstance(inner, list) and inner else None
        data = attached.as_bytes() if isinstance(attached, Message) else b""
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
    content_id = part.get("Content-ID")
    disposition = part.get_content_disposition()
    return MailPart(
        filename=part.get_filename(),
        content_type=content_type,
        data=data,
        content_id=None if content_id is None else str(content_id).strip().strip("<>"),
        inline=disposition == "inline" or (disposition is None and content_id is not None),
    )


def _parts(message: EmailMessage) -> tuple[str | None, str | None, list[MailPart]]:
    """The first text/plain and text/html bodies, and the attachments and inline parts."""
    plain: str | None = None
    html: str | None = None
    parts: list[MailPart] = []
    for part in _leaves(message):
        content_type = part.get_content_type()
        is_body = part.get_content_disposition() != "attachment" and part.get_filename() is None
        if is_body and content_type == "text/plain" and plain is None:
            plain = _decoded(part)
        elif is_body and content_type == "text/html" and html is None:
            html = _decoded(part)
        elif content_type in _REPORTS:
            continue  # the machine-readable half of a bounce or read report: not an attachment
        else:
            parts.append(_attachment(part, content_type))
    return plain, html, parts


def parse_mail(raw: bytes) -> ParsedMail:
    """Read ``raw`` (the bytes of one RFC 822 message); never raises on malformed mail."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    headers: dict[str, str] = {}
    for name, value in message.items():
        try:
            text = str(value)
        except Exception:  # a header the policy cannot render: keep its raw form
            text = str(value.__class__)
        headers.setdefault(name.lower(), text)
    plain, html, parts = _parts(message)
    if plain is not None and plain.strip():
        text, from_html = plain, False
    elif html is not None:
        text, from_html = html_to_text(html), True
    else:
        text, from_html = plain or "", False
    sender, sender_name = _sender(message)
    message_id = normalize_message_id(headers.get("message-id", ""))
    return ParsedMail(
        raw=raw,
        message_id=message_id,
        in_reply_to=message_ids(headers.get("in-reply-to")),
        references=message_ids(headers.get("references")),
        subject=" ".join(headers.get("subject", "").split()),
        sender=sender,
        sender_name=sender_name,
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        delivered_to=_addresses(message, "Delivered-To", "X-Original-To", "Envelope-To"),
        text=text.replace("\r\n", "\n"),
        from_html=from_html,
        parts=parts,
        headers=headers,
        content_type=message.get_content_type(),
    )
