"""Ticket numbers: ``TKT-`` and 8 characters of Crockford base32 (spec §2).

Numbers are drawn at random from :mod:`secrets` (40 bits), so a number says
nothing about how many tickets exist. Uniqueness is the database's job; the
desk draws again when a store reports a collision.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["ALPHABET", "TICKET_NUMBER_PATTERN", "lookup_candidates", "new_ticket_number"]

#: Crockford's base32: digits and capitals without I, L, O and U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TICKET_NUMBER_PATTERN = re.compile(r"^TKT-[0-9A-HJKMNP-TV-Z]{8}$")
PREFIX = "TKT-"
_READ_ALOUD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_ticket_number() -> str:
    """A fresh random ticket number."""
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    chars = [ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5)]
    return PREFIX + "".join(chars)


def lookup_candidates(text: str) -> list[str]:
    """The stored numbers ``text`` may mean, most literal first.

    A person may type lower case or read ``O`` as ``0`` and ``I``/``L`` as
    ``1``. Numbers adopted from an older system keep whatever form they had,
    so the text as given is tried before its normalised forms.
    """
    raw = text.strip()
    candidates = [raw]
    upper = raw.upper()
    if upper.startswith(PREFIX):
        normalised = PREFIX + upper[len(PREFIX) :].translate(_READ_ALOUD)
        candidates += [upper, normalised]
    return list(dict.fromkeys(candidates))
