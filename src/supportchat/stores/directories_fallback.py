"""The directories on a :class:`FallbackStore`: the primary's tables, copied into the fallback's.

Directories are reference data that admins edit now and then, not the
conversation the fallback store exists to keep alive, so they are not
journalled:

* reads ask the primary's extension and, when it is unavailable (or the
  fallback store already serves), the fallback's, which holds the copies made
  below;
* writes go to the primary's extension and are then copied into the
  fallback's (best effort: a failed copy is logged, not raised); while the
  primary is down a write fails with
  :class:`~supportchat.errors.StorageUnavailable` and changes nothing, and
  the caller (an admin, or the job that reads a mailbox) tries again later.
  A contact id is therefore only ever drawn by the primary, and ids given
  out during an outage cannot clash with it at recovery;
* the open load is counted through the fallback store's own
  ``list_tickets`` totals, so it follows whichever store holds the tickets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from ..errors import StorageUnavailable, SupportChatError
from ..extensions import extension
from ..people import Agent, AgentStore, Contact, ContactIdRange, ContactStore
from .directories_memory import open_loads_by_listing
from .fallback import FallbackStore

__all__ = ["FallbackAgentStore", "FallbackContactStore"]

log = logging.getLogger("supportchat.stores.fallback")

T = TypeVar("T")
P = TypeVar("P")


class _Both(Generic[P]):
    def __init__(self, store: FallbackStore, primary: P, fallback: P) -> None:
        self._store = store
        self._primary = primary
        self._fallback = fallback

    def _primary_serves(self) -> bool:
        # Once the fallback store serves (breaker open, or writes waiting in its
        # journal), the primary is not waited for at every directory call.
        return self._store.state().serving == "primary"

    def _read(self, call: Callable[[P], T]) -> T:
        if self._primary_serves():
            try:
                return call(self._primary)
            except StorageUnavailable:
                pass
        return call(self._fallback)

    def _write(self, call: Callable[[P], T], copy: Callable[[P, T], object]) -> T:
        if not self._primary_serves():
            raise StorageUnavailable("the primary store is unavailable; directory changes wait for it")
        result = call(self._primary)
        try:
            copy(self._fallback, result)
        except SupportChatError as failure:
            log.warning("could not copy a directory entry into the fallback store: %s", failure)
        return result


class FallbackAgentStore(_Both[AgentStore]):
    """:class:`~supportchat.people.AgentStore` on a :class:`FallbackStore`."""

    def __init__(self, store: FallbackStore) -> None:
        protocol: type[AgentStore] = AgentStore  # type: ignore[type-abstract]
        super().__init__(store, extension(store.primary, protocol), extension(store.fallback, protocol))

    def list_agents(self) -> list[Agent]:
        return self._read(lambda table: table.list_agents())

    def get_agent(self, agent_id: int) -> Agent | None:
        return self._read(lambda table: table.get_agent(agent_id))

    def put_agent(self, agent: Agent) -> Agent:
        return self._write(
            lambda table: table.put_agent(agent),
            lambda table, stored: table.put_agent(stored),
        )

    def remove_agent(self, agent_id: int) -> bool:
        return self._write(
            lambda table: table.remove_agent(agent_id),
            lambda table, _removed: table.remove_agent(agent_id),
        )

    def open_loads(self, agent_ids: Sequence[int]) -> dict[int, int]:
        return open_loads_by_listing(self._store, agent_ids)


class FallbackContactStore(_Both[ContactStore]):
    """:class:`~supportchat.people.ContactStore` on a :class:`FallbackStore`."""

    def __init__(self, store: FallbackStore) -> None:
        protocol: type[ContactStore] = ContactStore  # type: ignore[type-abstract]
        super().__init__(store, extension(store.primary, protocol), extension(store.fallback, protocol))

    def get_contact(self, user_id: int) -> Contact | None:
        return self._read(lambda table: table.get_contact(user_id))

    def list_contacts(self, *, after_id: int = 0, limit: int = 100) -> list[Contact]:
        return self._read(lambda table: table.list_contacts(after_id=after_id, limit=limit))

    def contact_by_email(self, email: str) -> Contact | None:
        return self._read(lambda table: table.contact_by_email(email))

    def put_contact(self, contact: Contact) -> Contact:
        return self._write(
            lambda table: table.put_contact(contact),
            lambda table, stored: table.put_contact(stored),
        )

    def ensure_for_email(self, email: str, name: str | None, ids: ContactIdRange) -> Contact:
        return self._write(
            lambda table: table.ensure_for_email(email, name, ids),
            lambda table, made: table.put_contact(made),
        )
