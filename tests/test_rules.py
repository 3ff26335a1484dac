"""Property tests for the pure rules: sanitising, ticket numbers, the lifecycle."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from supportchat import TicketStatus, ValidationError
from supportchat.errors import InvalidTransition, TicketClosed
from supportchat.markup import neutralise_markup
from supportchat.numbers import ALPHABET, TICKET_NUMBER_PATTERN, lookup_candidates, new_ticket_number
from supportchat.rules import check_transition, clean_text, sanitize

from .markup_oracle import active_anywhere

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")

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
        "=",
        '"',
        "'",
        "/",
        "<a ",
        " onclick=",
        " style=",
        " href=",
        "<style>",
        "<b <style>",
        "x=a<style",
        "<List<String>>",
        "<a href='javascript:alert(1)'>x</a>",
        "\x00",
        "\r\n",
        "\x1b[31m",
        "e\u0301",
        "\u202e",
        "\u200b",
        "  ",
    ]
)
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
mixed = st.lists(any_text | markup, max_size=8).map("".join)


@given(mixed)
@example("&lt;&lt;b&gt;&gt;")
@example("<<b>>")
@example("<b <b <b <style>")
@example("<b x=a<b x=a<style>")
def test_sanitising_is_idempotent(text: str) -> None:
    once = sanitize(text)
    assert sanitize(once) == once


@given(mixed)
@example("<b <style>x")
@example('<noscript><p title="</noscript><img src=x onerror=alert(1)>">')
@example("<a title='>' onclick=alert(1)>")
def test_nothing_active_and_no_control_character_survives(text: str) -> None:
    """The precise promise: parsed as HTML from its start or from any tag, nothing can run, load or style."""
    clean = sanitize(text)
    assert active_anywhere(clean) == []
    assert not CONTROL.search(clean)
    assert not BIDI.search(clean)
    assert clean == clean.strip()
    assert unicodedata.is_normalized("NFC", clean)


#: Words of code and prose, none the name of an element or attribute that acts.
words = st.sampled_from(
    [
        "x",
        "y",
        "a",
        "b",
        "i",
        "p",
        "List",
        "String",
        "Map",
        "dir",
        "file",
        "bob@example.com",
        "if",
        "and",
        "or",
        "return",
        "int",
        "3",
        "10",
        "->",
        "=>",
        "<=",
        ">=",
        "!=",
        "==",
        "user",
        "order id",
        "name",
        "é",
        "año",
    ]
)
punctuation = st.sampled_from(["<", ">", "=", '"', "'", "/", " ", "  ", "&", ";", "(", ")", "{", "}", ",", "\n", "\t"])
code_like = st.lists(words | punctuation, min_size=1, max_size=16).map("".join).map(str.strip).filter(bool)


@given(code_like)
@example("x<y and y>z")
@example("if (a<b) { return; }")
@example("email <bob@example.com>")
@example("C:\\<dir>\\file")
@example("List<Map<String, int>> x = f(a<b, c>d);")
def test_text_that_cannot_act_reads_the_same(text: str) -> None:
    """Tags or not, text whose every tag is inert is stored as it is, character for character."""
    assert sanitize(text) == text


plain = st.text(alphabet=st.sampled_from("abcXYZ019 .,!?\n\t-"), min_size=1, max_size=40)
comparison = st.lists(plain | st.sampled_from([" < ", " > ", " & ", " <= ", " >= ", " <> "]), min_size=1, max_size=6)


@given(comparison.map("".join))
@example("a < b > c")
@example("5 > 3 & 2")
def test_plain_text_with_comparisons_reads_the_same(text: str) -> None:
    assert sanitize(text) == text.strip()


def test_documented_examples() -> None:
    # Spec §4 and issue 12 #4: text that is not markup reads the same.
    for text in [
        "a < b > c",
        "5 > 3 & 2",
        "x<y and y>z",
        "if (a<b) { return; }",
        "email <bob@example.com>",
        "C:\\<dir>\\file",
        "List<String>",
        "I <3 you",
        "&lt;b&gt; &amp; &#60;",
        "<b>bold</b> move",
    ]:
        assert sanitize(text) == text
    # Markup that could act is neutralised by a space after its "<", and nothing else changes.
    assert sanitize("<script>alert(1)</script>hi") == "< script>alert(1)</script>hi"
    assert sanitize('<img src=x onerror="alert(1)">') == '< img src=x onerror="alert(1)">'
    assert sanitize("<p style=color:red>x</p>") == "< p style=color:red>x</p>"
    assert sanitize("<order id> and <x id=clobbered>") == "<order id> and < x id=clobbered>"
    assert sanitize(" tab\there\r\nnew line\x07 ") == "tab\there\nnew line"
    assert sanitize("cafe\u0301") == "caf\u00e9"
    assert sanitize("invoice_\u202egpj.exe") == "invoice_gpj.exe"
    assert sanitize("\u2067abc\u2069 \u200f") == "abc \u200f"  # isolates go, the right-to-left mark stays


@pytest.mark.parametrize("unit", ["<a/x=", "<b <", "<a x=\"<a x='", "<a" + "a" * 50])
def test_overlapping_tags_take_linear_time(unit: str) -> None:
    """Each tag start is read on its own, and overlapping reads share their work.

    Quadratic reading would take hours here (2**16 tags, each read to the end
    of 256 KiB); a field's limit is checked before its tags are read at all.
    """
    import time

    started = time.perf_counter()
    sanitize(unit * (2**18 // len(unit)))
    assert time.perf_counter() - started < 60  # about 1 s on a quiet machine
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="at most 10000 characters"):
        clean_text("message", unit * (2**20 // len(unit)), 10_000)
    assert time.perf_counter() - started < 10


@given(
    st.integers(min_value=1, max_value=220),
    st.sampled_from(["<b>", "<i></i>", "  ", "\x00", "\u202e", "<script>x</script>"]),
)
def test_limits_count_characters_after_sanitising(length: int, noise: str) -> None:
    text = noise + "x" * length + noise
    stored = sanitize(text)
    if len(stored) <= 200:
        assert clean_text("subject", text, 200) == stored
    else:
        with pytest.raises(ValidationError) as caught:
            clean_text("subject", text, 200)
        assert caught.value.field == "subject"
        assert "at most 200 characters" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01",
        "\u200b",
        "\u200b\u200c\u200d\u2060\ufeff",
        "\u202e\u2066\u2069",
        " \u00ad\u034f\u3164 ",
        "\u180e\ufe0f\U000e0041",
    ],
)
def test_text_empty_after_sanitising_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="description"):
        clean_text("description", text, 10_000)


def test_zero_width_characters_inside_visible_text_stay() -> None:
    # Joiners build emoji and Persian words; only text that shows nothing is refused.
    family, persian = "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert clean_text("subject", family, 200) == family
    assert clean_text("subject", persian, 200) == persian


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


# The tag reader against html5lib's: one tag (no other "<"), so nothing else can change its reading.
tag_names = st.sampled_from(["b", "x", "dir", "String", "bob@example.com", "p", "x-y", "script", "STYLE", "svg", "img"])
attribute_names = st.sampled_from(
    ["title", "and", "y", "{", "return;", "only", "onclick", "ONLOAD", "style", "href", "src", "data", "id", "class",
     "name", "xlink:href", "=x", "a'b", 'a"b']
)  # fmt: skip
values = st.sampled_from(["1", "x y", "a>b", "'q'", '"q"', "javascript:alert(1)", "/", "=", "v/"])
attribute = st.tuples(
    attribute_names, st.none() | values, st.sampled_from(["=", " = ", "="]), st.sampled_from(['"', "'", ""])
)
separators = st.sampled_from([" ", "\n", "/", " / ", "\t", "  "])


def _render_attribute(name: str, value: str | None, equals: str, quote: str) -> str:
    """``name=value``, quoted so that it reads as one attribute, or raw (any tokenizer subtlety)."""
    if value is None:
        return name
    if quote == "raw":
        return f"{name}{equals}{value}"
    if (quote and quote in value) or (not quote and any(ch in value for ch in " >\"'=")):
        quote = '"' if '"' not in value else "'"
    return f"{name}{equals}{quote}{value}{quote}"


@given(
    tag_names,
    st.lists(st.tuples(separators, attribute), max_size=4),
    st.sampled_from([">", "/>", " >", "", ">tail", ">a > b"]),
)
def test_the_tag_reader_reads_attributes_as_html5lib_does(
    name: str, attributes: list[tuple[str, tuple[str, str | None, str, str]]], end: str
) -> None:
    import html5lib

    from supportchat.markup import DANGEROUS_ATTRIBUTES, DANGEROUS_ELEMENTS, DANGEROUS_PREFIXES, DANGEROUS_WITH_A_VALUE

    text = "<" + name + "".join(sep + _render_attribute(*a) for sep, a in attributes) + end
    neutralised = neutralise_markup(text) != text
    fragment = html5lib.parseFragment(text, container="div", namespaceHTMLElements=False)
    element = next((e for e in fragment if isinstance(e.tag, str)), None)
    if element is None:  # no ">": the parser makes no element, whatever the reader decides
        return
    tag = element.tag.rsplit("}", 1)[-1].lower()
    read = {key.rsplit("}", 1)[-1].lower(): value for key, value in element.attrib.items()}
    acts = tag in DANGEROUS_ELEMENTS or any(
        key.startswith(DANGEROUS_PREFIXES)
        or key in DANGEROUS_ATTRIBUTES
        or (key in DANGEROUS_WITH_A_VALUE and value != "")
        for key, value in read.items()
    )
    if acts:
        assert neutralised, (text, read)
    names = [a[0].lower() for _, a in attributes]
    if neutralised and len(set(names)) == len(names) and "=x" not in names:
        # Only duplicates (the parser keeps the first) or an empty value the reader cannot tell from none differ.
        assert acts or any(v == "" for v in read.values()), (text, read)
