"""HTML mail bodies as plain text, read by a real HTML parser (BeautifulSoup with html5lib).

The text keeps what a reader sees: paragraphs and line breaks, list items,
link targets after their text when they differ, and quoted history
(``<blockquote>``, Gmail's ``gmail_quote``, Outlook's reply header) as ``> ``
lines, so that the quote stripper finds it as it would in a plain-text mail.
Scripts, styles and the head are dropped; the result is sanitised later by
the desk, like any text.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

__all__ = ["html_to_text"]

_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    }
)
_DROPPED = frozenset({"script", "style", "head", "title", "noscript", "template", "object", "iframe"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def _walk(node: Tag, out: list[str], *, pre: bool = False) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is not NavigableString:  # comments, CDATA, doctype
                continue
            text = str(child)
            out.append(text if pre else _SPACES.sub(" ", text.replace("\n", " ")))
            continue
        if not isinstance(child, Tag) or child.name in _DROPPED:
            continue
        name = child.name
        if name == "br":
            out.append("\n")
        elif name == "img":
            alt = child.get("alt")
            if isinstance(alt, str) and alt.strip():
                out.append(f"[{alt.strip()}]")
        elif name == "blockquote" or (name == "div" and _is_quote(child)):
            inner: list[str] = []
            _walk(child, inner, pre=pre)
            quoted = _tidy("".join(inner))
            out.append("\n" + "\n".join("> " + line if line else ">" for line in quoted.split("\n")) + "\n")
        elif name in ("td", "th"):
            _walk(child, out, pre=pre)
            out.append(" ")
        else:
            block = name in _BLOCKS
            if block:
                out.append("\n")
            if name == "li":
                out.append("- ")
            if name == "hr":
                out.append("---")
            _walk(child, out, pre=pre or name == "pre")
            if name == "a":
                href = child.get("href")
                label = child.get_text(" ", strip=True)
                if isinstance(href, str) and href.startswith(("http://", "https://")) and href != label:
                    out.append(f" ({href})")
            if block:
                out.append("\n")


def _is_quote(tag: Tag) -> bool:
    classes: object = tag.get("class") or []
    return (
        (isinstance(classes, list) and "gmail_quote" in classes)
        or tag.get("id") == "divRplyFwdMsg"
        or tag.get("type") == "cite"
    )


def _tidy(text: str) -> str:
    lines = [line.strip() for line in text.split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n")


def html_to_text(html: str) -> str:
    """The text a reader sees in ``html``, blank runs collapsed, quoted parts as ``> `` lines."""
    soup = BeautifulSoup(html, "html5lib")
    root = soup.body or soup
    out: list[str] = []
    _walk(root, out)
    return _tidy("".join(out))
