"""The agents and contacts directories kept beside an :class:`InMemoryStore` (the reference).

The open load is asked of the store through its public listing, which
counts without handing back more than one ticket per status.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..errors import Conflict
from ..models import TicketQuery, TicketStatus
from ..people import Agent, Contact, ContactIdRange
from ..store import Store

__all__ = ["MemoryAgentStore", "MemoryContactStore", "open_loads_by_listing"]

_OPEN = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


def open_loads_by_listing(store: Store, agent_ids: Sequence[int]) -> dict[int, int]:
    """Open and in-progress tickets per agent, from the store's own ``total`` counts."""
    return {
        agent_id: sum(
            store.list_tickets(TicketQuery(assigned_to=agent_id, status=status, per_page=1))[1] for status in _OPEN
        )
        for agent_id in agent_ids
    }


class MemoryAgentStore:
    """:class:`~supportchat.people.AgentStore` in a dictionary."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._agents: dict[int, Agent] = {}

    def list_agents(self) -> list[Agent]:
        with self._lock:
            return [self._agents[key] for key in sorted(self._agents)]

    def get_agent(self, agent_id: int) -> Agent | None:
        with self._lock:
            return self._agents.get(agent_id)

    def put_agent(self, agent: Agent) -> Agent:
        with self._lock:
            self._agents[agent.id] = agent
        return agent

    def remove_agent(self, agent_id: int) -> bool:
        with self._lock:
            return self._agents.pop(agent_id, None) is not None

    def open_loads(self, agent_ids: Sequence[int]) -> dict[int, int]:
        return open_loads_by_listing(self._store, agent_ids)


class MemoryContactStore:
    """:class:`~supportchat.people.ContactStore` in a dictionary."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._contacts: dict[int, Contact] = {}

    def get_contact(self, user_id: int) -> Contact | None:
        with self._lock:
            return self._contacts.get(user_id)

    def list_contacts(self, *, after_id: int = 0, limit: int = 100) -> list[Contact]:
        with self._lock:
            keys = sorted(key for key in self._contacts if key > after_id)[:limit]
            return [self._contacts[key] for key in keys]

    def contact_by_email(self, email: str) -> Contact | None:
        with self._lock:
            return next((c for c in self._contacts.values() if c.email == email), None)

    def put_contact(self, contact: Contact) -> Contact:
        with self._lock:
            for other in self._contacts.values():
                if contact.email is not None and other.email == contact.email and other.user_id != contact.user_id:
                    raise Conflict(
                        "another contact has this email", details={"field": "email", "user_id": other.user_id}
                    )
            self._contacts[contact.user_id] = contact
        return contact

    def ensure_for_email(self, email: str, name: str | None, ids: ContactIdRange) -> Contact:
        with self._lock:
            found = next((c for c in self._contacts.values() if c.email == email), None)
            if found is not None:
                return found
            taken = [key for key in self._contacts if key in ids]
            next_id = max(taken, default=ids.first - 1) + 1
            if next_id > ids.last:
                raise Conflict("the contact id range is full", details={"field": "email"})
            made = Contact(user_id=next_id, display_name=name, email=email)
            self._contacts[next_id] = made
            return made
