"""Twelve tickets worked out by hand: the API's JSON and CSV (both adapters) and the CLI show exactly these figures.

The week of Monday 2026-03-02, ``group_by=day``, range [03-02, 03-09). Agents 10
and 11; times are UTC. Each ticket's story, with the figures it gives (s = seconds):

T1  Mon 09:00 created; 09:10 agent 10 replies (FRT 600); 10:00 resolved (resolution 3600, full 3600).
T2  Mon 09:30 created; 09:31 automated reply (never counts); 10:00 agent 11 (FRT 1800);
    10:10 user writes; 10:40 agent 11 (next response 1800); 11:30 resolved (7200, full 7200);
    12:00 rated 5.
T3  Mon 11:00 created; 11:20 agent 10 (FRT 1200); 12:00 resolved (3600); 12:30 rated 2;
    Tue 09:00 the user writes: reopened, cycle 2; 09:15 agent 10 (FRT 900, Tue);
    Tue 10:00 resolved (3600; full Mon 11:00 → Tue 10:00 = 82800); 10:30 rated 4.
T4  Mon 14:00 created; nobody answers (backlog from Mon on).
T5  Tue 08:00 created (billing, high); 08:30 agent 11 (FRT 1800), set in progress (backlog).
T6  Tue 12:00 created; 13:00 agent 10 (FRT 3600); 14:00 resolved (7200, full 7200);
    15:00 rated 3; Wed 09:00 closed (not a reopening).
T7  Wed 09:00 created; 09:05 agent 10 (FRT 300); 09:10 user; 09:20 agent 10 (next 600);
    09:30 user; 09:31 automated; 10:30 agent 11 (next 3600); 11:00 resolved (7200, full 7200);
    11:30 rated 4.
T8  Wed 10:00 created; 10:01 automated only, no FRT; 10:30 resolved (1800, full 1800); 11:00 rated 1.
T9  Thu 09:00 created; 09:45 agent 11 (FRT 2700); 10:00 resolved (3600); 11:00 reopened by an
    agent (cycle 2, no reply in it); 12:00 resolved (3600); 13:00 reopened (cycle 3, backlog).
T10 Fri 09:00 created; 10:00 agent 10 (FRT 3600); 11:00 resolved (7200, full 7200); 12:00 rated 5.
T11 Sat 10:00 created; open (backlog).
T12 Sun 23:00 created; agent 11 replies Mon 03-09 00:30, after the range (not counted); open at the end.

By day (median/p90 of the wall-clock seconds; p90 is the value of rank ⌈0.9·n⌉):

day created resolved reopened FRT [values] mean/median/p90 res. [values] mean/median/p90 CSAT n/mean/share backlog
Mon 4 3 0 [600,1200,1800] 1200/1200/1800 [3600,3600,7200] 4800/3600/7200 2/3.5/0.5 1
Tue 2 2 1 [900,1800,3600] 2100/1800/3600 [3600,7200] 5400/5400/7200 2/3.5/0.5 2
Wed 2 2 0 [300] 300/300/300 [1800,7200] 4500/4500/7200 2/2.5/0.5 2
Thu 1 2 2 [2700] [3600,3600] 3600/3600/3600 0 3
Fri 1 1 0 [3600] [7200] 1/5/1.0 3
Sat 1 0 0 - - 0 4
Sun 1 0 0 - - 0 5

Total: created 12, resolved 10, reopened 3, backlog 5 (T4, T5, T9, T11, T12).
FRT: 300,600,900,1200,1800,1800,2700,3600,3600: sum 16500 / 9 = 1833.333; median (5th) 1800; p90 (9th) 3600.
Next response: 600,1800,3600: mean 2000, median 1800, p90 (3rd) 3600.
Resolution: 1800, 3600×5, 7200×4: sum 48600 / 10 = 4860; median 3600; p90 (9th) 7200.
Full resolution: 1800,3600,7200,7200,7200,7200,82800: sum 117000 / 7 = 16714.286; median 7200; p90 (7th) 82800.
CSAT: 5,2,4,3,4,1,5: 24 / 7 = 3.429; share of 4–5: 4 / 7 = 0.571.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from supportchat import Actor, SupportDesk
from supportchat.cli.app import app
from supportchat.reports import METRICS_VERSION, recompute
from supportchat.reports.feature import feature
from supportchat.reports.upkeep import fact_store
from supportchat.stores.sql import SQLStore

from ..api.conftest import make_api

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
USER = Actor.user(1)
A10, A11 = Actor.admin(10), Actor.admin(11)
QUERY = {"from": "2026-03-02", "to": "2026-03-09", "group_by": "day"}

EXPECTED_TOTAL = {
    "created": 12,
    "resolved": 10,
    "reopened": 3,
    "backlog": 5,
    "first_response": {"count": 9, "mean": 1833.333, "median": 1800.0, "p90": 3600.0},
    "next_response": {"count": 3, "mean": 2000.0, "median": 1800.0, "p90": 3600.0},
    "resolution": {"count": 10, "mean": 4860.0, "median": 3600.0, "p90": 7200.0},
    "full_resolution": {"count": 7, "mean": 16714.286, "median": 7200.0, "p90": 82800.0},
    "csat": {"count": 7, "mean": 3.429, "satisfied_share": 0.571},
}
#: day: created, resolved, reopened, FRT (count, mean, median, p90), resolution (…), CSAT (count, mean, share), backlog
EXPECTED_DAYS: dict[str, tuple[Any, ...]] = {
    "2026-03-02": (4, 3, 0, (3, 1200.0, 1200.0, 1800.0), (3, 4800.0, 3600.0, 7200.0), (2, 3.5, 0.5), 1),
    "2026-03-03": (2, 2, 1, (3, 2100.0, 1800.0, 3600.0), (2, 5400.0, 5400.0, 7200.0), (2, 3.5, 0.5), 2),
    "2026-03-04": (2, 2, 0, (1, 300.0, 300.0, 300.0), (2, 4500.0, 4500.0, 7200.0), (2, 2.5, 0.5), 2),
    "2026-03-05": (1, 2, 2, (1, 2700.0, 2700.0, 2700.0), (2, 3600.0, 3600.0, 3600.0), (0, None, None), 3),
    "2026-03-06": (1, 1, 0, (1, 3600.0, 3600.0, 3600.0), (1, 7200.0, 7200.0, 7200.0), (1, 5.0, 1.0), 3),
    "2026-03-07": (1, 0, 0, (0, None, None, None), (0, None, None, None), (0, None, None), 4),
    "2026-03-08": (1, 0, 0, (0, None, None, None), (0, None, None, None), (0, None, None), 5),
}


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        self.now = MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def _write_the_week(desk: SupportDesk, clock: Clock) -> None:
    def ticket(day: int, hour: int, minute: int = 0, **fields: Any) -> int:
        clock.at(day, hour, minute)
        return desk.create_ticket(USER, subject="Ayuda", description="No funciona", **fields).id

    def say(who: Actor, ref: int, day: int, hour: int, minute: int = 0, *, automated: bool = False) -> None:
        clock.at(day, hour, minute)
        desk.post_message(who, ref, "Hola", automated=automated)

    def status(ref: int, to: str, day: int, hour: int, minute: int = 0) -> None:
        clock.at(day, hour, minute)
        desk.change_status(A10, ref, to)

    def rate(ref: int, score: int, day: int, hour: int, minute: int = 0) -> None:
        clock.at(day, hour, minute)
        desk.rate(USER, ref, score)

    t1 = ticket(0, 9)
    say(A10, t1, 0, 9, 10)
    status(t1, "resolved", 0, 10)
    t2 = ticket(0, 9, 30)
    say(A10, t2, 0, 9, 31, automated=True)
    say(A11, t2, 0, 10)
    say(USER, t2, 0, 10, 10)
    say(A11, t2, 0, 10, 40)
    status(t2, "resolved", 0, 11, 30)
    rate(t2, 5, 0, 12)
    t3 = ticket(0, 11)
    say(A10, t3, 0, 11, 20)
    status(t3, "resolved", 0, 12)
    rate(t3, 2, 0, 12, 30)
    ticket(0, 14)  # T4
    t5 = ticket(1, 8, category="billing", priority="high")
    say(A11, t5, 1, 8, 30)
    status(t5, "in_progress", 1, 8, 30)
    say(USER, t3, 1, 9)  # reopens T3
    say(A10, t3, 1, 9, 15)
    status(t3, "resolved", 1, 10)
    rate(t3, 4, 1, 10, 30)
    t6 = ticket(1, 12)
    say(A10, t6, 1, 13)
    status(t6, "resolved", 1, 14)
    rate(t6, 3, 1, 15)
    status(t6, "closed", 2, 9)
    t7 = ticket(2, 9)
    say(A10, t7, 2, 9, 5)
    say(USER, t7, 2, 9, 10)
    say(A10, t7, 2, 9, 20)
    say(USER, t7, 2, 9, 30)
    say(A10, t7, 2, 9, 31, automated=True)
    say(A11, t7, 2, 10, 30)
    status(t7, "resolved", 2, 11)
    rate(t7, 4, 2, 11, 30)
    t8 = ticket(2, 10)
    say(A10, t8, 2, 10, 1, automated=True)
    status(t8, "resolved", 2, 10, 30)
    rate(t8, 1, 2, 11)
    t9 = ticket(3, 9)
    say(A11, t9, 3, 9, 45)
    status(t9, "resolved", 3, 10)
    status(t9, "in_progress", 3, 11)
    status(t9, "resolved", 3, 12)
    status(t9, "in_progress", 3, 13)
    t10 = ticket(4, 9)
    say(A10, t10, 4, 10)
    status(t10, "resolved", 4, 11)
    rate(t10, 5, 4, 12)
    ticket(5, 10)  # T11
    t12 = ticket(6, 23)
    say(A11, t12, 7, 0, 30)


@pytest.fixture(scope="module", params=["histories", "facts"])
def week(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SQLStore, str]]:
    """The week in a SQLite file; read from the histories, or from the facts ``report --recompute`` stored."""
    path: Path = tmp_path_factory.mktemp("report") / "week.db"
    url = f"sqlite:///{path}"
    store = SQLStore.from_url(url)
    clock = Clock()
    _write_the_week(SupportDesk(store, clock=lambda: clock.now), clock)
    if request.param == "facts":
        rebuilt = CliRunner().invoke(app, ["report", "--recompute", "--json", "--database-url", url])
        assert rebuilt.exit_code == 0, rebuilt.output
        assert json.loads(rebuilt.stdout) == {"tickets": 12, "metrics_version": METRICS_VERSION}
    yield store, url
    store.close()


def _time(figure: dict[str, Any]) -> tuple[Any, ...]:
    wall = figure["wall"]
    return (wall["count"], wall["mean"], wall["median"], wall["p90"])


def _check_json(data: dict[str, Any]) -> None:
    total = data["total"]
    for name in ("created", "resolved", "reopened", "backlog"):
        assert total[name] == EXPECTED_TOTAL[name], name
    for name in ("first_response", "next_response", "resolution", "full_resolution"):
        assert total[name]["wall"] == EXPECTED_TOTAL[name], name
        assert total[name]["business"]["count"] == 0  # no calendar given
    assert total["csat"] == EXPECTED_TOTAL["csat"]
    days = {row["group"]: row for row in data["rows"]}
    assert list(days) == list(EXPECTED_DAYS)
    for day, (created, resolved, reopened, frt, resolution, csat, backlog) in EXPECTED_DAYS.items():
        row = days[day]
        assert (row["created"], row["resolved"], row["reopened"], row["backlog"]) == (
            created,
            resolved,
            reopened,
            backlog,
        ), day
        assert _time(row["first_response"]) == frt, day
        assert _time(row["resolution"]) == resolution, day
        assert (row["csat"]["count"], row["csat"]["mean"], row["csat"]["satisfied_share"]) == csat, day


def _number(cell: str) -> float | int | None:
    if cell == "":
        return None
    return float(cell) if "." in cell else int(cell)


def _check_csv(text: str) -> None:
    lines = list(csv.DictReader(io.StringIO(text)))
    assert [line["group"] for line in lines] == [*EXPECTED_DAYS, "total"]
    total = lines[-1]
    assert _number(total["first_response_wall_mean"]) == 1833.333
    assert _number(total["full_resolution_wall_mean"]) == 16714.286
    assert _number(total["csat_satisfied_share"]) == 0.571
    for line in lines[:-1]:
        created, resolved, reopened, frt, resolution, csat, backlog = EXPECTED_DAYS[line["group"]]
        assert [_number(line[k]) for k in ("created", "resolved", "reopened", "backlog")] == [
            created,
            resolved,
            reopened,
            backlog,
        ]
        got_frt = tuple(_number(line[f"first_response_wall_{k}"]) for k in ("count", "mean", "median", "p90"))
        assert got_frt == frt
        got_res = tuple(_number(line[f"resolution_wall_{k}"]) for k in ("count", "mean", "median", "p90"))
        assert got_res == resolution
        assert tuple(_number(line[f"csat_{k}"]) for k in ("count", "mean", "satisfied_share")) == csat


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_the_api_json_and_csv_reproduce_the_hand_worked_week(week: tuple[SQLStore, str], adapter: str) -> None:
    store, _ = week
    api = make_api(adapter, SupportDesk(store), store, features=[feature()])
    reply = api.call("GET", "/reports", headers=api.admin, query=QUERY)
    assert reply.status == 200, reply.body
    _check_json(json.loads(reply.body)["data"])
    as_csv = api.call("GET", "/reports", headers=api.admin, query={**QUERY, "format": "csv"})
    assert as_csv.status == 200, as_csv.body
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    _check_csv(as_csv.body.decode())
    assert api.call("GET", "/reports", headers=api.user(1), query=QUERY).status == 403
    bad = api.call("GET", "/reports", headers=api.admin, query={**QUERY, "group_by": "planet"})
    assert bad.status == 422, bad.body
    backwards = api.call("GET", "/reports", headers=api.admin, query={"from": "2026-03-09", "to": "2026-03-02"})
    assert backwards.status == 422, backwards.body


def test_the_cli_reproduces_the_hand_worked_week(week: tuple[SQLStore, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = week
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    base = ["report", "--from", "2026-03-02", "--to", "2026-03-09", "--group-by", "day", "--database-url", url]
    as_json = runner.invoke(app, [*base, "--json"])
    assert as_json.exit_code == 0, as_json.output
    _check_json(json.loads(as_json.stdout))
    as_csv = runner.invoke(app, [*base, "--csv"])
    assert as_csv.exit_code == 0, as_csv.output
    _check_csv(as_csv.stdout)
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    total_line = next(line for line in table.stdout.splitlines() if "total" in line)
    # group, created, resolved, reopened, FRT median, FRT p90, next median, resolution median, p90, CSAT, n,
    # SLA first response and resolution (no SLA policy here), backlog
    cells = [c.strip() for c in total_line.strip("│┃ ").replace("┃", "│").split("│")]
    expected = ["total", "12", "10", "3", "1800.0", "3600.0", "1800.0", "3600.0", "7200.0", "3.429", "7", "-", "-", "5"]
    assert cells == expected
    assert "tickets created" in table.stdout and "█" in table.stdout


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_the_route_is_documented_and_installed(adapter: str, week: tuple[SQLStore, str]) -> None:
    from supportchat.cli.features import installed_features

    store, _ = week
    api = make_api(adapter, SupportDesk(store), store, features=[feature()])
    document = json.loads(api.call("GET", "/openapi.json").body)
    operation = document["paths"]["/admin/api/support/reports"]["get"]
    assert operation["operationId"] == "reports"
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "group_by", "format"}
    assert "report" in {f.name for f in installed_features()}


def test_a_calendar_gives_business_figures_never_above_wall_clock(week: tuple[SQLStore, str]) -> None:
    from .histories import business_hours

    store, _ = week
    stored = fact_store(store)
    assert stored is not None
    if stored.version() is not None:
        recompute(store, business_hours)  # a calendar change: the stored facts are rebuilt with it
    try:
        _check_business_figures(store, business_hours)
    finally:
        if stored.version() is not None:
            recompute(store)


def _check_business_figures(store: SQLStore, business_hours: Any) -> None:
    api = make_api("fastapi", SupportDesk(store), store, features=[feature(business_seconds=business_hours)])
    reply = api.call("GET", "/reports", headers=api.admin, query=QUERY)
    assert reply.status == 200, reply.body
    total = json.loads(reply.body)["data"]["total"]
    # T1: 09:00 → 09:10 on a Monday is all business time; T12's reply is outside the range.
    assert total["first_response"]["business"]["count"] == total["first_response"]["wall"]["count"] == 9
    for name in ("first_response", "next_response", "resolution", "full_resolution"):
        wall, business = total[name]["wall"], total[name]["business"]
        assert business["p90"] <= wall["p90"] and business["mean"] <= wall["mean"], name
    # T3's full resolution, Mon 11:00 → Tue 10:00, holds 6 h Monday + 1 h Tuesday of business time.
    assert total["full_resolution"]["business"]["p90"] == 7 * 3600


def test_grouped_by_agent_a_response_belongs_to_who_wrote_it(week: tuple[SQLStore, str]) -> None:
    store, _ = week
    api = make_api("flask", SupportDesk(store), store, features=[feature()])
    reply = api.call("GET", "/reports", headers=api.admin, query={**QUERY, "group_by": "agent"})
    assert reply.status == 200, reply.body
    rows = {row["group"]: row for row in json.loads(reply.body)["data"]["rows"]}
    # Agent 10: T1 600, T3 1200 and 900, T6 3600, T7 300, T10 3600; agent 11: T2 1800, T5 1800, T9 2700.
    assert {g: r["first_response"]["wall"]["count"] for g, r in rows.items()} == {"10": 6, "11": 3, "unassigned": 0}
    assert rows["11"]["first_response"]["wall"]["mean"] == 2100.0
    # Nobody is ever assigned in the week, so every creation and the whole backlog are unassigned.
    assert rows["unassigned"]["created"] == 12 and rows["unassigned"]["backlog"] == 5
