r"""Neutralising the HTML in plain text: only what could run, load or style.

Support users paste code, errors and addresses — ``x<y and y>z``,
``List<String>``, ``email <bob@example.com>``, ``C:\<dir>\file`` — and an HTML
parser reads every one of those as a tag. Removing whatever looks like a tag
therefore corrupts ordinary text. Instead, each place where a parser could
start a tag (``<`` followed by an ASCII letter) is read exactly as the HTML
tokenizer reads a tag from there (name, attributes, quotes, ``/``), and only
a tag that could do harm is neutralised:

* its element runs script, loads, styles or switches the parser into another
  language (:data:`DANGEROUS_ELEMENTS`), or
* one of its attributes is an event handler (``on…``), ``style``, a URL or an
  attribute with comparable power (:data:`DANGEROUS_ATTRIBUTES`,
  :data:`DANGEROUS_PREFIXES`) and either has a value or the tag is closed by
  ``>`` (so an element will carry it), or
* one of its attributes names the element for the page (``id``, ``name``,
  ``class``…, :data:`DANGEROUS_WITH_A_VALUE`) and has a value.

A tag with no ``>`` before the end of the text makes no element at all when
the text is parsed as HTML, and a name without a value gives an attribute
nothing to act with, so prose such as ``if a<b the data is only lost on
Mondays`` keeps its words.

Neutralising puts a space after the ``<`` (``< script>``): no HTML parser
reads ``< `` as the start of a tag, and the text still reads as typed. Every
other character is left as it is: a harmless tag such as ``<String>`` or
``<dir>`` becomes, at worst, an element with no behaviour when the text is
rendered as HTML, and stays readable as text everywhere else.

Each tag start is judged on its own, whatever precedes it, so the verdict
does not depend on the context a client places the text in (inside a
``<textarea>``, after an unclosed quote, …).
"""

from __future__ import annotations

import re
from bisect import bisect_left

__all__ = [
    "DANGEROUS_ATTRIBUTES",
    "DANGEROUS_ELEMENTS",
    "DANGEROUS_PREFIXES",
    "DANGEROUS_WITH_A_VALUE",
    "neutralise_markup",
]

#: Elements neutralised even with no attribute: they run script, load, apply
#: style, embed another document, or make the parser read what follows as
#: another language (raw text, SVG, MathML), which is how mutation XSS works.
DANGEROUS_ELEMENTS = frozenset(
    {
        # script, style and embedded documents
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "portal",
        "fencedframe",
        # the parser reads what follows differently
        "noscript",
        "noembed",
        "noframes",
        "xmp",
        "plaintext",
        "svg",
        "math",
        # SVG elements that animate attributes, reference or embed content
        "set",
        "animate",
        "animatemotion",
        "animatetransform",
        "use",
        "foreignobject",
        "feimage",
        "handler",
        "listener",
    }
)

#: Attributes that load a URL, run script, style, or otherwise act on the page.
DANGEROUS_ATTRIBUTES = frozenset(
    {
        "style",
        # URLs, wherever an element of any namespace or era fetches or navigates to them
        "href",
        "src",
        "srcset",
        "imagesrcset",
        "action",
        "formaction",
        "data",
        "poster",
        "background",
        "cite",
        "codebase",
        "classid",
        "archive",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "manifest",
        "ping",
        "usemap",
        # a document, a refresh, a custom element's code, or taking the focus
        "srcdoc",
        "http-equiv",
        "is",
        "autofocus",
        "xmlns",
    }
)

#: Attribute-name prefixes: event handlers, namespaced attributes (``xlink:href``),
#: declarative shadow roots.
DANGEROUS_PREFIXES = ("on", "xlink:", "xml:", "xmlns:", "shadowroot")

#: Attributes that only matter with a value: naming an element for the page's
#: scripts and styles (DOM clobbering, borrowed classes) or redirecting its forms
#: and links. Without one they are words of a placeholder such as ``<order id>``.
DANGEROUS_WITH_A_VALUE = frozenset({"id", "name", "class", "form", "target", "formtarget"})

_LONGEST_NAME = max(len(name) for name in DANGEROUS_ELEMENTS | DANGEROUS_ATTRIBUTES | DANGEROUS_WITH_A_VALUE)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

