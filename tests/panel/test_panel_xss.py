"""An XSS corpus through the panel: nothing stored ever runs a script or adds an element.

Each payload goes in twice: through the API (the desk sanitises it) and
straight into the store, as a row of an adopted legacy database that was
never sanitised. The second proves the panel's own escaping: the page must
show the raw markup as text, character for character.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from supportchat.models import Actor, Category, MessageType, NewMessage, NewTicket, Priority, SenderType, Ticket
from supportchat.numbers import new_ticket_number
from supportchat.stores import Store

from .browser import new_panel_page
from .servers import Site

pytestmark = pytest.mark.timeout(300)

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text("utf-8").splitlines() if line]
API_USER, LEGACY_USER = 77, 78


def test_the_corpus_is_large_and_varied() -> None:
    assert len(PAYLOADS) >= 150
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    for marker in ("<script", "onerror=", "javascript:", "<svg", "&#", "%3C", "&lt;"):
        assert any(marker.strip() in p for p in PAYLOADS), marker


def _submit(http: httpx.Client, site: Site, index: int, payload: str) -> Ticket:
    """A ticket and a message carrying the payload through the API; prefixed if sanitising empties it."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = http.post(path, json=body, headers=site.user(API_USER))
        if reply.status_code == 422:  # nothing left after removing the markup: keep the markup's context
            body = {k: (f"#{index} {v} #{index}" if isinstance(v, str) else v) for k, v in body.items()}
            reply = http.post(path, json=body, headers=site.user(API_USER))
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()["data"]
        return data

    subject = payload[:200]
    ticket = post("/admin/api/support/create-ticket", {"subject": subject, "description": payload})
    post(f"/admin/api/support/tickets/{ticket['id']}/user-message", {"message": payload})
    return Ticket.model_validate(ticket)


def _legacy(store: Store, payload: str, file_url: str | None = None) -> Ticket:
    """A row written without the desk, as an old database may hold it."""
    now = datetime.now(UTC)
    ticket = store.insert_ticket(
        NewTicket(
            ticket_number=new_ticket_number(),
            user_id=LEGACY_USER,
            subject=payload,
            description=payload,
            priority=Priority.MEDIUM,
            category=Category.GENERAL,
            created_at=now,
            updated_at=now,
        )
    )
    store.insert_message(
        NewMessage(
            ticket_id=ticket.id,
            sender_id=LEGACY_USER,
            sender_type=SenderType.USER,
            message=payload,
            message_type=MessageType.FILE if file_url else MessageType.TEXT,
            file_url=file_url,
            created_at=now,
            uid=uuid.uuid4().hex,
        ),
        expected_version=ticket.version,
        changes={},
    )
    return ticket


SHOWN = """() => ({
  subject: document.getElementById('ticket-subject').textContent,
  description: document.getElementById('ticket-description').textContent,
  messages: Array.from(document.querySelectorAll('#messages .msg-text')).map(m => m.textContent),
  links: Array.from(document.querySelectorAll('#messages a')).map(a => a.getAttribute('href')),
  elementsInText: document.querySelectorAll(
    '#ticket-subject *, #ticket-description *, .msg-text *, .ticket-subject *, .toast *, #history-list span *').length,
})"""


def test_no_payload_runs_or_adds_an_element(fastapi_site: Site, browser: Any) -> None:
    site = fastapi_site
    with httpx.Client(base_url=site.url, timeout=10) as http:
        through_api = [_submit(http, site, i, p) for i, p in enumerate(PAYLOADS)]
    legacy = [_legacy(site.store, p) for p in PAYLOADS]
    hostile_urls = [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        " javascript:alert(1)",
    ]
    links = [_legacy(site.store, f"adjunto {i}", file_url=url) for i, url in enumerate(hostile_urls)]
    tickets = through_api + legacy + links

    ui = new_panel_page(browser)
    try:
        page = ui.page
        ui.sign_in(site)

        # The list, page by page: every subject shown as the exact stored text, no element inside.
        expected_subjects = sorted(site.store.get_ticket(t.id).subject for t in tickets)  # type: ignore[union-attr]
        shown: list[str] = []
        while True:
            shown += page.eval_on_selector_all("#ticket-rows .ticket-subject", "s => s.map(x => x.textContent)")
            assert page.eval_on_selector_all("#ticket-rows .ticket-subject *", "s => s.length") == 0
            if page.is_disabled("#page-next"):
                break
            before = ui.list_loads()
            page.click("#page-next")
            ui.wait_list_after(before)
        assert sorted(shown) == expected_subjects

        # Every conversation: subject, description and messages as text, character for character.
        for ticket in tickets:
            ui.open_ticket(ticket.id)
            stored = site.store.get_ticket(ticket.id)
            assert stored is not None
            messages = [m.message for m in site.store.list_messages(ticket.id)]
            seen = page.evaluate(SHOWN)
            assert seen["elementsInText"] == 0, stored.subject
            assert (seen["subject"], seen["description"], seen["messages"]) == (
                stored.subject,
                stored.description,
                messages,
            )
            assert all(href is None for href in seen["links"]), seen["links"]

        # Search results' highlights: only <mark> elements, around text; the rest is text.
        for word in ("onerror", "script", "img", "alert"):
            page.fill("#filter-q", word)
            before = ui.list_loads()
            page.press("#filter-q", "Enter")
            ui.wait_list_after(before)
            tags = page.eval_on_selector_all("#ticket-rows .ticket-highlight *", "s => s.map(x => x.tagName)")
            assert set(tags) <= {"MARK"}, (word, tags)
            assert page.eval_on_selector_all("#ticket-rows .ticket-highlight mark *", "s => s.length") == 0
        page.click("#filter-reset")

        # A new ticket's notification shows its subject as text too.
        nasty = _legacy(site.store, '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>')
        # A raw row announces nothing in-process; the next desk write wakes the live
        # stream, which then reads both entries from the event log in order.
        site.desk.create_ticket(Actor.user(API_USER), subject="Another question", description="Hello")
        toast = page.wait_for_selector(f".toast-new-ticket[data-ticket-id='{nasty.id}']", timeout=5000)
        assert nasty.subject in (toast.text_content() or "")
        assert page.evaluate(SHOWN)["elementsInText"] == 0

        findings = ui.findings()
        assert findings == {"dialogs": [], "errors": [], "foreign": [], "xss": 0, "csp": [], "added": []}
        print(f"\nXSS corpus: {len(PAYLOADS)} payloads × (API + legacy rows) in {len(tickets)} tickets, all inert")
    finally:
        ui.context.close()


def test_the_script_has_no_html_sinks() -> None:
    """A guard beside the browser test: the page's code never parses strings as HTML or code."""
    from importlib import resources

    code = (resources.files("supportchat.panel") / "static" / "panel.js").read_text("utf-8")
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("*", "/*", "//")))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", ".style"):
        assert sink not in code, sink
