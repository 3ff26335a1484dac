"""Signed attachment URLs: who may fetch which attachment until when, under an HMAC of the desk's secret.

A URL names the attachment, the variant (the file or its thumbnail), the
viewer it was minted for (``u<id>`` or ``a<id>``) and its expiry; the
signature covers all four, so it opens nothing else. Serving still checks
that the viewer may see the attachment's ticket now (spec §14: the owner or
an admin). URLs are minted for each response and never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from ..models import Actor, ActorKind
from .errors import UrlExpired

__all__ = ["UrlSigner"]

_CONTEXT = b"supportchat attachment urls v1"


class UrlSigner:
    """Mints and checks the query of an attachment URL; ``lifetime`` seconds each."""

    def __init__(
        self, secret: str | bytes, *, lifetime: float = 3600.0, clock: Callable[[], float] = time.time
    ) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        if len(raw) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        # A key of its own, so a signature here is never a valid token elsewhere.
        self._key = hmac.new(raw, _CONTEXT, hashlib.sha256).digest()
        self.lifetime = lifetime
        self._clock = clock

    def _signature(self, attachment_id: int, variant: str, viewer: str, expires: int) -> str:
        message = f"{attachment_id}:{variant}:{viewer}:{expires}".encode()
        return base64.urlsafe_b64encode(hmac.new(self._key, message, hashlib.sha256).digest()).rstrip(b"=").decode()

    def sign(self, attachment_id: int, variant: str, viewer: Actor) -> dict[str, str]:
        """The query parameters of a URL for ``viewer`` to fetch ``variant`` of the attachment."""
        who = _viewer(viewer)
        expires = int(self._clock() + self.lifetime)
        query = {"expires": str(expires), "viewer": who, "sig": self._signature(attachment_id, variant, who, expires)}
        return {"variant": variant, **query} if variant != "file" else query

    def verify(self, attachment_id: int, variant: str, query: Mapping[str, str]) -> Actor | None:
        """The viewer a valid signature names; ``None`` if it is absent or not for this attachment and variant.

        Raises :class:`UrlExpired` for a genuine signature whose time has passed.
        """
        signature, viewer, expires = query.get("sig"), query.get("viewer", ""), query.get("expires", "")
        if not signature or not expires.isdecimal() or len(expires) > 12:
            return None
        expected = self._signature(attachment_id, variant, viewer, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return None
        if int(expires) < self._clock():
            raise UrlExpired("this attachment URL has expired: read the message again for a fresh one")
        return _actor(viewer)


def _viewer(actor: Actor) -> str:
    if actor.id is None:
        raise ValueError("a signed URL is minted for a user or an admin")
    return ("u" if actor.kind is ActorKind.USER else "a") + str(actor.id)


def _actor(viewer: str) -> Actor | None:
    kind, number = viewer[:1], viewer[1:]
    if not number.isdecimal() or not number.isascii():
        return None
    return Actor.user(int(number)) if kind == "u" else Actor.admin(int(number)) if kind == "a" else None
