"""Canned-response templates: unknown variables refused when saved, no blank ever rendered."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportchat.automation.templates import VARIABLES, check_template, render
from supportchat.errors import ValidationError

# Text without braces, so every brace in a generated template is one we put there.
plain = st.text(st.characters(blacklist_characters="{}|", blacklist_categories=("Cs",)), max_size=30)
known = st.sampled_from(sorted(VARIABLES))
values = st.text(st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(st.lists(st.tuples(plain, known), max_size=5), plain, st.data())
def test_a_template_of_known_variables_renders_every_value_and_no_brace(
    pieces: list[tuple[str, str]], tail: str, data: st.DataObject
) -> None:
    text = "".join(f"{before}{{{{{name}}}}}" for before, name in pieces) + tail
    template = check_template(text)
    assert template.variables == tuple(dict.fromkeys(name for _b, name in pieces))
    given_values = {name: data.draw(values) for name in template.variables}
    rendered = render(template, given_values)
    expected = "".join(before + given_values[name] for before, name in pieces) + tail
    assert rendered == expected


@given(plain, st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}", fullmatch=True))
def test_an_unknown_variable_is_refused_when_saved_and_named(before: str, name: str) -> None:
    if name in VARIABLES:
        return
    with pytest.raises(ValidationError) as refused:
        check_template(f"{before}{{{{{name}}}}}")
    assert name in str(refused.value) and refused.value.field == "content"


@pytest.mark.parametrize("text", ["Hola {{user.name}", "{ticket.number}} listo", "{{}}", "{{ ticket }}"])
def test_a_brace_that_opens_no_variable_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        check_template(text)


def test_a_missing_value_is_an_error_not_a_blank_unless_a_fallback_is_given() -> None:
    template = check_template("Hola {{user.name}}, tu ticket {{ticket.number}} está en curso")
    with pytest.raises(ValidationError, match=r"user\.name"):
        render(template, {"ticket.number": "TKT-ABC", "user.name": None})
    with_fallback = check_template("Hola {{ user.name | cliente }}, tu ticket {{ticket.number}}")
    assert render(with_fallback, {"ticket.number": "TKT-ABC"}) == "Hola cliente, tu ticket TKT-ABC"
