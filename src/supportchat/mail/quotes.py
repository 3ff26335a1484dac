"""Quoted history and signatures removed from a reply, so the ticket shows what the person wrote.

First the marker line of the desk's own outbound mail (:data:`MARKERS`,
every language the templates have): everything from the marker on is the
quote, and the client's attribution line just above it ("On … wrote:", "El …
escribió:", Outlook's header block) goes with it. Mail without the marker (a
client that dropped it, a reply to another mail of the thread) goes to the
maintained reply parser ``mail-parser-reply`` (English and Spanish), and
then to the attribution patterns it misses (Gmail's Spanish "El …, Nombre
(<correo>) escribió:" among them). A trailing signature after the RFC 3676
delimiter ``-- `` and "Sent from my …" lines are dropped last. A reply that
was nothing but quote comes back empty; the caller says so in the ticket.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

from .templates import MARKERS

__all__ = ["strip_quoted"]

_PARSER = EmailReplyParser(languages=["en", "es"])

#: Lines that start the quoted history in a reply.
_ATTRIBUTION = [
    re.compile(r"^\s*(?:>\s*)*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*(?:>\s*)*El\b.{0,300}\bescribi[óo]:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*(?:>\s*)*Am\b.{0,300}\bschrieb\b.{0,200}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*(?:>\s*)*Le\b.{0,300}\ba [ée]crit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*-{2,}\s*(?:Original Message|Mensaje original)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
]
#: Outlook's reply header: a From/De line followed closely by Sent/Date/Enviado/Fecha.
_HEADER_FROM = re.compile(r"^\s*\**(?:From|De)\s*:\**\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\**(?:Sent|Date|Enviado(?: el)?|Fecha|To|Para|Subject|Asunto)\s*:", re.IGNORECASE)
_SENT_FROM = re.compile(r"^\s*(?:Sent from my|Get Outlook for|Enviado desde mi|Obtener Outlook para)\b", re.IGNORECASE)


def _cut_at_marker(lines: list[str]) -> list[str] | None:
    for index, line in enumerate(lines):
        if any(marker in line for marker in MARKERS):
            return _drop_attribution(lines[:index])
    return None


def _drop_attribution(lines: list[str]) -> list[str]:
    """Lines before a quote, without the trailing attribution and quote-prefixed lines."""
    kept = list(lines)
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    # The attribution may be wrapped over two lines (Gmail wraps long ones).
    for span in (1, 2, 3):
        tail = " ".join(line.strip() for line in kept[-span:])
        if kept and any(p.match(tail) for p in _ATTRIBUTION):
            del kept[-span:]
            break
    else:
        # Above our marker, a last line ending in a colon is the client's attribution in a
        # language without a pattern here ("Den … skrev …:").
        if kept and kept[-1].rstrip().endswith(":") and any(ch.isdigit() for ch in kept[-1]):
            kept.pop()
    header_start = _outlook_header(kept)
    if header_start is not None:
        kept = kept[:header_start]
    return kept


def _outlook_header(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _HEADER_FROM.match(line) and any(_HEADER_NEXT.match(n) for n in lines[index + 1 : index + 4]):
            start = index
            if start > 0 and _ATTRIBUTION[3].match(lines[start - 1]):
                start -= 1
            return start
    return None


def _cut_at_attribution(lines: list[str]) -> list[str]:
    for index in range(len(lines)):
        for span in (1, 2, 3):
            tail = " ".join(line.strip() for line in lines[index : index + span])
            if tail and any(p.match(tail) for p in _ATTRIBUTION):
                return lines[:index]
    header_start = _outlook_header(lines)
    if header_start is not None:
        return lines[:header_start]
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines = lines[:-1]
    return lines


def _drop_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line in ("-- ", "--") and index > 0:
            return lines[:index]
    while lines and (not lines[-1].strip() or _SENT_FROM.match(lines[-1])):
        lines = lines[:-1]
    return lines


def strip_quoted(text: str) -> str:
    """``text`` (a reply's body) without the quoted history and the signature."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept = _cut_at_marker(lines)
    if kept is None:
        parsed = _PARSER.parse_reply(text)
        kept = _cut_at_attribution((parsed if parsed is not None else text).split("\n"))
    return "\n".join(_drop_signature(kept)).strip()
