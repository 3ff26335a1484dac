"""Options every command shares, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["ActingAdmin", "DatabaseUrl", "JsonOutput"]

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (sqlite:///file, postgresql+psycopg://…); "
        "default: SUPPORTCHAT_DATABASE_URL, else the embedded SQLite file.",
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
ActingAdmin = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="SUPPORTCHAT_ADMIN",
        show_envvar=True,
        help="The admin (name or id) acting; default: the only active admin.",
    ),
]
