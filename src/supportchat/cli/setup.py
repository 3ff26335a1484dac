"""``supportchat serve``, ``init``, ``supabase-sql`` and ``db upgrade`` / ``db status``."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from ..http.ratelimit import STORAGE_VARIABLE
from .config import open_engine, resolve_database_url, secret_path, sql_url, uses_supabase
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, handled, out
from .server import (
    DEFAULT_REQUEST_TIMEOUT,
    PANEL_PATH,
    Bootstrap,
    bootstrap,
    create_server_app,
    export_configuration,
)
from .worker import EMBEDDED_WORKER_VARIABLE

__all__ = ["db_app", "init", "serve", "supabase_sql"]

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


def _print_login(setup: Bootstrap, base_url: str | None, *, panel: bool) -> None:
    console = out()
    console.print(f"Database: {setup.database}", markup=False)
    if base_url is not None:
        if panel:
            console.print(f"Admin panel: [bold]{base_url}{PANEL_PATH}[/]")
        console.print(f"API: {base_url}/admin/api/support/ (OpenAPI docs: {base_url}/docs)", markup=False)
    if setup.first_admin_token is not None:
        console.print("First start: created the admin 'admin'. Its token, shown only this once:")
        console.print(f"Admin token: {setup.first_admin_token}", markup=False, soft_wrap=True)
        console.print("Log in to the panel with it, or send it to the API as a bearer token:", markup=False)
        if base_url is not None:
            console.print(
                f"  curl -H 'Authorization: Bearer <token>' {base_url}/admin/api/support/statistics", markup=False
            )
    else:
        console.print("Log in with an admin token; `supportchat admin create NAME` makes a new one.", markup=False)


@handled
def init(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Create the database, a secret and a first admin token (idempotent)."""
    setup = bootstrap(database_url)
    if json_output:
        emit_json(
            {"database": setup.database, "secret_file": str(secret_path()), "admin_token": setup.first_admin_token}
        )
        return
    _print_login(setup, None, panel=False)
    out().print(f"Secret: SUPPORTCHAT_SECRET from the environment, else {secret_path()}", markup=False)


@handled
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 exposes it to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, envvar="SUPPORTCHAT_PORT")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    database_url: DatabaseUrl = None,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the job runner (notifications, scheduled work) in the server; "
            "--no-worker when `supportchat worker` processes do it.",
        ),
    ] = True,
    max_connections: Annotated[
        int | None,
        typer.Option(min=1, help="Open connections per worker (default: the open-file limit less 256)."),
    ] = None,
    request_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a connection has to send a whole request.")
    ] = DEFAULT_REQUEST_TIMEOUT,
) -> None:
    """Run the support desk server (embedded SQLite by default); the first start sets everything up."""
    try:
        import uvicorn

        from .connections import bounded_server_options
    except ImportError:
        raise UserError("the server needs uvicorn: pip install 'supportchat[cli]'") from None
    if workers > 1 and resolve_database_url(database_url) == "sqlite://" and not uses_supabase(database_url):
        raise UserError("an in-memory database cannot be shared by several workers")
    setup = bootstrap(database_url)
    export_configuration(setup)
    if not worker:
        os.environ[EMBEDDED_WORKER_VARIABLE] = "0"
    # Built here once, so that a broken configuration fails before uvicorn starts.
    app = create_server_app()
    shown_host = f"[{host}]" if ":" in host else host
    _print_login(setup, f"http://{shown_host}:{port}", panel=True)
    sys.stdout.flush()  # the token must be readable before uvicorn takes over the process
    bounds = bounded_server_options(max_connections, request_timeout)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, **bounds)
    else:
        if not os.environ.get(STORAGE_VARIABLE):
            out().print(f"Rate limits are counted by each worker; {STORAGE_VARIABLE}=redis://… shares them.")
        uvicorn.run(
            "supportchat.cli.server:create_server_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            **bounds,
        )


@handled
def supabase_sql() -> None:
    """Print the SQL that prepares a Supabase project (pipe it to psql; idempotent)."""
    from ..sql import supabase_sql as shipped_sql

    sys.stdout.write(shipped_sql())
    sys.stdout.flush()


@db_app.command("upgrade")
@handled
def upgrade(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Bring the schema to the newest revision (adopts a database made by the original system)."""
    from ..migrations import status
    from ..migrations import upgrade as run_upgrade

    engine = open_engine(sql_url(database_url), check=False)
    try:
        before = status(engine).current
        after = run_upgrade(engine)
    finally:
        engine.dispose()
    if json_output:
        emit_json({"before": before, "current": after.current, "head": after.head})
    elif before == after.current:
        out().print(f"Already at the newest revision ({after.current}).")
    else:
        out().print(f"Upgraded from {before or 'an empty database'} to {after.current}.")


@db_app.command("status")
@handled
def db_status(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """The database's schema revision and the newest one."""
    from ..migrations import status

    engine = open_engine(sql_url(database_url), check=False)
    try:
        state = status(engine)
    finally:
        engine.dispose()
    if json_output:
        emit_json({"current": state.current, "head": state.head, "up_to_date": state.up_to_date})
    elif state.up_to_date:
        out().print(f"Up to date at revision {state.head}.")
    else:
        current = state.current or "none (empty database)"
        out().print(f"At revision {current}; the newest is {state.head}: run `supportchat db upgrade`.")
        raise typer.Exit(1)
