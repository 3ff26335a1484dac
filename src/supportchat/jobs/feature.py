"""The job runner as a :class:`~supportchat.features.Feature`: ``GET {prefix}/jobs`` for admins.

The route answers how many jobs have each status, in total and per kind.
Imported only by what mounts it (the standalone server), so the jobs
package itself does not need the HTTP layer; the CLI adds its command
group (``supportchat jobs``) when it assembles the feature.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..desk import SupportDesk
from ..extensions import extension
from ..features import Feature
from ..http.envelope import DataRenderer
from ..http.routes import Audience, Params, Route
from ..models import Actor
from .base import JobStatus, JobStore

__all__ = ["JobCounts", "feature"]


class JobCounts(BaseModel):
    """Jobs by status, in total and per kind."""

    total: dict[str, int] = Field(description="Every status, with how many jobs have it.")
    by_kind: dict[str, dict[str, int]] = Field(
        description="The same counts per job kind with unfinished or failed jobs."
    )


def job_counts(store: object) -> JobCounts:
    """The counts over ``store``'s jobs (kinds listed if they have unfinished or failed jobs)."""
    jobs = extension(store, JobStore)  # type: ignore[type-abstract]
    kinds = {
        job.kind
        for status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED)
        for job in jobs.list_jobs(status=status, limit=10_000)
    }
    return JobCounts(total=jobs.counts(), by_kind={kind: jobs.counts(kind) for kind in sorted(kinds)})


def _counts(desk: SupportDesk, actor: Actor, path: Params, query: Params, body: Any) -> JobCounts:
    return job_counts(desk.store)


ROUTE = Route(
    "job_counts",
    "GET",
    "/jobs",
    Audience.ADMIN,
    _counts,
    DataRenderer(JobCounts),
    "Background jobs by status (notifications, scheduled work)",
)


def feature(commands: Any = None) -> Feature:
    """The jobs feature: its route, and ``commands`` (a Typer group) if the CLI supplies one."""
    return Feature("jobs", routes=(ROUTE,), commands=commands)
