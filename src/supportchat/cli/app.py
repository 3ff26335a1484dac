"""The ``supportchat`` command: every command group assembled on one Typer app."""

from __future__ import annotations

import typer

from .. import __version__
from .admins import admin_app, token_app
from .config import ROOT_DATABASE_URL
from .features import installed_features
from .options import DatabaseUrl
from .people import agents_app, contacts_app
from .reindex import reindex
from .setup import db_app, init, serve, supabase_sql
from .stats import close_resolved, stats
from .storage import storage_app
from .tickets import tickets_app
from .transfer import demo, export, import_
from .worker import worker

__all__ = ["app"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"supportchat {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="supportchat",
    help="Run and administer a supportchat support desk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    database_url: DatabaseUrl = None,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Run and administer a supportchat support desk.

    The database is --database-url, else SUPPORTCHAT_DATABASE_URL, else the
    embedded SQLite file; SUPABASE_URL and SUPABASE_KEY make Supabase the
    primary store with the local file as fallback.
    """
    ROOT_DATABASE_URL.set(database_url)


app.command("serve")(serve)
app.command("worker")(worker)
app.command("init")(init)
app.add_typer(db_app, name="db")
app.command("supabase-sql")(supabase_sql)
db_app.command("reindex")(reindex)
app.add_typer(admin_app, name="admin")
app.add_typer(token_app, name="token")
app.add_typer(agents_app, name="agents")
app.add_typer(contacts_app, name="contacts")
app.add_typer(tickets_app, name="tickets")
app.command("stats")(stats)
app.command("close-resolved")(close_resolved)
app.command("export")(export)
app.command("import")(import_)
app.command("demo")(demo)
app.add_typer(storage_app, name="storage")
for feature in installed_features():
    if feature.commands is not None:
        app.add_typer(feature.commands, name=feature.name)
