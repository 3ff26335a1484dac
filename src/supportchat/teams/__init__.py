"""Teams, agents' availability and capacity, transfer and auto-assignment (spec §11, §17).

- :class:`TeamDesk`: the operations, over a :class:`~supportchat.SupportDesk`
  (teams and their members, availability, transfer, the queue and its
  draining); every ticket write goes through the desk's own rules.
- :class:`TeamStore`: the store extension (tables from migration
  ``0012_teams``), implemented for the SQL store (SQLite, PostgreSQL),
  the in-memory store and the fallback store (in its local database); reach
  it with :func:`team_store`.
- :func:`~supportchat.teams.rules.pick_agent`: the assignment rule, pure.
- :func:`~supportchat.teams.feature.feature`: routes, job kinds and the CLI
  group as a :class:`~supportchat.features.Feature`.

See ``docs/teams.md``.
"""

from __future__ import annotations

from typing import Any

from ..extensions import extension, register_extension
from ..stores.fallback import FallbackStore
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .base import AgentState, Hold, HoldResult, Member, QueueEntry, Team, TeamStore, team_store
from .memory import MemoryTeamStore
from .rules import Availability, Candidate, has_room, pick_agent
from .service import AgentAvailability, TeamDesk, TeamView, Transfer, team_desk
from .sql import SQLTeamStore

__all__ = [
    "AgentAvailability",
    "AgentState",
    "Availability",
    "Candidate",
    "Hold",
    "HoldResult",
    "Member",
    "MemoryTeamStore",
    "QueueEntry",
    "SQLTeamStore",
    "Team",
    "TeamDesk",
    "TeamStore",
    "TeamView",
    "Transfer",
    "has_room",
    "pick_agent",
    "team_desk",
    "team_store",
]


def _fallback_teams(store: FallbackStore) -> Any:
    # In the local fallback database, beside the jobs that drain the queue: the deciding steps
    # need one transaction over the queue, the agents' states and the tickets, which the local
    # copy of the tickets gives and PostgREST does not; one copy, so nothing to reconcile at
    # recovery (docs/teams.md, "Storage").
    return extension(store.fallback, TeamStore)  # type: ignore[type-abstract]


register_extension(TeamStore, SQLStore, SQLTeamStore)  # type: ignore[type-abstract]
register_extension(TeamStore, InMemoryStore, MemoryTeamStore)  # type: ignore[type-abstract]
register_extension(TeamStore, FallbackStore, _fallback_teams)  # type: ignore[type-abstract]
