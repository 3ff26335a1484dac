"""Quote and signature stripping, in Spanish and English: our marker first, mail-parser-reply as fallback."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportchat.mail import strip_quoted
from supportchat.mail.templates import MARKERS, TEMPLATES, render

ATTRIBUTIONS = [
    "On Tue, Dec 1, 2026 at 10:00 AM Acme Support <support@example.com> wrote:",
    "On Tue, Dec 1, 2026 at 10:00 AM Acme Support <\nsupport@example.com> wrote:",
    "El mar, 1 dic 2026 a las 10:00, Acme (<soporte@example.com>) escribió:",
    "El 1 dic 2026, a las 10:00, Acme <soporte@example.com> escribió:",
    "On 1 Dec 2026, at 10:00, Acme Support <support@example.com> wrote:",
    "Am 01.12.26 um 10:00 schrieb Acme Support:",
    "Le 1 déc. 2026 à 10:00, Acme Support a écrit :",
    "Den 1 dec 2026 kl. 10:00 skrev Acme Support <support@example.com>:",
]

#: What a person writes: lines of words, none of them a quote, an attribution or a signature delimiter.
_WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzáéíóúñ¿?¡!.,0123456789"), min_size=1, max_size=12)
_LINE = st.lists(_WORD, min_size=1, max_size=8).map(" ".join)
REPLIES = st.lists(_LINE, min_size=1, max_size=6).map("\n".join)


def quoted(locale: str) -> str:
    """Our own outbound text as a client quotes it."""
    text = render(locale, "Support replied:", "Try again, please.\n\nThanks.", "Ticket TKT-ABCD2345 · Acme").text
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


@given(reply=REPLIES, attribution=st.sampled_from(ATTRIBUTIONS), locale=st.sampled_from(sorted(TEMPLATES)))
def test_a_reply_above_our_quoted_mail_keeps_exactly_what_was_written(
    reply: str, attribution: str, locale: str
) -> None:
    mail = f"{reply}\n\n{attribution}\n\n{quoted(locale)}\n"
    assert strip_quoted(mail) == reply.strip()


@given(reply=REPLIES, locale=st.sampled_from(sorted(TEMPLATES)))
def test_a_reply_with_our_marker_unquoted_is_cut_there(reply: str, locale: str) -> None:
    marker = TEMPLATES[locale].marker
    assert strip_quoted(f"{reply}\n\n{marker}\n\nSupport replied: …") == reply.strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # No marker (a reply to a mail of someone else's, or a client that rewrote the quote): the fallback.
        (
            "Thanks, it works.\n\nOn Mon, Nov 30, 2026 at 9:00 AM Bob <bob@example.org> wrote:\n> hi\n",
            "Thanks, it works.",
        ),
        (
            "Gracias, ya funciona.\n\nEl lun, 30 nov 2026 a las 9:00, Bob (<bob@example.org>) escribió:\n> hola\n",
            "Gracias, ya funciona.",
        ),
        (
            "Done.\n\n-----Original Message-----\nFrom: Bob <bob@example.org>\nSent: Monday\nSubject: x\n\nold\n",
            "Done.",
        ),
        (
            "Hecho.\n\n________________________________\nDe: Bob <bob@example.org>\nEnviado: lunes\nPara: Ana\n"
            "Asunto: x\n\nviejo\n",
            "Hecho.",
        ),
        ("Sí, correcto.\n\nSaludos,\nAna\n--\nAna García\nEnviado desde mi iPhone\n", "Sí, correcto.\n\nSaludos,\nAna"),
        ("Works now.\n\nSent from my iPhone\n", "Works now."),
        ("Only text, nothing quoted.", "Only text, nothing quoted."),
        # Quoted lines in the middle of a reply are the person's own (inline answers keep their context).
        (
            "> Which seat?\nWindow, please.\n> And the meal?\nVegetarian.",
            "> Which seat?\nWindow, please.\n> And the meal?\nVegetarian.",
        ),
        # A reply that is nothing but the quote comes back empty.
        (f"> {MARKERS[0]}\n> old text\n", ""),
    ],
)
def test_fallback_quotes_and_signatures_in_spanish_and_english(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected
