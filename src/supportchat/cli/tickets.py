"""``supportchat tickets …``: list, read, answer and manage tickets as an admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ..desk import UNSET
from ..models import Actor, Category, Priority, SenderType, Ticket, TicketStatus, TicketThread, utc_iso
from ..rules import UNASSIGNED
from .admins import acting_admin
from .config import Session, open_session
from .options import ActingAdmin, DatabaseUrl, JsonOutput
from .output import UserError, emit_json, handled, out

__all__ = ["tickets_app"]

tickets_app = typer.Typer(help="List, read, answer and manage tickets.", no_args_is_help=True)

STATUS_STYLE = {
    TicketStatus.OPEN: "yellow",
    TicketStatus.IN_PROGRESS: "blue",
    TicketStatus.RESOLVED: "green",
    TicketStatus.CLOSED: "dim",
}
PRIORITY_STYLE = {Priority.LOW: "dim", Priority.MEDIUM: "", Priority.HIGH: "yellow", Priority.URGENT: "bold red"}
SIDE_STYLE = {SenderType.USER: "cyan", SenderType.ADMIN: "green"}

_LIST_COLUMNS = (
    ("number", 12),
    ("id", 2),
    ("subject", 0),
    ("status", 11),
    ("priority", 8),
    ("category", 9),
    ("admin", 5),
    ("msgs", 4),
    ("new", 3),
    ("updated", 10),
)

TicketRef = Annotated[str, typer.Argument(help="The ticket's id or number (TKT-…, any case).")]


def styled(value: str, style: str) -> str:
    return f"[{style}]{value}[/]" if style else value


def assignee(session: Session, value: str) -> int | None:
    """An admin id from an id, a registered admin's name, or :data:`~supportchat.rules.UNASSIGNED` (nobody)."""
    if value.strip().lower() == UNASSIGNED:
        return None
    if value.strip().isdecimal():
        return int(value)
    admin = session.admin_tokens.get(value)
    if admin is None:
        raise UserError(f"no admin {value!r}: give an admin id, a name from `supportchat admin list`, or {UNASSIGNED}")
    return admin.id


def manage(
    database_url: str | None,
    acting: str | None,
    json_output: bool,
    act: Callable[[Session, Actor], Ticket],
    *,
    verb: str,
) -> None:
    """Run one change of a ticket as the acting admin and report the ticket as it now is."""
    with open_session(database_url) as session:
        ticket = act(session, acting_admin(session, acting))
    if json_output:
        emit_json(ticket)
        return
    who = "nobody" if ticket.assigned_to is None else f"admin {ticket.assigned_to}"
    status = styled(ticket.status.value, STATUS_STYLE[ticket.status])
    out().print(f"{ticket.ticket_number} {verb}: {status}, assigned to {who}.")


