"""The panel's page and assets, read from the installed package (no CDN, works offline)."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Asset", "asset", "render_page"]

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True, slots=True)
class Asset:
    """A static file of the panel with what it takes to serve and cache it."""

    name: str
    body: bytes
    content_type: str
    #: A digest of the content: the ETag, and the ``?v=`` that makes cached copies safe to keep forever.
    version: str


def _read(name: str) -> bytes:
    return (resources.files("supportchat.panel") / "static" / name).read_bytes()


@cache
def asset(name: str) -> Asset | None:
    """A servable asset by file name, or ``None`` (only the listed types are served, never the template)."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in _CONTENT_TYPES or "/" in name or "\\" in name or name.startswith("."):
        return None
    try:
        body = _read(name)
    except (FileNotFoundError, IsADirectoryError):
        return None
    return Asset(name, body, _CONTENT_TYPES[suffix], hashlib.sha256(body).hexdigest()[:16])


@cache
def _template() -> str:
    return _read("panel.html").decode("utf-8")


def render_page(values: Mapping[str, str]) -> bytes:
    """The panel's HTML with every ``{{name}}`` replaced by its HTML-escaped value."""

    def substitute(match: re.Match[str]) -> str:
        return html.escape(values[match.group(1)], quote=True)

    return _PLACEHOLDER.sub(substitute, _template()).encode("utf-8")
