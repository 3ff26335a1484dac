"""The panel's reports page in real Chromium, on both adapters: the hand-worked week's figures, axe-core clean.

The twelve tickets of ``tests/reports/test_hand_worked.py`` are written into the
desk and their facts stored (``recompute``); the page, set to the week and grouped
by day, must render exactly the figures worked out by hand, then by agent; its CSV
link is the API's CSV of the same query.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from supportchat import SupportDesk
from supportchat.reports import recompute
from supportchat.reports.feature import feature

from ..reports.test_hand_worked import EXPECTED_DAYS, EXPECTED_TOTAL, Clock, _write_the_week
from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import ADAPTER_NAMES, Site, serve

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=ADAPTER_NAMES)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with serve(request.param, features=[feature()]) as running:
        clock = Clock()
        _write_the_week(SupportDesk(running.store, clock=lambda: clock.now), clock)
        recompute(running.store)
        yield running


@pytest.fixture(params=["en-US", "es-ES"])
def ui(browser: Any, request: pytest.FixtureRequest) -> Iterator[PanelPage]:
    page = new_panel_page(browser, request.param)
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()


def _number(text: str) -> float | None:
    return None if text == "–" else float(text)


def _row(ui: PanelPage, group: str) -> dict[str, float | None]:
    cells = ui.page.eval_on_selector_all(
        f"#reports-rows tr[data-group='{group}'] td", "tds => tds.map(td => [td.dataset.col, td.textContent])"
    )
    return {name: _number(text) for name, text in cells}


def _show(ui: PanelPage, group_by: str) -> None:
    page = ui.page
    loaded = int(page.get_attribute("#reports-view", "data-loaded") or 0)
    page.fill("#reports-from", "2026-03-02")
    page.fill("#reports-to", "2026-03-09")
    page.select_option("#reports-group", group_by)
    page.click("#reports-show")
    page.wait_for_function(f"() => Number(document.querySelector('#reports-view').dataset.loaded) > {loaded}")


def test_the_reports_page_shows_the_hand_worked_week(site: Site, ui: PanelPage) -> None:
    ui.sign_in(site)
    page = ui.page
    page.wait_for_selector("#nav-reports:not([hidden])")
    page.click("#nav-reports")
    page.wait_for_selector("#reports-rows tr")
    _show(ui, "day")
    assert_accessible(page, "reports by day")
    total = _row(ui, "total")
    assert total["created"] == EXPECTED_TOTAL["created"] and total["resolved"] == EXPECTED_TOTAL["resolved"]
    assert total["reopened"] == EXPECTED_TOTAL["reopened"] and total["backlog"] == EXPECTED_TOTAL["backlog"]
    assert total["frtMedian"] == EXPECTED_TOTAL["first_response"]["median"]
    assert total["frtP90"] == EXPECTED_TOTAL["first_response"]["p90"]
    assert total["nextMedian"] == EXPECTED_TOTAL["next_response"]["median"]
    assert total["resolutionMedian"] == EXPECTED_TOTAL["resolution"]["median"]
    assert total["resolutionP90"] == EXPECTED_TOTAL["resolution"]["p90"]
    assert (total["csat"], total["csatCount"]) == (EXPECTED_TOTAL["csat"]["mean"], EXPECTED_TOTAL["csat"]["count"])
    assert total["slaFirst"] is None  # no SLA policy in the week
    for day, (created, resolved, reopened, frt, resolution, csat, backlog) in EXPECTED_DAYS.items():
        row = _row(ui, day)
        assert (row["created"], row["resolved"], row["reopened"], row["backlog"]) == (
            created,
            resolved,
            reopened,
            backlog,
        ), day
        assert (row["frtMedian"], row["frtP90"]) == (frt[2], frt[3]), day
        assert (row["resolutionMedian"], row["resolutionP90"]) == (resolution[2], resolution[3]), day
        assert (row["csat"], row["csatCount"]) == (csat[1], csat[0]), day
    href = page.get_attribute("#reports-csv", "href") or ""
    assert href.endswith("/reports?from=2026-03-02&to=2026-03-09&group_by=day&format=csv")
    csv_text = page.evaluate("url => fetch(url, {credentials: 'same-origin'}).then(r => r.text())", href)
    assert csv_text.splitlines()[-1].startswith("total,12,10,3,")

    _show(ui, "agent")
    assert_accessible(page, "reports by agent")
    assert _row(ui, "10")["frtMedian"] == 1050.0  # agent 10: 300, 600, 900, 1200, 3600, 3600
    assert _row(ui, "unassigned")["created"] == 12
