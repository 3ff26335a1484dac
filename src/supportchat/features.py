"""Features: how a capability plugs into the desk without editing the core's files.

A :class:`Feature` bundles what a capability adds beside the core (see
``docs/architecture.md``, "The seam for features"):

- ``routes``: :class:`~supportchat.http.routes.Route` s appended to the one
  route table, so both adapters mount them and the OpenAPI document lists
  them (``features=`` of ``support_router`` / ``support_blueprint`` /
  ``create_app``);
- ``job_kinds``: the :class:`~supportchat.jobs.JobKind` s it runs (its
  reactions to desk events, its scheduled work), given the store;
- ``commands``: a Typer app added to the ``supportchat`` command as a group
  named after the feature;
- ``amend``: a change to routes already in the table (the core's or an
  earlier feature's), same name, method and path: say, a field the feature
  adds to the admin ticket JSON, or a query parameter it answers;
- ``event_types``: the event-log types it appends (each made by
  :func:`~supportchat.event_types.declare_event_type` when the feature's
  module is imported, staff's only unless declared for the owner), written
  with :meth:`SupportDesk.record_event <supportchat.desk.SupportDesk.record_event>`.

Its tables come with its own migration and its store extension (see
:mod:`supportchat.extensions`); neither needs a field here. This module
imports nothing at run time, so any layer may describe a feature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .event_types import EventTypeSpec
    from .http.routes import Route
    from .jobs import JobKind
    from .store import Store

__all__ = ["Feature"]


@dataclass(frozen=True, slots=True)
class Feature:
    """What one capability adds: routes, job kinds, CLI commands, event types (each optional)."""

    name: str
    routes: Sequence[Route] = ()
    job_kinds: Callable[[Store], Sequence[JobKind]] | None = None
    #: A ``typer.Typer`` (typed loosely: the CLI's dependencies are optional).
    commands: Any = None
    #: Given each route of the table, the route to mount instead (returned unchanged if it is not concerned).
    amend: Callable[[Route], Route] | None = None
    #: The event-log types it appends (declared at import; listed here for the reader and the tests).
    event_types: Sequence[EventTypeSpec] = ()

    def kinds_for(self, store: Store) -> list[JobKind]:
        """The job kinds this feature runs over ``store`` (none if it runs no jobs)."""
        return [] if self.job_kinds is None else list(self.job_kinds(store))