#: Where an HTML parser starts a tag; ``</``, ``<!`` and ``<?`` (end tags,
#: comments, declarations) never create an element with attributes.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z])")
#: The HTML tokenizer's whitespace.
_SPACE = "\t\n\f\r "
_SPACES = re.compile(r"[\t\n\f\r ]*")
_TAG_NAME_END = re.compile(r"[\t\n\f\r />]")
_ATTRIBUTE_NAME_END = re.compile(r"[\t\n\f\r />=]")
_UNQUOTED_VALUE_END = re.compile(r"[\t\n\f\r >]")
_DOUBLE_QUOTE = re.compile(r'"')
_SINGLE_QUOTE = re.compile(r"'")
#: How far a delimiter is searched for directly before its precomputed positions are used.
_NEAR = 64

#: A pass can change the reading of an earlier tag (``<b <style>`` becomes
#: ``<b < style>``, whose ``style`` is now an attribute of ``b``), so passes
#: repeat; text that still changes after this many is markup, and every tag
#: start in it is neutralised.
_MAX_PASSES = 3


class _State:
    """The tokenizer states between a tag's name and its ``>`` (WHATWG HTML §13.2.5).

    Plain integers: they key a dictionary that a mebibyte of tags fills.
    """

    BEFORE_ATTRIBUTE_NAME = 0
    AFTER_ATTRIBUTE_NAME = 1
    BEFORE_ATTRIBUTE_VALUE = 2
    AFTER_QUOTED_VALUE = 3
    SELF_CLOSING = 4


