"""``supportchat sla …``: business calendars, SLA policies, a ticket's deadlines, the due list, a scan by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pydantic
import typer

from ..extensions import extension
from ..models import Actor, utc_iso
from ..sla import CalendarIn, DueFilter, PolicyIn, SlaClock, SlaStore, SlaView
from ..sla.feature import scheduler
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, emit_listing, handled, out

__all__ = ["sla_app"]

sla_app = typer.Typer(help="SLA: business calendars, policies, deadlines and escalation.", no_args_is_help=True)
JsonFile = Annotated[Path, typer.Argument(help="A JSON file (as the HTTP API's body), or - for standard input.")]


def _read(path: Path) -> dict[str, Any]:
    text = typer.get_text_stream("stdin").read() if str(path) == "-" else path.read_text(encoding="utf-8")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{path}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise UserError(f"{path}: a JSON object is needed")
    return value


def _parsed(model: type[pydantic.BaseModel], spec: Path, name: str) -> Any:
    try:
        return model.model_validate({**_read(spec), "name": name})
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise UserError(f"{spec}: {problems}") from None


def _store(session: Any) -> SlaStore:
    return extension(session.store, SlaStore)  # type: ignore[type-abstract]


def _save(record: Any, put: Callable[[SlaStore, Any], Any], database_url: str | None, json_output: bool) -> None:
    from .config import open_session

    with open_session(database_url) as session:
        stored = put(_store(session), record)
    emit_json(stored) if json_output else out().print(f"{stored.name} saved.", markup=False)


@sla_app.command("calendar-set")
@handled
def calendar_set(name: str, spec: JsonFile, database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Create or replace the calendar NAME from JSON: time_zone, hours, holidays, holiday_country."""
    calendar = _parsed(CalendarIn, spec, name)
    _save(calendar, lambda store, c: store.put_calendar(c), database_url, json_output)


@sla_app.command("calendars")
@handled
def calendars(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """The business calendars."""
    from .config import open_session

    with open_session(database_url) as session:
        found = _store(session).calendars()
    emit_listing(
        found,
        json_output=json_output,
        empty="No calendars.",
        columns=("name", "time zone", "hours", "holidays"),
        row=lambda c: (
            c.name,
            c.time_zone,
            "; ".join(f"{d} {' '.join(f'{a}-{b}' for a, b in hours)}" for d, hours in c.hours.items() if hours),
            ", ".join([c.holiday_country or "", *(d.isoformat() for d in c.holidays)]).strip(", "),
        ),
    )


@sla_app.command("policy-set")
@handled
def policy_set(name: str, spec: JsonFile, database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Create or replace the policy NAME from JSON: calendar, conditions, targets in minutes, escalation."""
    policy = _parsed(PolicyIn, spec, name)
    _save(policy, lambda store, p: store.put_policy(p), database_url, json_output)


@sla_app.command("policies")
@handled
def policies(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """The SLA policies, in the order they are tried."""
    from .config import open_session

    with open_session(database_url) as session:
        found = _store(session).policies()
    emit_listing(
        found,
        json_output=json_output,
        empty="No policies.",
        columns=("position", "name", "calendar", "first / next / resolution (min)", "pause", "warning"),
        row=lambda p: (
            str(p.position),
            p.name,
            p.calendar,
            " / ".join("-" if m is None else str(m) for m in (
                p.first_response_minutes, p.next_response_minutes, p.resolution_minutes)),
            ", ".join(p.pause_statuses),
            f"{p.warning_minutes} min",
        ),
    )  # fmt: skip


@sla_app.command("remove")
@handled
def remove(
    kind: Annotated[str, typer.Argument(help="calendar or policy")], name: str, database_url: DatabaseUrl = None
) -> None:
    """Remove a calendar (no policy may use it) or a policy (tickets keep their deadlines)."""
    from .config import open_session

    if kind not in ("calendar", "policy"):
        raise UserError("say calendar or policy")
    with open_session(database_url) as session:
        store = _store(session)
        found = store.delete_calendar(name) if kind == "calendar" else store.delete_policy(name)
    if not found:
        raise UserError(f"no {kind} named {name!r}")
    out().print(f"Removed {kind} {name}.", markup=False)


def _countdown(view: SlaView, now: datetime) -> str:
    dues = [d for d in (view.first_response_due, view.next_response_due, view.resolution_due) if d is not None]
    if view.paused:
        return "paused"
    if not dues:
        return "-"
    seconds = int((min(dues) - now).total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _due(value: datetime | None) -> str:
    return "-" if value is None else utc_iso(value)


@sla_app.command("show")
@handled
def show(ticket: str, database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """A ticket's SLA: policy, deadlines, breached and met targets."""
    from .config import open_session

    with open_session(database_url) as session:
        found = session.desk.get_ticket(Actor.system(), ticket, mark_read=False, limit=1)
        view = SlaClock(session.desk).views([found]).get(found.id)
    if json_output:
        emit_json(view)
        return
    if view is None:
        out().print(f"{found.ticket_number}: under no SLA policy.", markup=False)
        return
    lines = [
        f"{found.ticket_number}: policy {view.policy}" + (" (paused)" if view.paused else ""),
        f"  first response due {_due(view.first_response_due)}",
        f"  next response due  {_due(view.next_response_due)}",
        f"  resolution due     {_due(view.resolution_due)}",
        f"  breached: {', '.join(view.breached) or 'none'}; met: {', '.join(view.met) or 'none'}",
    ]
    out().print("\n".join(lines), markup=False)


@sla_app.command("due")
@handled
def due(
    database_url: DatabaseUrl = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    json_output: JsonOutput = False,
) -> None:
    """Tickets with running deadlines, the soonest due first, with the time left."""
    from .config import open_session

    with open_session(database_url) as session:
        ids, _ = _store(session).due_tickets(DueFilter(), offset=0, limit=limit)
        tickets = [t for i in ids if (t := session.store.get_ticket(i)) is not None]
        views = SlaClock(session.desk).views(tickets)
    now = datetime.now(UTC)
    rows = [(t, views[t.id]) for t in tickets if t.id in views]
    if json_output:
        emit_json([{"ticket_number": t.ticket_number, "sla": v} for t, v in rows])
        return
    emit_listing(
        rows,
        json_output=False,
        empty="No running deadlines.",
        columns=("ticket", "priority", "status", "policy", "left", "breached"),
        row=lambda r: (r[0].ticket_number, r[0].priority, r[0].status, r[1].policy or "-",
                       _countdown(r[1], now), ", ".join(r[1].breached)),
    )  # fmt: skip


@sla_app.command("reapply")
@handled
def reapply(ticket: str, database_url: DatabaseUrl = None) -> None:
    """Choose TICKET's policy again and recompute its running deadlines from now (the explicit change)."""
    from .config import open_session

    with open_session(database_url) as session:
        found = session.desk.get_ticket(Actor.system(), ticket, mark_read=False, limit=1)
        policy = SlaClock(session.desk, schedule=scheduler(session.store)).apply(found, replace=True)
    out().print(f"{found.ticket_number}: {'policy ' + policy.name if policy else 'no policy applies'}.", markup=False)


@sla_app.command("scan")
@handled
def scan(database_url: DatabaseUrl = None) -> None:
    """Fire what is due now and run pending escalations (the worker does this on time by itself)."""
    from .config import open_session

    with open_session(database_url) as session:
        clock = SlaClock(session.desk, schedule=scheduler(session.store))
        fired = clock.scan()
        escalated = clock.escalate()
        clock.schedule()
    out().print(f"{len(fired)} event(s) fired, {escalated} breach(es) escalated.", markup=False)
