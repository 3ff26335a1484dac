"""The hostile corpus's stored files (``tests/attachments/corpus.py``), served by a real server of each
adapter and opened in headless Chromium: no script runs and no HTML renders (dialogs and the DOM checked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportchat import InMemoryStore
from supportchat.attachments.feature import feature
from supportchat.http import TokenAuthenticator
from supportchat.http.ratelimit import RateLimiter, RateLimits

from ..api.clients import fastapi_app, flask_app
from ..api.conftest import PREFIX
from ..attachments.conftest import AttachmentApi, build, upload
from ..attachments.corpus import CORPUS, Hostile
from .servers import RUNNERS

pytestmark = pytest.mark.timeout(300)


def _upload(att: AttachmentApi, item: Hostile, ticket_id: int) -> Any:
    path = f"{PREFIX}/user/5/tickets/{ticket_id}/attachments"
    return upload(att.client, path, att.user(5), item.filename, item.make(), item.declared)


_FORBIDDEN_TYPES = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}
#: What a script or markup would bring; an image document is HTML, HEAD, META, TITLE, BODY and IMG.
_ACTIVE_TAGS = {"SCRIPT", "IFRAME", "OBJECT", "FORM", "SVG", "FRAME", "BASE", "INPUT", "A", "DIV", "P", "STYLE"}


def _open_in_chromium(browser: Any, url: str) -> dict[str, Any]:
    """What opening ``url`` did: dialogs, page errors, and the document Chromium made of it (if not a download)."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    downloaded = False
    try:
        page.goto(url, wait_until="load", timeout=15_000)
    except Exception as exc:  # a download aborts the navigation
        if "Download is starting" not in str(exc) and "net::ERR_ABORTED" not in str(exc):
            raise
        downloaded = True
    page.wait_for_timeout(200)
    document = page.evaluate(
        "({type: document.contentType, url: location.href, scripts: document.scripts.length,"
        " tags: Array.from(document.querySelectorAll('*')).map(e => e.tagName.toUpperCase()),"
        " pwned: typeof window.__pwned !== 'undefined'})"
    )
    context.close()
    return {"dialogs": dialogs, "errors": errors, "downloaded": downloaded, **document}


@pytest.fixture(params=list(RUNNERS))
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AttachmentApi, str]]:
    """The attachments API on a real server on 127.0.0.1 (one per adapter); yields it and its base URL."""
    att = build(str(request.param), InMemoryStore(), tmp_path)
    make = fastapi_app if request.param == "fastapi" else flask_app
    app = make(
        att.desk,
        authenticator=TokenAuthenticator(att.tokens, att.users),
        rate_limiter=RateLimiter(RateLimits.unlimited()),
        features=[feature(att.attachments)],
    )
    with RUNNERS[str(request.param)](app) as base:
        yield att, base


def test_served_hostile_files_run_no_script_and_render_no_html_in_chromium(
    served: tuple[AttachmentApi, str],
    browser: Any,
) -> None:
    att, base = served
    ticket = att.ticket_for(5)
    opened = []
    for item in (item for item in CORPUS if item.refused is None):
        reply = _upload(att, item, ticket.id)
        assert reply.status == 200, (item.name, reply.body)
        data = reply.json()["data"]
        for url in filter(None, (data["url"], data["thumbnail_url"])):
            seen = _open_in_chromium(browser, base + url)
            opened.append((item.name, seen))
            assert seen["dialogs"] == [] and seen["errors"] == [] and not seen["pwned"], (item.name, seen)
            assert seen["scripts"] == 0 and not set(seen["tags"]) & _ACTIVE_TAGS, (item.name, seen)
            assert seen["downloaded"] or seen["type"] not in _FORBIDDEN_TYPES, (item.name, seen)
            if data["kind"] == "image" or data["content_type"] == "application/pdf":
                assert not seen["downloaded"], (item.name, "images and PDF are shown inline")
            else:
                assert seen["downloaded"], (item.name, "documents are downloads", seen)
    assert len(opened) >= 15
