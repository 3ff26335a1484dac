"""``supportchat agents …`` and ``supportchat contacts …``: the standalone directories (spec §11).

Standalone, an agent is an admin account (``supportchat admin create NAME``
makes the agent row too); ``agents add`` gives an existing admin an agent
row, ``agents set`` changes one. A host app that supplies its own
directories does not need these commands.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ..people import (
    Agent,
    AgentLoad,
    Contact,
    agent_store,
    contact_store,
    directories_of,
    parse_agent,
    parse_contact,
)
from .config import Session, open_session
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, emit_listing, handled, out

__all__ = ["agent_id_of", "agents_app", "contacts_app", "ensure_agent_for_admin"]

agents_app = typer.Typer(help="List, add and change agents (the admins who answer tickets).", no_args_is_help=True)
contacts_app = typer.Typer(help="List and set contacts (how the desk addresses users).", no_args_is_help=True)

AgentRef = Annotated[str, typer.Argument(help="The agent: an admin's name or id.")]
Teams = Annotated[list[str] | None, typer.Option("--team", help="A team the agent belongs to (repeat for several).")]
Email = Annotated[str | None, typer.Option("--email", help="Where to write to them.")]
Capacity = Annotated[
    int | None, typer.Option("--capacity", min=0, help="Open tickets they take at once (0: no limit).")
]


def ensure_agent_for_admin(session: Session, admin_id: int, name: str) -> Agent | None:
    """The admin's agent row, made with the admin's name if there is none (standalone, admins are agents)."""
    table = agent_store(session.store)
    existing = table.get_agent(admin_id)
    if existing is not None:
        return existing
    return table.put_agent(parse_agent(id=admin_id, name=name))


def agent_id_of(session: Session, ref: str) -> tuple[int, str | None]:
    """The id ``ref`` names and the admin's name, from the admin accounts (or a bare id)."""
    admin = session.admin_tokens.get(ref)
    if admin is not None:
        return admin.id, admin.name
    if ref.strip().isdecimal():
        return int(ref), None
    raise UserError(f"no admin {ref!r}; see `supportchat admin list`")


def _agent_row(agent: AgentLoad) -> tuple[str, ...]:
    load = f"{agent.open_load}/{agent.capacity}" if agent.capacity else str(agent.open_load)
    return (
        str(agent.id),
        escape(agent.name),
        escape(agent.email or "-"),
        escape(", ".join(agent.teams) or "-"),
        "[green]yes[/]" if agent.available else "[dim]no[/]",
        load,
    )


@agents_app.command("list")
@handled
def list_agents(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Every agent with their open load (open and in-progress tickets assigned to them)."""
    with open_session(database_url) as session:
        agents = directories_of(session.desk).agents_with_load()
    emit_listing(
        agents,
        json_output=json_output,
        empty="No agents yet: `supportchat admin create NAME` makes an admin and its agent.",
        columns=("id", "name", "email", "teams", "available", "load"),
        row=_agent_row,
    )


@agents_app.command("add")
@handled
def add_agent(
    admin: AgentRef,
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the admin's name).")] = None,
    email: Email = None,
    team: Teams = None,
    capacity: Capacity = None,
    unavailable: Annotated[bool, typer.Option("--unavailable", help="Not taking tickets for now.")] = False,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Give an admin an agent row (or replace it)."""
    with open_session(database_url) as session:
        agent_id, admin_name = agent_id_of(session, admin)
        display = name or admin_name
        if display is None:
            raise UserError(f"no admin has id {agent_id}: give the agent a --name")
        agent = parse_agent(
            id=agent_id, name=display, email=email, teams=team or (), available=not unavailable, capacity=capacity or 0
        )
        stored = agent_store(session.store).put_agent(agent)
    if json_output:
        emit_json(stored)
    else:
        out().print(f"Agent [bold]{escape(stored.name)}[/] (id {stored.id}) saved.")


@agents_app.command("set")
@handled
def set_agent(
    agent: AgentRef,
    name: Annotated[str | None, typer.Option("--name", help="New display name.")] = None,
    email: Email = None,
    team: Teams = None,
    no_teams: Annotated[bool, typer.Option("--no-teams", help="Remove the agent from every team.")] = False,
    capacity: Capacity = None,
    available: Annotated[
        bool | None, typer.Option("--available/--unavailable", help="Taking tickets now, or not.")
    ] = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Change an agent's name, email, teams, capacity or availability; what is not given stays."""
    with open_session(database_url) as session:
        agent_id, _ = agent_id_of(session, agent)
        table = agent_store(session.store)
        current = table.get_agent(agent_id)
        if current is None:
            raise UserError(f"no agent with id {agent_id}: add one with `supportchat agents add`")
        changed = parse_agent(
            id=agent_id,
            name=name if name is not None else current.name,
            email=email if email is not None else current.email,
            teams=() if no_teams else (team if team else current.teams),
            available=available if available is not None else current.available,
            capacity=capacity if capacity is not None else current.capacity,
        )
        stored = table.put_agent(changed)
    if json_output:
        emit_json(stored)
    else:
        out().print(f"Agent [bold]{escape(stored.name)}[/] (id {stored.id}) updated.")


def _contact_row(contact: Contact) -> tuple[str, ...]:
    return tuple(
        escape(value or "-")
        for value in (
            str(contact.user_id),
            contact.display_name,
            contact.email,
            contact.locale,
            contact.time_zone,
        )
    )


@contacts_app.command("list")
@handled
def list_contacts(
    after: Annotated[int, typer.Option("--after", min=0, help="Only user ids above this one.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")] = 100,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Contacts by user id (page on with --after the last id shown)."""
    with open_session(database_url) as session:
        contacts = contact_store(session.store).list_contacts(after_id=after, limit=limit)
    emit_listing(
        contacts,
        json_output=json_output,
        empty="No contacts.",
        columns=("user id", "name", "email", "locale", "time zone"),
        row=_contact_row,
    )


@contacts_app.command("set")
@handled
def set_contact(
    user_id: Annotated[int, typer.Argument(min=1, help="The user's id in the host app.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    email: Email = None,
    locale: Annotated[str | None, typer.Option("--locale", help="Language tag: en, pt-BR…")] = None,
    time_zone: Annotated[str | None, typer.Option("--time-zone", help="IANA zone: Europe/Lisbon…")] = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Create or change a user's contact; what is not given stays as it was."""
    with open_session(database_url) as session:
        table = contact_store(session.store)
        current = table.get_contact(user_id) or Contact(user_id=user_id)
        contact = parse_contact(
            user_id=user_id,
            display_name=name if name is not None else current.display_name,
            email=email if email is not None else current.email,
            locale=locale if locale is not None else current.locale,
            time_zone=time_zone if time_zone is not None else current.time_zone,
        )
        stored = table.put_contact(contact)
    if json_output:
        emit_json(stored)
    else:
        out().print(f"Contact {stored.user_id} saved.")