class _TagReader:
    """Reads the tag at any ``<`` of one text, in time linear in the text overall.

    Tags starting at different ``<`` overlap (``<b title="<img …>">``), so what
    the rest of a tag holds from each (state, position) is remembered, and a
    jump to a far delimiter is a binary search in its precomputed positions.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        self._stops: dict[re.Pattern[str], list[int]] = {}
        self._outcomes: dict[tuple[int, int], int] = {}

    def _next(self, delimiter: re.Pattern[str], pos: int) -> int:
        """Where ``delimiter`` next occurs from ``pos`` (the text's length if nowhere)."""
        # Delimiters are usually a few characters away: a bounded search finds
        # them without listing the whole text's; far ones come from the list.
        near = delimiter.search(self.text, pos, pos + _NEAR)
        if near is not None:
            return near.start()
        stops = self._stops.get(delimiter)
        if stops is None:
            stops = self._stops[delimiter] = [m.start() for m in delimiter.finditer(self.text)]
        index = bisect_left(stops, pos)
        return stops[index] if index < len(stops) else self.length

    def _skip_spaces(self, pos: int) -> int:
        match = _SPACES.match(self.text, pos)
        return match.end() if match else pos

    def is_dangerous(self, start: int) -> bool:
        """Whether the tag whose ``<`` is at ``start`` could run, load or style anything."""
        name_end = self._next(_TAG_NAME_END, start + 1)
        name = self.text[start + 1 : name_end]
        if len(name) <= _LONGEST_NAME and name.translate(_ASCII_LOWER) in DANGEROUS_ELEMENTS:
            return True
        if name_end >= self.length or self.text[name_end] == ">":
            return False
        state = _State.SELF_CLOSING if self.text[name_end] == "/" else _State.BEFORE_ATTRIBUTE_NAME
        outcome = self._rest_of_tag(state, name_end + 1)
        return outcome == _DANGER or outcome == _VALUELESS | _CLOSED

    def _rest_of_tag(self, state: int, pos: int) -> int:
        """What the tag holds from (``state``, ``pos``) to its end: :data:`_DANGER` or flags."""
        path: list[tuple[tuple[int, int], int]] = []
        while True:
            known = self._outcomes.get((state, pos))
            if known is not None:
                outcome = known
                break
            step = self._step(state, pos)
            if isinstance(step, int):
                path.append(((state, pos), 0))
                outcome = step
                break
            path.append(((state, pos), step[2]))
            state, pos = step[0], step[1]
        for key, mark in reversed(path):
            if outcome != _DANGER:
                outcome |= mark
            self._outcomes[key] = outcome
        return outcome

    def _step(self, state: int, pos: int) -> int | tuple[int, int, int]:
        """One move of the tokenizer: the next (state, position, flag of what it read), or how the tag ends."""
        text, length = self.text, self.length
        if state <= _State.BEFORE_ATTRIBUTE_VALUE:
            pos = self._skip_spaces(pos)
        if pos >= length:
            return _OPEN  # the tag ends with the text
        char = text[pos]
        if state == _State.BEFORE_ATTRIBUTE_NAME:
            if char in "/>":
                return _State.AFTER_ATTRIBUTE_NAME, pos, 0
            return self._attribute(pos)  # a leading "=" belongs to the name
        if state == _State.AFTER_ATTRIBUTE_NAME:
            if char == "/":
                return _State.SELF_CLOSING, pos + 1, 0
            if char == "=":
                return _State.BEFORE_ATTRIBUTE_VALUE, pos + 1, 0
            if char == ">":
                return _CLOSED
            return self._attribute(pos)
        if state == _State.BEFORE_ATTRIBUTE_VALUE:
            if char == ">":
                return _CLOSED
            if char in "\"'":
                close = self._next(_DOUBLE_QUOTE if char == '"' else _SINGLE_QUOTE, pos + 1)
                return _OPEN if close >= length else (_State.AFTER_QUOTED_VALUE, close + 1, 0)
            end = self._next(_UNQUOTED_VALUE_END, pos)
            if end >= length:
                return _OPEN
            return _CLOSED if text[end] == ">" else (_State.BEFORE_ATTRIBUTE_NAME, end + 1, 0)
        if state == _State.AFTER_QUOTED_VALUE:
            if char in _SPACE:
                return _State.BEFORE_ATTRIBUTE_NAME, pos + 1, 0
            if char == "/":
                return _State.SELF_CLOSING, pos + 1, 0
            if char == ">":
                return _CLOSED
            return _State.BEFORE_ATTRIBUTE_NAME, pos, 0
        # SELF_CLOSING: "/" not followed by ">" is ignored.
        if char == ">":
            return _CLOSED
        return _State.BEFORE_ATTRIBUTE_NAME, pos, 0

    def _attribute(self, start: int) -> int | tuple[int, int, int]:
        """The attribute whose name starts at ``start``: :data:`_DANGER`, or the next move with its flag."""
        text, length = self.text, self.length
        end = self._next(_ATTRIBUTE_NAME_END, start + 1)
        following = end if end >= length or text[end] not in _SPACE else self._skip_spaces(end)
        has_value = following < length and text[following] == "="
        mark = _attribute_kind(text[start:end])
        if mark and has_value:
            return _DANGER
        mark &= _VALUELESS
        if end >= length:
            return mark
        char = text[end]
        if char in _SPACE:
            return _State.AFTER_ATTRIBUTE_NAME, end + 1, mark
        if char == "/":
            return _State.SELF_CLOSING, end + 1, mark
        if char == "=":
            return _State.BEFORE_ATTRIBUTE_VALUE, end + 1, mark
        return _CLOSED | mark  # ">"


#: Outcomes of reading the rest of a tag: ``_DANGER`` (an attribute that acts
#: with the value it was given), or flags: ``_VALUELESS``, a dangerous attribute
#: appears without a value (it acts only if the tag closes, as its element then
#: carries it); ``_CLOSED``, the tag ends with ``>`` rather than with the text.
_DANGER = -1
_OPEN = 0
_VALUELESS = 1
_CLOSED = 2
#: What an attribute name is (:func:`_attribute_kind`): dangerous with a value
#: or on a closed tag (``_VALUELESS``), dangerous only with a value
#: (``_NAMING``: ``id``, ``class``…), or harmless (0).
_NAMING = 4


def _attribute_kind(name: str) -> int:
    head = name[: _LONGEST_NAME + 1].translate(_ASCII_LOWER)
    if head.startswith(DANGEROUS_PREFIXES):
        return _VALUELESS
    if len(name) > _LONGEST_NAME:
        return 0
    if head in DANGEROUS_ATTRIBUTES:
        return _VALUELESS
    return _NAMING if head in DANGEROUS_WITH_A_VALUE else 0


def _neutralise_once(text: str) -> str:
    reader = _TagReader(text)
    pieces: list[str] = []
    done = 0
    for match in _TAG_OPEN.finditer(text):
        if reader.is_dangerous(match.start()):
            pieces += (text[done : match.end()], " ")
            done = match.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def neutralise_markup(text: str) -> str:
    """``text`` with a space after the ``<`` of every tag that could run, load or style anything.

    The result is a fixed point: neutralising it again changes nothing.
    """
    if "<" not in text:
        return text
    for _ in range(_MAX_PASSES):
        neutralised = _neutralise_once(text)
        if neutralised == text:
            return text
        text = neutralised
    return _TAG_OPEN.sub("< ", text)
