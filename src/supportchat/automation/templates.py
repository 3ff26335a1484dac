"""Canned-response templates (spec §18): ``{{ticket.number}}``-style variables, checked when saved.

A template is plain text with variables in double braces. Which variables
exist is fixed here (:data:`VARIABLES`); a template naming any other, or with
a brace that opens no variable, is refused with a
:class:`~supportchat.errors.ValidationError` when it is saved
(:func:`check_template`), so an agent learns of a typo in the panel and a
customer never reads ``{{user.nmae}}``. Rendering (:func:`render`) refuses
just as clearly a variable whose value is unknown for this ticket (a contact
with no name on file) instead of leaving a blank in the customer's message;
a template may give a fallback for that case: ``{{user.name|cliente}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ValidationError

__all__ = ["VARIABLES", "Template", "check_template", "render"]

#: Every variable a template may name, with what it stands for.
VARIABLES: Mapping[str, str] = {
    "ticket.number": "the ticket's number (TKT-…)",
    "ticket.subject": "the ticket's subject",
    "ticket.status": "the ticket's status",
    "user.name": "the contact's display name",
    "user.email": "the contact's e-mail address",
    "agent.name": "the replying agent's display name",
}

_VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*(?:\|([^{}|]*))?\}\}")
_BRACES = re.compile(r"\{\{|\}\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A checked template: its text and the variables it uses, in order of first use."""

    text: str
    variables: tuple[str, ...]


def check_template(text: str, *, field: str = "content") -> Template:
    """``text`` as a template, or :class:`ValidationError` naming each unknown variable or stray brace."""
    unknown = [m.group(1) for m in _VARIABLE.finditer(text) if m.group(1) not in VARIABLES]
    if unknown:
        raise ValidationError(
            field,
            f"unknown variable{'s' if len(unknown) > 1 else ''}: " + ", ".join(sorted(set(unknown))),
            allowed=list(VARIABLES),
        )
    stray = _BRACES.search(_VARIABLE.sub("", text))
    if stray is not None:
        raise ValidationError(field, f"'{stray.group()}' opens or closes no variable (write {{{{ticket.number}}}})")
    used = tuple(dict.fromkeys(m.group(1) for m in _VARIABLE.finditer(text)))
    return Template(text, used)


def render(template: Template, values: Mapping[str, str | None], *, field: str = "content") -> str:
    """The template with each variable replaced by ``values[name]`` (or its fallback).

    A variable with no value (missing or ``None`` or empty) and no fallback
    raises :class:`ValidationError` naming it: nothing is sent with a blank.
    """

    def value(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        given = values.get(name)
        if given:
            return given
        if fallback is not None and fallback.strip():
            return fallback.strip()
        raise ValidationError(field, f"no value for {{{{{name}}}}} on this ticket (give a fallback: {{{{{name}|…}}}})")

    return _VARIABLE.sub(value, template.text)
