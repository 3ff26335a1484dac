"""The panel shows each ticket's SLA countdown in its colour, and lists by deadline with "SLA due first" (Chromium).

Both views pass axe-core's WCAG 2 A/AA rules with the SLA shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportchat import SupportDesk
from supportchat.extensions import extension
from supportchat.models import Actor
from supportchat.sla import CalendarIn, PolicyIn, SlaClock, SlaStore
from supportchat.sla.feature import feature
from supportchat.stores import SQLiteStore

from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import serve

pytestmark = pytest.mark.timeout(180)
ALWAYS = {d: [("00:00", "24:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def ui(browser: Any) -> Iterator[PanelPage]:
    page = new_panel_page(browser)
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()


@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_countdowns_colours_and_sort_by_due(adapter: str, tmp_path: Path, ui: PanelPage) -> None:
    store = SQLiteStore(tmp_path / "desk.db")
    sla: SlaStore = extension(store, SlaStore)  # type: ignore[type-abstract]
    sla.put_calendar(CalendarIn(name="always", time_zone="UTC", hours=ALWAYS))
    sla.put_policy(PolicyIn(name="urgent", calendar="always", conditions={"priority": ["urgent"]},  # type: ignore[arg-type]
                            first_response_minutes=30, warning_minutes=10))  # fmt: skip
    sla.put_policy(PolicyIn(name="normal", calendar="always", position=1, first_response_minutes=480))
    with serve(adapter, store=store, features=[feature()]) as site:
        user = Actor.user(5)
        late_desk = SupportDesk(store, clock=lambda: datetime.now(UTC) - timedelta(hours=2))
        late = late_desk.create_ticket(user, subject="Waiting since morning", description="x", priority="urgent")
        soon = site.desk.create_ticket(user, subject="Payment failed", description="x", priority="urgent")
        calm = site.desk.create_ticket(user, subject="Question", description="x")
        bare = site.desk.create_ticket(user, subject="No policy yet", description="x")
        clock = SlaClock(site.desk)
        for ticket in (late, soon, calm):
            clock.apply(ticket)
        clock.scan()
        ui.sign_in(site)
        page = ui.page

        def cell(ticket_id: int) -> Any:
            return page.locator(f'#ticket-rows tr[data-ticket-id="{ticket_id}"] .sla-cell')

        page.wait_for_selector(f'#ticket-rows tr[data-ticket-id="{late.id}"]')
        assert "over" in cell(late.id).inner_text() and cell(late.id).locator(".sla-breached").count() == 1
        assert "left" in cell(soon.id).inner_text() and cell(soon.id).locator(".sla-warning").count() == 1
        assert cell(calm.id).locator(".sla-ok").count() == 1
        assert cell(bare.id).inner_text() == "—"
        assert_accessible(page, "list with SLA countdowns")

        page.select_option("#filter-sort", "due")
        page.click("#filters button[type=submit]")
        page.wait_for_function("() => document.querySelectorAll('#ticket-rows tr').length === 3")
        order = page.eval_on_selector_all("#ticket-rows tr", "rows => rows.map(r => Number(r.dataset.ticketId))")
        assert order == [late.id, soon.id, calm.id]

        page.click(f'#ticket-rows tr[data-ticket-id="{late.id}"]')
        page.wait_for_selector("#ticket-sla:not([hidden])")
        line = page.inner_text("#ticket-sla")
        assert "urgent" in line and "first response" in line and "breached" in line
        assert_accessible(page, "ticket with its SLA")
