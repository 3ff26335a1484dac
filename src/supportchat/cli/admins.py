"""``supportchat admin …`` (admin tokens) and ``supportchat token user`` (user JWTs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from ..errors import SupportChatError
from ..http.auth import AdminAccount, UserTokens
from ..models import Actor, utc_iso
from .config import SECRET_VARIABLE, Session, open_session, read_secret
from .durations import parse_duration
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, error_console, handled, out
from .people import ensure_agent_for_admin

__all__ = ["acting_admin", "admin_app", "token_app"]

admin_app = typer.Typer(help="Create, list and revoke admin tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Mint tokens for testing clients.", no_args_is_help=True)


def account_json(admin: AdminAccount) -> dict[str, object]:
    return {
        "id": admin.id,
        "name": admin.name,
        "created_at": utc_iso(admin.created_at),
        "last_used_at": None if admin.last_used_at is None else utc_iso(admin.last_used_at),
        "revoked_at": None if admin.revoked_at is None else utc_iso(admin.revoked_at),
        "active": admin.revoked_at is None,
    }


def acting_admin(session: Session, who: str | None) -> Actor:
    """The admin a write is made as: ``who`` (name or id), else the only active admin."""
    registry = session.admin_tokens
    if who:
        admin = registry.get(who)
        if admin is None:
            raise UserError(f"no admin {who!r}; see `supportchat admin list`")
        if admin.revoked_at is not None:
            raise UserError(f"admin {admin.name!r} is revoked")
        return Actor.admin(admin.id)
    active = [admin for admin in registry.list() if admin.revoked_at is None]
    if not active:
        raise UserError("no admin exists yet: create one with `supportchat admin create NAME`")
    if len(active) > 1:
        names = ", ".join(admin.name for admin in active)
        raise UserError(f"several admins exist ({names}): say which one acts with --as NAME")
    return Actor.admin(active[0].id)


@admin_app.command("create")
@handled
def create(
    name: Annotated[str, typer.Argument(help="A unique name for the admin, e.g. 'alice'.")],
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Create an admin and print its token, once; only its hash is stored."""
    with open_session(database_url) as session:
        admin, token = session.admin_tokens.create(name)
        try:
            ensure_agent_for_admin(session, admin.id, admin.name)
        except SupportChatError as failure:  # the token is made; the agent row can be added later
            error_console().print(
                f"Note: no agent row for {admin.name!r} yet ({failure.message}); add it with `supportchat agents add`."
            )
    if json_output:
        emit_json({**account_json(admin), "token": token})
        return
    console = out()
    console.print(f"Admin [bold]{admin.name}[/] (id {admin.id}) created. Its token, shown only this once:")
    console.print(token, markup=False)
    console.print("Send it as `Authorization: Bearer <token>`, or paste it in the panel's login form.")


@admin_app.command("list")
@handled
def list_admins(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Every admin, revoked ones included."""
    with open_session(database_url) as session:
        admins = session.admin_tokens.list()
    if json_output:
        emit_json([account_json(admin) for admin in admins])
        return
    if not admins:
        out().print("No admins yet: create one with `supportchat admin create NAME`.")
        return
    table = Table("id", "name", "created", "last used", "status")
    for admin in admins:
        table.add_row(
            str(admin.id),
            admin.name,
            utc_iso(admin.created_at)[:19],
            "-" if admin.last_used_at is None else utc_iso(admin.last_used_at)[:19],
            "[green]active[/]" if admin.revoked_at is None else "[red]revoked[/]",
        )
    out().print(table)


@admin_app.command("revoke")
@handled
def revoke(
    name: Annotated[str, typer.Argument(help="The admin whose token stops working.")], database_url: DatabaseUrl = None
) -> None:
    """Revoke an admin's token at once (``admin create NAME`` issues a new one)."""
    with open_session(database_url) as session:
        if not session.admin_tokens.revoke(name):
            raise UserError(f"no active admin named {name!r}")
    out().print(f"Admin [bold]{name}[/]'s token is revoked.")


@token_app.command("user")
@handled
def user_token(
    user_id: Annotated[int, typer.Argument(min=1, help="The user id the token speaks for (its `sub`).")],
    ttl: Annotated[str, typer.Option("--ttl", help="How long it is valid: 30m, 12h, 7d…")] = "1h",
    json_output: JsonOutput = False,
) -> None:
    """Print a user JWT (HS256, signed with SUPPORTCHAT_SECRET) for testing clients."""
    secret = read_secret()
    if secret is None:
        raise UserError(f"no secret: set {SECRET_VARIABLE} or run `supportchat init`")
    lifetime = parse_duration(ttl)
    if lifetime <= timedelta(0):
        raise UserError("--ttl must be positive")
    token = UserTokens(secret).mint(user_id, expires_in=lifetime)
    if json_output:
        emit_json({"user_id": user_id, "token": token, "expires_in_seconds": int(lifetime.total_seconds())})
    else:
        typer.echo(token)
