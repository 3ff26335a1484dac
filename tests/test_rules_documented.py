"""The rules the OpenAPI document states are the rules: bounds, spellings and text patterns live in rules.py."""

from __future__ import annotations

import re

import pytest

from supportchat import Actor, InMemoryStore, SupportDesk, ValidationError
from supportchat.errors import NotFound
from supportchat.rules import (
    FILE_URL_PATTERN,
    MAX_ID,
    UNASSIGNED,
    VISIBLE_TEXT_PATTERN,
    Limits,
    as_id,
    is_blank,
    parse_assignee_filter,
    parse_file_url,
    parse_page,
    parse_path_id,
    parse_positive_int,
    sanitize,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("42", 42), (42.0, 42), (46260279965778.0, 46260279965778), (MAX_ID, MAX_ID), (str(MAX_ID), MAX_ID)],
)
def test_an_id_is_read_from_ints_digits_and_integral_numbers(value: object, expected: int) -> None:
    assert parse_positive_int("user_id", value) == expected
    assert as_id(value) == expected


@pytest.mark.parametrize(
    "value", [0, -1, MAX_ID + 1, str(MAX_ID + 1), "9" * 5000, 2.5, float("inf"), True, "", " 5", "5 ", "٥", None, []]
)
def test_anything_else_is_not_an_id(value: object) -> None:
    with pytest.raises(ValidationError):
        parse_positive_int("user_id", value)
    assert as_id(value) is None


def test_an_id_in_a_path_beyond_every_id_names_nothing() -> None:
    with pytest.raises(NotFound):
        parse_path_id("user_id", str(MAX_ID + 1))
    with pytest.raises(ValidationError):
        parse_path_id("user_id", "abc")
    assert parse_path_id("user_id", "7") == 7


def test_pages_are_bounded_so_offsets_fit_every_backend() -> None:
    limits = Limits(per_page_max=50)
    assert parse_page(limits.page_max, limits) == limits.page_max
    with pytest.raises(ValidationError):
        parse_page(limits.page_max + 1, limits)
    assert (limits.page_max - 1) * limits.per_page_max < 2**31


def test_unassigned_is_spelled_one_way() -> None:
    assert parse_assignee_filter(UNASSIGNED) == UNASSIGNED == "none"
    assert parse_assignee_filter(None) is None and parse_assignee_filter("") is None
    assert parse_assignee_filter("12") == 12
    for other in ("unassigned", "NONE", "null", "nobody"):
        with pytest.raises(ValidationError):
            parse_assignee_filter(other)
    desk = SupportDesk(InMemoryStore())
    desk.create_ticket(Actor.user(1), subject="a", description="b")
    assert desk.list_tickets(Actor.admin(1), assigned_to=UNASSIGNED).total == 1


#: Text and whether it is not blank once sanitised (markup is kept as text): the pattern must agree.
TEXTS = [
    ("hola", True),
    ("  ", False),
    ("\x00\x01\t\n", False),
    ("<b></b>", True),
    ("<b>hola</b>", True),
    ("<!-- nada -->", True),
    ("<?php", True),
    ("a < b > c", True),
    ("5 > 3 & 2", True),
    ("<3", True),
    ("< ", True),
    ("</", True),
    ("<p", True),
    ("<\x01p>x", True),
    ("<\x01p>", True),
    ("\u3000\u2003", False),
    ("\u200b", False),
    ("é", True),
    ("List<String>", True),
    ("<div class='x'>", True),
]


@pytest.mark.parametrize(("text", "kept"), TEXTS)
def test_the_documented_text_pattern_follows_sanitising(text: str, kept: bool) -> None:
    assert (not is_blank(sanitize(text))) is kept, "the table is about today's sanitiser"
    assert bool(re.search(VISIBLE_TEXT_PATTERN, text)) is kept


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://example.com/a.png", True),
        ("HTTP://x", True),
        ("http://a?b", True),
        ("ftp://x", False),
        ("http:///x", False),
        ("http://exa mple.com", False),
        ("http://[", False),
        ("javascript:alert(1)", False),
    ],
)
def test_the_documented_url_pattern_is_what_the_desk_accepts(url: str, accepted: bool) -> None:
    assert bool(re.search(FILE_URL_PATTERN, url)) is accepted
    if accepted:
        assert parse_file_url(url, Limits()) == url
    else:
        with pytest.raises(ValidationError):
            parse_file_url(url, Limits())


def test_a_last_event_id_beyond_every_id_is_refused() -> None:
    from supportchat.realtime.stream import parse_last_event_id

    assert parse_last_event_id(str(MAX_ID)) == MAX_ID
    for value in (str(MAX_ID + 1), "9999999999999999999", "9" * 30):
        with pytest.raises(ValidationError):
            parse_last_event_id(value)
