"""``supportchat jobs counts`` / ``jobs failed``: what the job runner has done and left."""

from __future__ import annotations

from typing import Annotated

import typer

from ..extensions import extension
from ..jobs import JobStatus, JobStore
from ..jobs.feature import job_counts
from .options import DatabaseUrl, JsonOutput
from .output import emit_json, handled, out

__all__ = ["jobs_app"]

jobs_app = typer.Typer(help="The desk's background jobs (notifications, scheduled work).", no_args_is_help=True)


@jobs_app.command("counts")
@handled
def counts(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """How many jobs have each status, in total and per kind."""
    from .config import open_session

    with open_session(database_url) as session:
        found = job_counts(session.store)
    if json_output:
        emit_json(found.model_dump())
        return
    console = out()
    console.print("total: " + ", ".join(f"{k} {v}" for k, v in found.total.items()), markup=False)
    for kind, by_status in found.by_kind.items():
        console.print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in by_status.items()), markup=False)


@jobs_app.command("failed")
@handled
def failed(
    database_url: DatabaseUrl = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    json_output: JsonOutput = False,
) -> None:
    """The jobs given up, with their last error."""
    from .config import open_session

    with open_session(database_url) as session:
        jobs = extension(session.store, JobStore).list_jobs(  # type: ignore[type-abstract]
            status=JobStatus.FAILED, limit=limit
        )
    if json_output:
        emit_json([{"id": j.id, "kind": j.kind, "attempts": j.attempts, "last_error": j.last_error} for j in jobs])
        return
    for job in jobs:
        out().print(f"{job.id} {job.kind} after {job.attempts} attempts: {job.last_error}", markup=False)
    if not jobs:
        out().print("No failed jobs.", markup=False)
