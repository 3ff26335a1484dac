"""The panel in real headless Chromium, against real servers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from supportchat import Actor
from supportchat.models import SenderType, TicketStatus
from supportchat.rules import allowed_transitions

from .browser import PanelPage, new_panel_page
from .servers import Site

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def panel(browser: Any) -> Iterator[Any]:
    """A factory of instrumented pages; every page it made is checked clean at the end."""
    made: list[PanelPage] = []

    def make(locale: str = "en-US") -> PanelPage:
        page = new_panel_page(browser, locale)
        made.append(page)
        return page

    yield make
    for page in made:
        try:
            page.assert_clean()
        finally:
            page.context.close()


def seed(site: Site) -> dict[str, Any]:
    desk, admin = site.desk, Actor.admin(site.admin_id)
    pay, flight = (
        desk.create_ticket(Actor.user(user), subject=subject, description=text, priority=priority, category=category)
        for user, subject, text, priority, category in (
            (21, "No puedo pagar con tarjeta", "Sale error 402", "urgent", "billing"),
            (22, "Cambio de vuelo", "Quiero cambiar la fecha", "high", "flight"),
        )
    )
    others = [
        desk.create_ticket(Actor.user(30 + i), subject=f"Consulta general {i}", description="Hola", priority="low")
        for i in range(7)
    ]
    desk.change_status(admin, flight.id, "resolved")
    desk.post_message(Actor.user(21), pay.id, "¿Me ayudan, por favor?")
    return {"pay": pay, "flight": flight, "others": others}


def test_sign_in_filter_open_reply_change_status_and_assign(site: Site, panel: Any) -> None:
    tickets = seed(site)
    pay = tickets["pay"]
    luis = next(a for a in site.tokens.list() if a.name == "luis")
    ui = panel()
    page = ui.page

    # Sign in: a wrong token is refused, the right one opens the panel.
    page.goto(site.panel_url)
    page.fill("#login-token", "sca_wrong")
    page.click("#login-submit")
    page.wait_for_function("() => document.getElementById('login-error').textContent.length > 0")
    assert page.text_content("#login-error") == "That token is not valid."
    page.fill("#login-token", site.admin_token)
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready=true]")
    cookie = next(c for c in ui.context.cookies() if c["name"] == "supportchat_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert "supportchat_session" not in page.evaluate("document.cookie")

    # Counts per status and the list.
    assert page.text_content(".status-tab[data-status=open] .count") == "8"
    assert page.text_content(".status-tab[data-status=resolved] .count") == "1"
    assert len(ui.row_ids()) == 9
    assert page.text_content(f"tr[data-ticket-id='{pay.id}'] .badge") == "1"

    # Filters: priority, status, search (the assignee filter comes after assigning).
    everything = ui.row_ids()
    flight = [tickets["flight"].id]
    page.select_option("#filter-priority", "urgent")
    page.click("#filters button[type=submit]")
    assert ui.wait_rows([pay.id]) == [pay.id]
    page.click("#filter-reset")
    assert ui.wait_rows(everything) == everything
    page.click(".status-tab[data-status=resolved]")
    assert ui.wait_rows(flight) == flight
    page.click("#filter-reset")
    assert ui.wait_rows(everything) == everything
    page.fill("#filter-q", "VUELO")
    page.press("#filter-q", "Enter")
    assert ui.wait_rows(flight) == flight
    assert page.text_content("#page-info") == "Page 1 of 1 · 1 tickets"
    # The match is highlighted with a <mark> (accents and case ignored), the rest is text.
    assert page.eval_on_selector_all(".ticket-highlight mark", "m => m.map(x => x.textContent)") == ["vuelo"]
    assert "Cambio de vuelo" in (page.text_content(".ticket-highlight") or "")
    page.click("#filter-reset")
    assert ui.wait_rows(everything) == everything

    # Open a ticket: the conversation, marked read.
    page.click(f"tr[data-ticket-id='{pay.id}']")
    page.wait_for_selector(f"body[data-ticket-loaded='{pay.id}']")
    assert page.text_content("#ticket-subject") == "No puedo pagar con tarjeta"
    assert page.text_content("#ticket-description") == "Sale error 402"
    assert page.eval_on_selector_all(".msg-user .msg-text", "m => m.map(x => x.textContent)") == [
        "¿Me ayudan, por favor?"
    ]
    assert all(m.is_read for m in site.store.list_messages(pay.id))
    page.wait_for_selector(f"tr[data-ticket-id='{pay.id}'] .badge", state="detached", timeout=5000)

    # Reply.
    page.fill("#reply-text", "Hola, ya lo estamos revisando.")
    page.click("#reply-send")
    page.wait_for_selector(".msg-admin .msg-text")
    assert page.text_content(".msg-admin .msg-text") == "Hola, ya lo estamos revisando."
    stored = site.store.list_messages(pay.id)
    assert [(m.sender_type, m.message) for m in stored][-1] == (SenderType.ADMIN, "Hola, ya lo estamos revisando.")

    # Status control offers only what the lifecycle allows.
    offered = page.eval_on_selector_all("#ticket-status option", "o => o.map(x => x.value)")
    assert offered[0] == "open" and set(offered[1:]) == {s.value for s in allowed_transitions(TicketStatus.OPEN)}

    # Change status and assign at once.
    page.select_option("#ticket-status", "in_progress")
    page.select_option("#ticket-assignee", str(luis.id))
    page.click("#ticket-apply")
    page.wait_for_function("() => document.querySelector('#ticket-status option:checked').value === 'in_progress'")
    current = site.store.get_ticket(pay.id)
    assert current is not None and current.status is TicketStatus.IN_PROGRESS and current.assigned_to == luis.id
    assert page.input_value("#ticket-assignee") == str(luis.id)
    page.wait_for_function("() => document.querySelectorAll('#history-list li[data-field]').length === 2")
    history = page.eval_on_selector_all("#history-list li span", "s => s.map(x => x.textContent)")
    assert history == [
        "admin ana changed status: Open → In progress",
        "admin ana changed assignment: Unassigned → luis",
    ]

    # Assignee filter finds it.
    page.select_option("#filter-assignee", str(luis.id))
    page.click("#filters button[type=submit]")
    assert ui.wait_rows([pay.id]) == [pay.id]

    # Closing: nothing more is offered, and the reply box is off.
    page.select_option("#ticket-status", "closed")
    page.click("#ticket-apply")
    page.wait_for_function("() => document.querySelector('#ticket-status').disabled")
    assert page.eval_on_selector_all("#ticket-status option", "o => o.map(x => x.value)") == ["closed"]
    assert page.is_disabled("#reply-text") and page.is_visible("#ticket-closed-note")
    assert site.store.get_ticket(pay.id).status is TicketStatus.CLOSED  # type: ignore[union-attr]


def expected_live_state(site: Site, mode: str) -> str:
    """``live`` over the admin event stream when the server has it; otherwise the polling fallback."""
    if mode == "polling":
        return "polling"
    with httpx.stream("GET", f"{site.api_url}/events", headers=site.admin, timeout=5) as probe:
        return "live" if probe.status_code == 200 else "polling"


#: Runs before the page's scripts: a browser without EventSource must fall back to polling.
NO_EVENT_SOURCE = "delete window.EventSource;"


@pytest.mark.parametrize("mode", ["stream", "polling"])
def test_a_user_message_appears_in_the_open_conversation_within_two_seconds(site: Site, panel: Any, mode: str) -> None:
    ticket = site.desk.create_ticket(Actor.user(40), subject="Pedido sin llegar", description="Pedido 8812")
    site.desk.post_message(Actor.admin(site.admin_id), ticket.id, "¿Cuál es el número de seguimiento?")
    ui = panel()
    if mode == "polling":
        ui.context.add_init_script(NO_EVENT_SOURCE)
    ui.sign_in(site)
    ui.open_ticket(ticket.id)
    state = expected_live_state(site, mode)
    ui.page.wait_for_selector(f"#live-state[data-state='{state}']", timeout=5000)
    ui.page.evaluate("window.__sameDocument = 42")

    delays = []
    for text in ("Es el 4411-22", "¿Alguna novedad?"):
        reply = httpx.post(
            f"{site.api_url}/tickets/{ticket.ticket_number}/user-message",
            json={"user_id": 40, "message": text, "message_type": "text"},
            headers=site.user(40),
        )
        assert reply.status_code == 200, reply.text
        sent = time.monotonic()
        message_id = reply.json()["data"]["id"]
        ui.page.wait_for_selector(f".msg-user[data-message-id='{message_id}']", timeout=2000)
        delays.append(time.monotonic() - sent)
        assert ui.page.text_content(f"[data-message-id='{message_id}'] .msg-text") == text
    assert max(delays) < 2.0, delays
    assert ui.page.evaluate("window.__sameDocument") == 42  # no reload happened
    shown = ", ".join(f"{d * 1000:.0f} ms" for d in delays)
    print(f"\n{site.adapter}: user message → open conversation ({state}): {shown}")

    # The admin is looking, so the user's messages get marked read; the user reading the admin's
    # message turns its mark into "Read" without a reload.
    deadline = time.monotonic() + 5
    while not all(m.is_read for m in site.store.list_messages(ticket.id) if m.sender_type is SenderType.USER):
        assert time.monotonic() < deadline, "the user's messages were never marked read"
        time.sleep(0.1)
    assert ui.page.text_content(".msg-admin .msg-read") == "✓ Sent"
    httpx.get(f"{site.api_url}/user/40/tickets/{ticket.id}", headers=site.user(40)).raise_for_status()
    ui.page.wait_for_selector(".msg-admin .msg-read.is-read", timeout=8000)
    assert ui.page.text_content(".msg-admin .msg-read") == "✓✓ Read"


@pytest.mark.parametrize("mode", ["stream", "polling"])
def test_a_new_ticket_raises_a_notification_and_joins_the_list(fastapi_site: Site, panel: Any, mode: str) -> None:
    site = fastapi_site
    site.desk.create_ticket(Actor.user(50), subject="Anterior", description="x")
    ui = panel()
    if mode == "polling":
        ui.context.add_init_script(NO_EVENT_SOURCE)
    ui.sign_in(site)
    ui.page.wait_for_selector(f"#live-state[data-state='{expected_live_state(site, mode)}']", timeout=5000)
    assert len(ui.row_ids()) == 1
    reply = httpx.post(
        f"{site.api_url}/create-ticket",
        json={"user_id": 51, "subject": "Mi vuelo fue cancelado", "description": "Vuelo IB3162", "category": "flight"},
        headers=site.user(51),
    )
    assert reply.status_code == 200, reply.text
    created = reply.json()["data"]
    toast = ui.page.wait_for_selector(f".toast-new-ticket[data-ticket-id='{created['id']}']", timeout=4000)
    assert toast.text_content() == f"New ticket {created['ticket_number']}: Mi vuelo fue cancelado"
    ui.page.wait_for_function("() => document.querySelectorAll('#ticket-rows tr').length === 2", timeout=4000)
    assert ui.row_ids()[0] == created["id"]
    assert ui.page.text_content(".status-tab[data-status=open] .count") == "2"
    toast.click()
    ui.page.wait_for_selector(f"body[data-ticket-loaded='{created['id']}']")
    assert ui.page.text_content("#ticket-subject") == "Mi vuelo fue cancelado"


@pytest.mark.parametrize(
    ("locale", "title", "open_label"),
    [
        ("es-ES", "Acceso al centro de soporte", "Abierto"),
        ("es-MX", "Acceso al centro de soporte", "Abierto"),
        ("en-US", "Support desk sign-in", "Open"),
        ("de-DE", "Support desk sign-in", "Open"),
    ],
)
def test_interface_language_follows_the_browser(
    fastapi_site: Site, panel: Any, locale: str, title: str, open_label: str
) -> None:
    ui = panel(locale)
    ui.page.goto(fastapi_site.panel_url)
    assert ui.page.text_content("#login-form h1") == title
    assert ui.page.get_attribute("html", "lang") == locale[:2].replace("de", "en")
    ui.sign_in(fastapi_site)
    assert ui.page.text_content(".status-tab[data-status=open] span") == open_label


def test_a_cookie_write_without_csrf_from_the_page_is_refused(fastapi_site: Site, panel: Any) -> None:
    site = fastapi_site
    ticket = site.desk.create_ticket(Actor.user(60), subject="Pago", description="x")
    ui = panel()
    ui.sign_in(site)
    status = ui.page.evaluate(
        """id => fetch('/admin/api/support/tickets/' + id + '/messages', {
               method: 'POST', credentials: 'same-origin',
               headers: {'Content-Type': 'application/json'}, body: JSON.stringify({message: 'forged'})
           }).then(r => r.status)""",
        ticket.id,
    )
    assert status == 403
    assert site.store.list_messages(ticket.id) == []
    response = ui.page.goto(site.panel_url)
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    ui.page.wait_for_selector("body[data-ready=true]")


def test_pagination_stays_fast_with_twenty_thousand_tickets(fastapi_site: Site, panel: Any) -> None:
    from datetime import UTC, datetime

    from supportchat.models import Category, NewTicket, Priority
    from supportchat.numbers import new_ticket_number

    site = fastapi_site
    now = datetime.now(UTC)
    for i in range(20_000):
        site.store.insert_ticket(
            NewTicket(
                ticket_number=new_ticket_number(),
                user_id=1 + i % 500,
                subject=f"Ticket {i}",
                description="carga",
                priority=list(Priority)[i % 4],
                category=list(Category)[i % 5],
                created_at=now,
                updated_at=now,
            )
        )
    ui = panel()
    started = time.monotonic()
    ui.sign_in(site)
    first = time.monotonic() - started
    assert len(ui.row_ids()) == 25
    assert ui.page.text_content("#page-info") == "Page 1 of 800 · 20000 tickets"
    started = time.monotonic()
    before = ui.list_loads()
    ui.page.click("#page-next")
    ui.wait_list_after(before)
    turn = time.monotonic() - started
    assert ui.row_ids()[0] == 20_000 - 25
    assert ui.page.text_content("#page-info") == "Page 2 of 800 · 20000 tickets"
    print(f"\n20,000 tickets: sign-in to first page {first * 1000:.0f} ms, next page {turn * 1000:.0f} ms")
    assert turn < 2.0


def test_every_string_is_translated() -> None:
    from importlib import resources

    source = (resources.files("supportchat.panel") / "static" / "panel.js").read_text("utf-8")
    english = source[source.index("en: {") : source.index("es: {")]
    spanish = source[source.index("es: {") : source.index("var LANG")]
    keys = re.compile(r'^\s*"([\w.]+)":', re.M)
    assert len(keys.findall(english)) > 80
    assert sorted(keys.findall(english)) == sorted(keys.findall(spanish))
    used = set(re.findall(r'\bt\("([\w.]+)"[,)]', source))
    html = (resources.files("supportchat.panel") / "static" / "panel.html").read_text("utf-8")
    used |= set(re.findall(r'data-i18n="([\w.]+)"', html))
    assert used <= set(keys.findall(english)), used - set(keys.findall(english))


def test_a_revoked_admin_is_sent_back_to_the_login(fastapi_site: Site, panel: Any) -> None:
    ui = panel()
    ui.sign_in(fastapi_site)
    assert fastapi_site.tokens.revoke("ana")
    ui.page.click("#filters button[type=submit]")
    ui.page.wait_for_selector("#login-view", state="visible", timeout=5000)
    assert ui.page.get_attribute("body", "data-view") == "login"
    assert ui.page.is_hidden("#app-view")


def test_statistics_cards_and_charts_show_the_desk_counts(site: Site, panel: Any) -> None:
    seed(site)
    ui = panel("es-ES")
    ui.sign_in(site)
    ui.page.click("#nav-stats")
    ui.page.wait_for_selector("#chart-category rect")
    stats = site.store.statistics()
    cards = ui.page.eval_on_selector_all(
        "#stat-cards .stat",
        "cs => Object.fromEntries(cs.map(c => [c.dataset.stat, c.querySelector('.stat-value').textContent]))",
    )
    assert cards == {
        "total": str(stats.total_tickets),
        **{status: str(count) for status, count in stats.by_status.items()},
        "unread": str(stats.unread_messages),
    }
    for chart, counts in (
        ("status", stats.by_status),
        ("priority", stats.by_priority),
        ("category", stats.by_category),
    ):
        labels = ui.page.eval_on_selector_all(f"#chart-{chart} .chart-label", "ts => ts.map(t => t.textContent)")
        values = ui.page.eval_on_selector_all(
            f"#chart-{chart} .chart-value", "ts => ts.map(t => Number(t.textContent))"
        )
        widths = ui.page.eval_on_selector_all(
            f"#chart-{chart} rect", "rs => rs.map(r => Number(r.getAttribute('width')))"
        )
        assert values == list(counts.values()), chart
        assert len(labels) == len(counts) and all(labels), chart
        # Bars are proportional: the largest count has the longest bar.
        assert widths.index(max(widths)) == values.index(max(values)), chart
    assert ui.page.text_content("#chart-category .chart-label") == "General"
    assert "Facturación" in ui.page.eval_on_selector_all(
        "#chart-category .chart-label", "ts => ts.map(t => t.textContent)"
    )


def test_live_refreshes_keep_the_admins_pending_choice(fastapi_site: Site, panel: Any) -> None:
    site = fastapi_site
    ticket = site.desk.create_ticket(Actor.user(70), subject="Pedido", description="x")
    ui = panel()
    ui.sign_in(site)
    ui.open_ticket(ticket.id)
    ui.page.select_option("#ticket-status", "resolved")
    reply = httpx.post(
        f"{site.api_url}/tickets/{ticket.id}/user-message", json={"message": "¿Hola?"}, headers=site.user(70)
    )
    message_id = reply.json()["data"]["id"]
    ui.page.wait_for_selector(f"[data-message-id='{message_id}']", timeout=3000)
    # The panel reloads the ticket to mark the message read; the pending choice survives it.
    deadline = time.monotonic() + 5
    while not site.store.list_messages(ticket.id)[-1].is_read:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    assert ui.page.input_value("#ticket-status") == "resolved"
    ui.page.click("#ticket-apply")
    ui.page.wait_for_function("() => document.querySelector('#ticket-status option:checked').textContent.includes('(')")
    assert site.store.get_ticket(ticket.id).status is TicketStatus.RESOLVED  # type: ignore[union-attr]


def _shown_ids(ui: PanelPage) -> list[int]:
    ids = ui.page.eval_on_selector_all("#messages [data-message-id]", "ms => ms.map(m => Number(m.dataset.messageId))")
    return [int(i) for i in ids]


def test_a_long_conversation_opens_on_its_newest_page_and_loads_older_on_scroll(site: Site, panel: Any) -> None:
    ticket = site.desk.create_ticket(Actor.user(80), subject="Hilo largo", description="x")
    written = [site.desk.post_message(Actor.user(80), ticket.id, f"mensaje {n}").id for n in range(120)]
    page_size = site.desk.limits.thread_messages
    ui = panel()
    ui.sign_in(site)
    ui.open_ticket(ticket.id)
    assert _shown_ids(ui) == written[-page_size:]
    assert ui.page.is_visible("#messages-older")
    # Every message of the ticket was marked read by opening it, not only those shown.
    assert all(m.is_read for m in site.store.list_messages(ticket.id))

    reading = written[-page_size]
    ui.page.eval_on_selector("#messages", "list => { list.scrollTop = 0; }")
    ui.page.wait_for_function("n => document.querySelectorAll('#messages [data-message-id]').length === n", arg=100)
    assert _shown_ids(ui) == written[-100:]
    # The message that was at the top is still in view: older ones went in above it, out of sight.
    assert ui.page.evaluate(
        """id => {
            const list = document.querySelector('#messages').getBoundingClientRect();
            const node = document.querySelector(`[data-message-id="${id}"]`).getBoundingClientRect();
            return node.bottom > list.top && node.top < list.bottom;
        }""",
        reading,
    )
    # Keyboard and screen-reader users have the button.
    ui.page.focus("#messages-older")
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_function("n => document.querySelectorAll('#messages [data-message-id]').length === n", arg=120)
    assert _shown_ids(ui) == written
    ui.page.wait_for_selector("#messages-older", state="hidden")


def test_a_rate_limited_reply_says_so_and_keeps_the_text(panel: Any) -> None:
    from supportchat.http.ratelimit import RateLimits

    from .servers import serve

    with serve("fastapi", rate_limits=RateLimits(admin_writes="1/minute")) as site:
        ticket = site.desk.create_ticket(Actor.user(81), subject="Límite", description="x")
        ui = panel()
        ui.sign_in(site)
        ui.open_ticket(ticket.id)
        for text in ("primera respuesta", "segunda respuesta"):
            ui.page.fill("#reply-text", text)
            ui.page.click("#reply-send")
            ui.page.wait_for_function("() => !document.querySelector('#reply-send').disabled")
        ui.page.wait_for_selector(".toast-error", timeout=3000)
        assert "too many requests" in ui.page.text_content(".toast-error")  # type: ignore[operator]
        assert ui.page.input_value("#reply-text") == "segunda respuesta"
        assert [m.message for m in site.store.list_messages(ticket.id)] == ["primera respuesta"]
