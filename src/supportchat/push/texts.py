"""What a push says, in the recipient's language (Spanish and English).

The language is the first subtag of the device's locale (``es-MX`` →
``es``), else the contact's locale from the directory, else the desk's
default. Bodies are cut at a word boundary so that a long reply does not
push the message past FCM's 4 KiB.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import PushEvent

__all__ = ["LANGUAGES", "Text", "language_of", "shorten", "test_text", "text_for"]

#: Characters of a reply or subject shown in a notification's body.
BODY_CHARACTERS = 240


@dataclass(frozen=True, slots=True)
class Text:
    title: str
    body: str


#: (title, body) per event; ``{many}`` titles are for replies coalesced into one push.
_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "es": {
        PushEvent.ADMIN_REPLY: ("Soporte respondió en {number}", "{text}"),
        PushEvent.RESOLVED: ("Ticket {number} resuelto", "Tu consulta «{subject}» se marcó como resuelta."),
        PushEvent.NEW_TICKET: ("Nuevo ticket {number}", "{subject}"),
        PushEvent.USER_REPLY: ("Nueva respuesta en {number}", "{text}"),
        "many": ("{count} respuestas nuevas en {number}", "{text}"),
    },
    "en": {
        PushEvent.ADMIN_REPLY: ("Support replied on {number}", "{text}"),
        PushEvent.RESOLVED: ("Ticket {number} resolved", "Your request “{subject}” was marked resolved."),
        PushEvent.NEW_TICKET: ("New ticket {number}", "{subject}"),
        PushEvent.USER_REPLY: ("New reply on {number}", "{text}"),
        "many": ("{count} new replies on {number}", "{text}"),
    },
}
LANGUAGES = tuple(_TEXTS)
_TEST = {
    "es": Text("Notificaciones activadas", "Esta es una notificación de prueba de soporte."),
    "en": Text("Notifications are on", "This is a test notification from support."),
}


def language_of(*locales: str | None, default: str = "es") -> str:
    """The first of ``locales`` whose language we have texts in (``es-MX`` → ``es``), else ``default``."""
    for locale in locales:
        if locale:
            language = locale.replace("_", "-").split("-", 1)[0].lower()
            if language in _TEXTS:
                return language
    return default if default in _TEXTS else LANGUAGES[0]


def shorten(text: str, limit: int = BODY_CHARACTERS) -> str:
    """``text`` on one line, cut to ``limit`` characters at a word boundary (with "…")."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def text_for(
    event: PushEvent, language: str, *, number: str, subject: str = "", text: str = "", coalesced: int = 0
) -> Text:
    """The notification's title and body for ``event`` in ``language``."""
    table = _TEXTS.get(language, _TEXTS[LANGUAGES[0]])
    key: PushEvent | str = "many" if coalesced and event.coalesces else event
    title, body = table[key]
    values = {"number": number, "subject": shorten(subject), "text": shorten(text), "count": coalesced + 1}
    return Text(title.format(**values), body.format(**values))


def test_text(language: str) -> Text:
    """What ``supportchat push test`` sends."""
    return _TEST.get(language, _TEST[LANGUAGES[0]])
