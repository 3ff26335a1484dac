"""``supportchat teams …``: teams, agents' availability, transfers and the assignment queue (spec §17).

Commands act as the system (the record of changes says ``system``); an
agent is named by an admin's name or id, a ticket by its id or number.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ..desk import UNSET
from ..models import Actor
from ..teams import AgentAvailability, QueueEntry, TeamView, team_desk
from .config import Session, open_session
from .options import DatabaseUrl, JsonOutput
from .output import emit_json, emit_listing, handled, out
from .people import agent_id_of

__all__ = ["teams_app"]

teams_app = typer.Typer(help="Teams, agents' availability, transfers and auto-assignment.", no_args_is_help=True)

SYSTEM = Actor.system()
TeamName = Annotated[str, typer.Argument(help="The team's name (a-z 0-9 - _).")]
AgentRef = Annotated[str, typer.Argument(help="The agent: an admin's name or id.")]


def _agent_id(session: Session, ref: str) -> int:
    return agent_id_of(session, ref)[0]


def _team_row(team: TeamView) -> tuple[str, ...]:
    return (
        escape(team.name),
        escape(team.display_name),
        "[green]on[/]" if team.auto_assign else "[dim]off[/]",
        escape(", ".join(c.value for c in team.categories) or "-"),
        ", ".join(str(m) for m in team.members) or "-",
        str(team.waiting),
    )


@teams_app.command("list")
@handled
def list_teams(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Every team: auto-assignment, the categories routed to it, members and waiting tickets."""
    with open_session(database_url) as session:
        found = team_desk(session.desk).list_teams(SYSTEM)
    emit_listing(
        found,
        json_output=json_output,
        empty="No teams yet: `supportchat teams set NAME` makes one.",
        columns=("name", "display name", "auto-assign", "categories", "members", "waiting"),
        row=_team_row,
    )


@teams_app.command("set")
@handled
def set_team(
    name: TeamName,
    display_name: Annotated[str | None, typer.Option("--display-name", help="How the panel shows it.")] = None,
    auto_assign: Annotated[
        bool | None, typer.Option("--auto-assign/--no-auto-assign", help="Hand waiting tickets out (default off).")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Route new tickets of this category here (repeat).")
    ] = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Create a team or change it; what is not given stays."""
    with open_session(database_url) as session:
        team = team_desk(session.desk).put_team(
            SYSTEM, name, display_name=display_name, auto_assign=auto_assign, categories=category
        )
    if json_output:
        emit_json(team)
    else:
        out().print(f"Team [bold]{escape(team.name)}[/] saved (auto-assign {'on' if team.auto_assign else 'off'}).")


@teams_app.command("remove")
@handled
def remove_team(name: TeamName, database_url: DatabaseUrl = None) -> None:
    """Remove a team and its queue (its tickets keep their assignees)."""
    with open_session(database_url) as session:
        removed = team_desk(session.desk).remove_team(SYSTEM, name)
    out().print(f"Team {escape(name)} removed." if removed else f"No team {escape(name)}.")


@teams_app.command("add-member")
@handled
def add_member(team: TeamName, agent: AgentRef, database_url: DatabaseUrl = None) -> None:
    """Put an agent in a team."""
    with open_session(database_url) as session:
        changed = team_desk(session.desk).add_member(SYSTEM, team, _agent_id(session, agent))
    out().print(f"{escape(changed.name)} is in {escape(', '.join(changed.teams))}.")


@teams_app.command("remove-member")
@handled
def remove_member(team: TeamName, agent: AgentRef, database_url: DatabaseUrl = None) -> None:
    """Take an agent out of a team."""
    with open_session(database_url) as session:
        changed = team_desk(session.desk).remove_member(SYSTEM, team, _agent_id(session, agent))
    out().print(f"{escape(changed.name)} is in {escape(', '.join(changed.teams) or 'no team')}.")


def _availability_row(agent: AgentAvailability) -> tuple[str, ...]:
    load = f"{agent.open_load}/{agent.capacity}" if agent.capacity else str(agent.open_load)
    return (
        str(agent.id),
        escape(agent.name),
        escape(", ".join(agent.teams) or "-"),
        agent.status.value if agent.available else f"{agent.status.value} (off the roster)",
        load,
        "[green]yes[/]" if agent.takes_tickets else "[dim]no[/]",
    )


@teams_app.command("availability")
@handled
def availability(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Every agent's availability, load and whether they take tickets now."""
    with open_session(database_url) as session:
        agents = team_desk(session.desk).availability(SYSTEM)
    emit_listing(
        agents,
        json_output=json_output,
        empty="No agents yet: `supportchat admin create NAME` makes an admin and its agent.",
        columns=("id", "name", "teams", "status", "load", "takes tickets"),
        row=_availability_row,
    )


@teams_app.command("status")
@handled
def set_status(
    agent: AgentRef,
    status: Annotated[str, typer.Argument(help="available, away or offline.")],
    capacity: Annotated[
        int | None, typer.Option("--capacity", min=0, help="Open tickets they take at once (0: no limit).")
    ] = None,
    requeue: Annotated[
        bool, typer.Option("--requeue", help="Return their open team tickets to the teams' queues.")
    ] = False,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Set an agent's availability (and capacity)."""
    with open_session(database_url) as session:
        changed = team_desk(session.desk).set_availability(
            SYSTEM,
            _agent_id(session, agent),
            status,
            capacity=UNSET if capacity is None else capacity,
            requeue=requeue,
        )
    if json_output:
        emit_json(changed)
    else:
        out().print(f"{escape(changed.name)} is {changed.status.value}; open load {changed.open_load}.")


@teams_app.command("transfer")
@handled
def transfer(
    ticket: Annotated[str, typer.Argument(help="The ticket's id or number.")],
    to: Annotated[str | None, typer.Option("--to", help="The agent who takes it (an admin's name or id).")] = None,
    team: Annotated[str | None, typer.Option("--team", help="The team that takes it.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the record of changes).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note for the agents.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Even to an unavailable agent or one at capacity.")] = False,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Transfer a ticket to an agent or a team."""
    with open_session(database_url) as session:
        agent = None if to is None else _agent_id(session, to)
        done = team_desk(session.desk).transfer(
            SYSTEM, ticket, to=agent, team=team, reason=reason, note=note, force=force
        )
    if json_output:
        emit_json(done.ticket)
        return
    where = f"agent {done.to_agent}" if done.to_agent is not None else f"team {done.team} (waiting)"
    out().print(f"{done.ticket.ticket_number} transferred to {escape(where)}.")


def _queue_row(entry: QueueEntry) -> tuple[str, ...]:
    held = "-" if entry.reserved_for is None else f"held for {entry.reserved_for}"
    return (str(entry.ticket_id), entry.queued_at.isoformat(timespec="seconds"), held)


@teams_app.command("queue")
@handled
def queue(team: TeamName, database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """The team's tickets waiting for an agent, in arrival order."""
    with open_session(database_url) as session:
        entries = team_desk(session.desk).waiting(SYSTEM, team)
    emit_listing(
        entries, json_output=json_output, empty="Nothing waits.", columns=("ticket", "arrived", "hold"), row=_queue_row
    )


@teams_app.command("assign")
@handled
def assign(database_url: DatabaseUrl = None) -> None:
    """Hand out waiting tickets now (what the worker's sweep does); safe beside running workers."""
    with open_session(database_url) as session:
        given = team_desk(session.desk).sweep()
    out().print(f"{given} tickets assigned.")
