"""The signed thread token, and where outbound mail carries it.

The token is an HMAC-SHA256, keyed with the channel's secret, over the
ticket's id and its requester's user id, cut to 16 base32 characters (80
bits). Outbound mail carries it three ways, so that a reply finds its
ticket whatever the mail client keeps:

- the Message-ID: ``<tkt-abcd2345.<token>.<unique>@domain>`` (replies quote
  it in ``In-Reply-To`` / ``References``, unless Outlook rewrote them);
- the Reply-To plus-address: ``support+tkt-abcd2345.<token>@domain`` (what
  the reply is addressed to);
- the subject tag ``[TKT-ABCD2345]`` (people keep subjects; the tag alone is
  not trusted: a reply that only has the tag joins when its sender is the
  ticket's requester or someone the requester copied).

A claim whose token does not verify is a forgery (or a mangled address): the
mail never joins that ticket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = ["Claim", "ThreadSigner", "subject_tag"]

_NUMBER = r"tkt-[0-9a-hjkmnp-tv-z]{8}"
_SIGNED = re.compile(rf"({_NUMBER})\.([a-z2-7]+)", re.IGNORECASE)
_TAG = re.compile(r"\[(TKT-[0-9A-Z]{8})\]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Claim:
    """A ticket a mail claims to belong to: the number, the token if it carried one, and where it was."""

    ticket_number: str
    token: str | None
    source: str


def subject_tag(ticket_number: str) -> str:
    return f"[{ticket_number}]"


class ThreadSigner:
    """Signs and reads thread tokens for the mailbox ``address`` (``local@domain``) with ``secret``."""

    def __init__(self, secret: str | bytes, address: str) -> None:
        if not secret:
            raise ValueError("the email channel needs a secret to sign its thread tokens")
        self._key = secret.encode() if isinstance(secret, str) else secret
        self.address = address.lower()
        self.local, _, self.domain = self.address.rpartition("@")
        if not self.local or not self.domain:
            raise ValueError(f"not a mailbox address: {address!r}")

    def token(self, ticket_id: int, user_id: int) -> str:
        digest = hmac.new(self._key, f"supportchat-mail-v1:{ticket_id}:{user_id}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest).decode().lower()[:16]

    def verify(self, token: str, ticket_id: int, user_id: int) -> bool:
        return hmac.compare_digest(self.token(ticket_id, user_id), token.lower())

    def message_id(self, ticket_number: str, ticket_id: int, user_id: int, unique: str) -> str:
        """A Message-ID (without brackets) carrying the token; ``unique`` tells this mail from the ticket's others."""
        return f"{ticket_number.lower()}.{self.token(ticket_id, user_id)}.{unique}@{self.domain}"

    def reply_to(self, ticket_number: str, ticket_id: int, user_id: int) -> str:
        return f"{self.local}+{ticket_number.lower()}.{self.token(ticket_id, user_id)}@{self.domain}"

    def is_ours(self, address: str) -> bool:
        """``address`` is the mailbox itself or one of its plus-addresses."""
        local, _, domain = address.lower().rpartition("@")
        return domain == self.domain and (local == self.local or local.startswith(self.local + "+"))

    def claims(self, *, addresses: list[str], message_ids: list[str], subject: str) -> list[Claim]:
        """The tickets a mail claims, strongest first: plus-addresses, our Message-IDs, then subject tags."""
        found: list[Claim] = []
        for address in addresses:
            local, _, domain = address.rpartition("@")
            plus = local[len(self.local) + 1 :] if local.startswith(self.local + "+") else ""
            if domain == self.domain and (m := _SIGNED.fullmatch(plus)) is not None:
                found.append(Claim(m.group(1).upper(), m.group(2), "reply-to address"))
        for message_id in message_ids:
            local, _, domain = message_id.rpartition("@")
            if domain == self.domain and (m := _SIGNED.match(local)) is not None:
                found.append(Claim(m.group(1).upper(), m.group(2), "message id"))
        for tag in _TAG.findall(subject):
            found.append(Claim(tag.upper(), None, "subject tag"))
        return found
