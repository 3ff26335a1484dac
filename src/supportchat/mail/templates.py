"""The channel's mail in Spanish and English, chosen by the contact's locale.

Each mail has a text part and an HTML part. The HTML part escapes every piece
of stored text (subject, messages, names) with :func:`html.escape`, so a
message that contains markup shows it as text in any mail client. The first
line of both is the reply marker: the intake cuts a reply there.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["MARKERS", "Rendered", "Template", "locale_of", "render"]


@dataclass(frozen=True, slots=True)
class Template:
    marker: str
    reply_intro: str
    ack_subject: str
    ack_body: str
    notice_intro: str
    footer: str
    no_text: str
    no_subject: str


TEMPLATES = {
    "en": Template(
        marker="##- Please type your reply above this line -##",
        reply_intro="Support replied on your request {number}:",
        ack_subject="We received your request",
        ack_body="Thank you for writing. Your request is {number}; we will answer by mail.",
        notice_intro="Support replied on your ticket {number} ({subject}):",
        footer="Ticket {number} · {site}",
        no_text="(no text)",
        no_subject="(no subject)",
    ),
    "es": Template(
        marker="##- Escriba su respuesta encima de esta línea -##",
        reply_intro="Soporte respondió a su solicitud {number}:",
        ack_subject="Hemos recibido su solicitud",
        ack_body="Gracias por escribirnos. Su solicitud es {number}; le responderemos por correo.",
        notice_intro="Soporte respondió a su ticket {number} ({subject}):",
        footer="Ticket {number} · {site}",
        no_text="(sin texto)",
        no_subject="(sin asunto)",
    ),
}
#: Every language's marker (a reply may come from a contact whose locale changed).
MARKERS = tuple(template.marker for template in TEMPLATES.values())


def locale_of(locale: str | None) -> str:
    """The template language for a contact's locale (``es``, ``es-MX``… → ``es``; anything else ``en``)."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return language if language in TEMPLATES else "en"


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    html: str


def render(locale: str | None, intro: str, body: str, footer: str) -> Rendered:
    """The text and HTML parts of a mail: marker, intro, body (stored text), footer."""
    template = TEMPLATES[locale_of(locale)]
    text = f"{template.marker}\n\n{intro}\n\n{body}\n\n-- \n{footer}\n"
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
    markup = (
        "<!DOCTYPE html><html><body>"
        f'<div style="color:#888888">{html.escape(template.marker)}</div>'
        f"<p>{html.escape(intro)}</p>{paragraphs}"
        f'<p style="color:#888888">{html.escape(footer)}</p>'
        "</body></html>"
    )
    return Rendered(text, markup)
