"""Property tests for the pure rules: sanitising, ticket numbers, the lifecycle."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from supportchat import TicketStatus, ValidationError
from supportchat.errors import InvalidTransition, TicketClosed
from supportchat.numbers import ALPHABET, TICKET_NUMBER_PATTERN, lookup_candidates, new_ticket_number
from supportchat.rules import check_transition, clean_text, sanitize

TAG = re.compile(r"<[A-Za-z!/?]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

markup = st.sampled_from(
    [
        "<b>",
        "</b>",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "&lt;i&gt;",
        "&amp;lt;b&amp;gt;",
        "<!-- c -->",
        "<svg/onload=alert(1)>",
        "&#60;p&#62;",
        "<",
        ">",
        "&",
        "<a href='javascript:alert(1)'>x</a>",
        "\x00",
        "\r\n",
        "\x1b[31m",
        "e\u0301",
        "  ",
    ]
)
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
mixed = st.lists(any_text | markup, max_size=8).map("".join)


@given(mixed)
@example("&lt;&lt;b&gt;&gt;")
@example("<<b>>")
def test_sanitising_is_idempotent(text: str) -> None:
    once = sanitize(text)
    assert sanitize(once) == once


@given(mixed)
def test_no_tag_and_no_control_character_survives(text: str) -> None:
    clean = sanitize(text)
    assert not TAG.search(clean)
    assert not CONTROL.search(clean)
    assert clean == clean.strip()
    assert unicodedata.is_normalized("NFC", clean)


plain = st.text(alphabet=st.sampled_from("abcXYZ019 .,!?\n\t-"), min_size=1, max_size=40)
comparison = st.lists(plain | st.sampled_from([" < ", " > ", " & ", " <= ", " >= ", " <> "]), min_size=1, max_size=6)


@given(comparison.map("".join))
@example("a < b > c")
@example("5 > 3 & 2")
def test_plain_text_with_comparisons_reads_the_same(text: str) -> None:
    assert sanitize(text) == text.strip()


def test_documented_examples() -> None:
    assert sanitize("a < b > c") == "a < b > c"
    assert sanitize("5 > 3 & 2") == "5 > 3 & 2"
    assert sanitize("<b>bold</b> move") == "bold move"
    assert sanitize("<script>alert(1)</script>hi") == "hi"
    assert sanitize("&lt;script&gt;alert(1)&lt;/script&gt;hi") == "hi"
    assert sanitize(" tab\there\r\nnew line\x07 ") == "tab\there\nnew line"
    assert sanitize("cafe\u0301") == "caf\u00e9"


@given(st.integers(min_value=1, max_value=220), st.sampled_from(["<b>", "<i></i>", "  ", "\x00", "<script>x</script>"]))
def test_limits_count_characters_after_sanitising(length: int, noise: str) -> None:
    text = noise + "x" * length + noise
    if length <= 200:
        assert clean_text("subject", text, 200) == "x" * length
    else:
        with pytest.raises(ValidationError) as caught:
            clean_text("subject", text, 200)
        assert caught.value.field == "subject"


@pytest.mark.parametrize("text", ["", "   ", "<b></b>", "<script>only script</script>", "\x00\x01", "<!-- -->"])
def test_text_empty_after_sanitising_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="description"):
        clean_text("description", text, 10_000)


def test_generated_numbers_match_the_spec() -> None:
    numbers = {new_ticket_number() for _ in range(5000)}
    assert len(numbers) == 5000
    assert all(TICKET_NUMBER_PATTERN.match(n) for n in numbers)
    # Every character of the alphabet shows up: the draw is not biased to a subset.
    assert set("".join(n[4:] for n in numbers)) == set(ALPHABET)


@given(st.text(alphabet=ALPHABET, min_size=8, max_size=8))
def test_a_number_is_found_however_it_is_read_aloud(body: str) -> None:
    number = "TKT-" + body
    spoken = ("tkt-" + body.lower()).replace("0", "o").replace("1", "l")
    assert number in lookup_candidates(spoken)
    assert lookup_candidates(number)[0] == number


LIFECYCLE = {
    # from: the statuses it may move to (spec §3); itself is always an idempotent success.
    "open": {"in_progress", "resolved", "closed"},
    "in_progress": {"open", "resolved", "closed"},
    "resolved": {"open", "in_progress", "closed"},
    "closed": set(),
}


@pytest.mark.parametrize("current", list(TicketStatus))
@pytest.mark.parametrize("target", list(TicketStatus))
def test_lifecycle_table(current: TicketStatus, target: TicketStatus) -> None:
    if target is current or target.value in LIFECYCLE[current.value]:
        check_transition(current, target)
    elif current is TicketStatus.CLOSED:
        with pytest.raises(TicketClosed):
            check_transition(current, target)
    else:  # pragma: no cover - the table allows every other move
        with pytest.raises(InvalidTransition):
            check_transition(current, target)