@tickets_app.command("list")
@handled
def list_tickets(
    status: Annotated[TicketStatus | None, typer.Option(help="Only this status.")] = None,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority.")] = None,
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    assigned_to: Annotated[
        str | None, typer.Option(help=f"An admin id, or '{UNASSIGNED}' for unassigned tickets.")
    ] = None,
    user_id: Annotated[int | None, typer.Option(min=1, help="Only this user's tickets.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only tickets carrying this tag.")] = None,
    q: Annotated[
        str | None, typer.Option("--q", "--search", "-q", help="Full-text search (see docs/storage.md).")
    ] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 20,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Tickets, newest first, filtered as the API's ticket list is."""
    with open_session(database_url) as session:
        result = session.desk.list_tickets(
            Actor.system(),
            status=status,
            priority=priority,
            category=category,
            assigned_to=None if assigned_to is None else assigned_to.strip().lower(),
            user_id=user_id,
            tag=tag,
            q=q,
            page=page,
            per_page=per_page,
        )
    if json_output:
        emit_json(
            {"data": result.items, "meta": {"page": result.page, "per_page": result.per_page, "total": result.total}}
        )
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    # Every column but the subject keeps its width; the subject gives way (ellipsis) on a narrow terminal.
    for name, width in _LIST_COLUMNS:
        table.add_column(name, no_wrap=True, overflow="ellipsis", min_width=width)
    for ticket in result.items:
        table.add_row(
            ticket.ticket_number,
            str(ticket.id),
            escape(ticket.subject),
            styled(ticket.status.value, STATUS_STYLE[ticket.status]),
            styled(ticket.priority.value, PRIORITY_STYLE[ticket.priority]),
            ticket.category.value,
            "-" if ticket.assigned_to is None else str(ticket.assigned_to),
            str(ticket.message_count),
            styled(str(ticket.unread_count), "bold" if ticket.unread_count else "dim"),
            utc_iso(ticket.updated_at)[:10],
        )
    console = out()
    console.print(table)
    shown = len(result.items)
    console.print(f"Page {result.page}, {shown} of {result.total} tickets.", style="dim")


def print_thread(thread: TicketThread) -> None:
    console = out()
    who = "nobody" if thread.assigned_to is None else f"admin {thread.assigned_to}"
    header = (
        f"[bold]{escape(thread.subject)}[/]\n"
        f"{styled(thread.status.value, STATUS_STYLE[thread.status])} · "
        f"{styled(thread.priority.value, PRIORITY_STYLE[thread.priority])} · {thread.category.value} · "
        f"user {thread.user_id} · assigned to {who}\n"
        f"opened {utc_iso(thread.created_at)[:16].replace('T', ' ')} UTC"
    )
    if thread.tags:
        header += "\ntags: " + ", ".join(escape(tag) for tag in thread.tags)
    console.print(Panel(header, title=f"{thread.ticket_number} (id {thread.id})", title_align="left"))
    console.print(Panel(escape(thread.description), title="description", title_align="left", border_style="cyan"))
    for rating in thread.ratings:
        comment = "" if rating.comment is None else f": “{escape(rating.comment)}”"
        agent = "nobody" if rating.agent_id is None else f"admin {rating.agent_id}"
        console.print(f"[bold]rated {rating.score}/5[/] (resolution {rating.cycle}, {agent}){comment}")
    if thread.has_more_before:
        console.print(f"[dim]… the newest {len(thread.messages)} of {thread.message_count} messages[/]")
    for message in thread.messages:
        side = message.sender_type
        title = f"{side.value} {message.sender_id} · {utc_iso(message.created_at)[:16].replace('T', ' ')}"
        if not message.is_read:
            title += " · unread"
        body = escape(message.message)
        if message.file_url:
            body += f"\n[dim]{message.message_type.value}: {escape(message.file_url)}[/]"
        console.print(
            Panel(
                body,
                title=title,
                title_align="left" if side is SenderType.USER else "right",
                border_style=SIDE_STYLE[side],
            )
        )
    for note in thread.notes:
        who = note.author_kind.value + ("" if note.author_id is None else f" {note.author_id}")
        title = f"internal note · {who} · {utc_iso(note.created_at)[:16].replace('T', ' ')}"
        console.print(Panel(escape(note.note), title=title, title_align="right", border_style="magenta"))


@tickets_app.command("show")
@handled
def show(ref: TicketRef, database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """A ticket's conversation, coloured by side (reading it here marks nothing read)."""
    with open_session(database_url) as session:
        thread = session.desk.get_ticket(Actor.system(), ref)
        history = session.desk.history(Actor.system(), thread.id)
    if json_output:
        emit_json({**thread.model_dump(mode="json"), "history": history})
        return
    print_thread(thread)
    for change in history:
        who = change.changed_by_kind.value + ("" if change.changed_by is None else f" {change.changed_by}")
        out().print(
            f"[dim]{utc_iso(change.changed_at)[:16].replace('T', ' ')} {who}: "
            f"{change.field} {change.old_value} → {change.new_value}[/]"
        )


@tickets_app.command("reply")
@handled
def reply(
    ref: TicketRef,
    message: Annotated[str, typer.Argument(help="The reply's text ('-' reads it from stdin).")],
    acting: ActingAdmin = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Answer a ticket as an admin."""
    if message == "-":
        message = typer.get_text_stream("stdin").read()
    with open_session(database_url) as session:
        actor = acting_admin(session, acting)
        stored = session.desk.post_message(actor, ref, message)
    if json_output:
        emit_json(stored)
    else:
        out().print(f"Reply {stored.id} added to ticket {stored.ticket_id}.")


@tickets_app.command("status")
@handled
def change_status(
    ref: TicketRef,
    status: Annotated[TicketStatus, typer.Argument(help="The new status.")],
    assign: Annotated[
        str | None, typer.Option("--assign", help=f"Also assign to this admin (id or name; '{UNASSIGNED}' unassigns).")
    ] = None,
    acting: ActingAdmin = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Move a ticket through its lifecycle (closed is final)."""

    def act(session: Session, actor: Actor) -> Ticket:
        target = UNSET if assign is None else assignee(session, assign)
        return session.desk.change_status(actor, ref, status, assigned_to=target)

    manage(database_url, acting, json_output, act, verb="is now")


@tickets_app.command("assign")
@handled
def assign(
    ref: TicketRef,
    admin: Annotated[str, typer.Argument(help=f"An admin id or name, or '{UNASSIGNED}' to unassign.")],
    acting: ActingAdmin = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Assign a ticket to an admin, or unassign it."""

    def act(session: Session, actor: Actor) -> Ticket:
        return session.desk.assign(actor, ref, assignee(session, admin))

    manage(database_url, acting, json_output, act, verb="updated")


@tickets_app.command("merge")
@handled
def merge(
    ref: TicketRef,
    into: Annotated[str, typer.Argument(help="The surviving ticket's id or number (the same user's).")],
    acting: ActingAdmin = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Merge a ticket into another of the same user: its messages join that one, it is closed and leads there."""
    with open_session(database_url) as session:
        actor = acting_admin(session, acting)
        merged = session.desk.merge(actor, ref, into)
    if json_output:
        emit_json(merged)
    else:
        out().print(
            f"{escape(ref)} merged into {merged.ticket_number}, which now holds {merged.message_count} messages."
        )


@tickets_app.command("note")
@handled
def note(
    ref: TicketRef,
    text: Annotated[str, typer.Argument(help="The note's text ('-' reads it from stdin).")],
    acting: ActingAdmin = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Write an internal note on a ticket: for admins only, never shown to its owner."""
    if text == "-":
        text = typer.get_text_stream("stdin").read()
    with open_session(database_url) as session:
        stored = session.desk.add_note(acting_admin(session, acting), ref, text)
    if json_output:
        emit_json(stored)
    else:
        out().print(f"Note {stored.id} added to ticket {stored.ticket_id}.")


@tickets_app.command("tag")
@handled
def tag(
    ref: TicketRef,
    tags: Annotated[
        list[str] | None, typer.Argument(help="Tags to add (with --remove: to remove; --set: all).")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove these tags instead.")] = False,
    replace: Annotated[bool, typer.Option("--set", help="Make these the ticket's only tags (none: clear).")] = False,
    acting: ActingAdmin = None,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Add, remove or set a ticket's tags (normalised: lower case, accents dropped, spaces as '-')."""
    if remove and replace:
        raise UserError("choose one of --remove and --set")
    given = list(tags or [])
    if not given and not replace:
        raise UserError("name at least one tag (or --set with none to clear them)")
    with open_session(database_url) as session:
        actor = acting_admin(session, acting)
        change = session.desk.remove_tags if remove else session.desk.set_tags if replace else session.desk.add_tags
        ticket = change(actor, ref, given)
    if json_output:
        emit_json(ticket)
    else:
        out().print(f"{ticket.ticket_number} tags: {', '.join(ticket.tags) or '(none)'}.")
