"""An independent judge of stored text: what html5lib's WHATWG parser builds from it.

The sanitiser reads tags with its own tokenizer; these checks parse with
html5lib instead, from the start of the text and from every place a tag could
start (so the verdict holds whatever context a client puts the text in), and
report every element that could run script, load a URL or apply style.
"""

from __future__ import annotations

import re

import html5lib

#: Elements that run, load, style or embed, whatever their attributes.
ACTIVE_ELEMENTS = frozenset(
    {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "noscript"}
)
#: The issue's list of URL attributes, and a few more that load or navigate.
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "srcset",
        "data",
        "poster",
        "background",
        "srcdoc",
        "ping",
        "codebase",
        "lowsrc",
        "dynsrc",
        "imagesrcset",
        "manifest",
        "http-equiv",
    }
)
TAG_START = re.compile(r"<(?=[A-Za-z])")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def active_parts(html: str) -> list[str]:
    """Elements or attributes of ``html`` parsed as a ``<div>``'s content that could act."""
    found = []
    for element in html5lib.parseFragment(html, container="div", namespaceHTMLElements=False).iter():
        if not isinstance(element.tag, str):
            continue  # comments
        tag = _local(element.tag)
        if tag in ACTIVE_ELEMENTS:
            found.append(f"<{tag}>")
        for attribute in element.attrib:
            name = _local(attribute)
            if name.startswith("on") or name == "style" or name in URL_ATTRIBUTES:
                found.append(f"<{tag} {name}>")
    return found


def active_anywhere(text: str) -> list[str]:
    """:func:`active_parts` of ``text`` read from its start and from every ``<`` that could open a tag."""
    found = active_parts(text)
    for start in TAG_START.finditer(text):
        found += active_parts(text[start.start() :])
    return found
