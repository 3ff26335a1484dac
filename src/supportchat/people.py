"""Who is who: the agents directory and the contacts directory (spec §11).

Two kinds of people meet in a ticket. *Agents* are the admins who answer:
an agent's id is the host app's user id, exactly as ``assigned_to`` already
is, with a display name, an email, teams, an availability flag and a
capacity (how many open tickets they take at once). *Contacts* are the users
who write: a display name, an email, a locale and a time zone.

Each directory has two sources:

* a **host hook**: a host app that already knows its staff and users passes
  its own object (anything with the methods of :class:`AgentDirectory` /
  :class:`ContactDirectory`) or a plain function (wrapped by
  :class:`AgentList` / :class:`ContactLookup`) to :func:`attach`;
* the **standalone tables** ``support_agents`` and ``support_contacts``,
  reached through the store extensions :class:`AgentStore` and
  :class:`ContactStore` (registered for every store class by
  :mod:`supportchat.directories`), used when no hook is attached.

An agent's *open load* (its open and in-progress tickets) is always counted
by the desk's own store, whoever supplies the agents: the tickets live there.

This module is part of the core: it imports no backend and no framework.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from .errors import ExtensionUnavailable, ValidationError
from .extensions import extension
from .rules import clean_text, parse_positive_int

__all__ = [
    "DEFAULT_CONTACT_IDS",
    "Agent",
    "AgentDirectory",
    "AgentList",
    "AgentLoad",
    "AgentStore",
    "Contact",
    "ContactDirectory",
    "ContactIdRange",
    "ContactLookup",
    "ContactStore",
    "Directories",
    "StoredAgents",
    "StoredContacts",
    "agent_store",
    "attach",
    "contact_store",
    "directories_of",
    "normalize_email",
    "parse_agent",
    "parse_contact",
    "parse_team_name",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Agent(_Frozen):
    """An admin who answers tickets. ``id`` is the id tickets' ``assigned_to`` holds."""

    id: int
    name: str
    email: str | None = None
    teams: tuple[str, ...] = ()
    #: Takes new tickets now (off duty, on leave: ``False``).
    available: bool = True
    #: Open tickets the agent takes at once; 0 means no limit is set.
    capacity: int = 0


class AgentLoad(Agent):
    """An agent with the open load the store counted: open and in-progress tickets assigned to them."""

    open_load: int = 0


class Contact(_Frozen):
    """A user of the host app (or someone who wrote by email), as the desk may address them."""

    user_id: int
    display_name: str | None = None
    email: str | None = None
    #: A BCP 47 tag such as ``en`` or ``pt-BR``.
    locale: str | None = None
    #: An IANA zone such as ``Europe/Lisbon``.
    time_zone: str | None = None


# -- validation (the directory's own rules; the CLI and host code share them) ------

_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_TEAM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
_TIME_ZONE = re.compile(r"^(?:UTC|[A-Za-z_]+(?:/[A-Za-z0-9_+-]+){1,2})$")
_MAX_TEAMS = 20
_MAX_CAPACITY = 10_000


def _optional(field: str, value: object, pattern: re.Pattern[str], what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not pattern.match(value.strip()):
        raise ValidationError(field, f"must be {what}")
    return value.strip()


def normalize_email(value: object, field: str = "email") -> str | None:
    """An email address in the form the directories store and match it (lower case), or ``None``."""
    email = _optional(field, value, _EMAIL, "an email address")
    return None if email is None else email.lower()


def parse_team_name(value: object, field: str = "team") -> str:
    """A team's name as the directories keep it: 1-32 characters of ``a-z 0-9 - _``, lower-cased."""
    if not isinstance(value, str) or not _TEAM.match(value.strip().lower()):
        raise ValidationError(field, "team names are 1-32 characters of a-z 0-9 - _")
    return value.strip().lower()


def _name(field: str, value: object) -> str:
    return clean_text(field, value, 100)


def parse_agent(
    *,
    id: object,
    name: object,
    email: object = None,
    teams: object = (),
    available: object = True,
    capacity: object = 0,
) -> Agent:
    """A validated :class:`Agent`; raises :class:`ValidationError` naming the field."""
    if isinstance(teams, str):
        teams = [t for t in teams.split(",") if t.strip()]
    if not isinstance(teams, Iterable):
        raise ValidationError("teams", "must be a list of team names")
    cleaned = []
    for team in teams:
        if (key := parse_team_name(team, "teams")) not in cleaned:
            cleaned.append(key)
    if len(cleaned) > _MAX_TEAMS:
        raise ValidationError("teams", f"at most {_MAX_TEAMS} teams")
    if not isinstance(available, bool):
        raise ValidationError("available", "must be true or false")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= _MAX_CAPACITY:
        raise ValidationError("capacity", f"must be an integer from 0 (no limit) to {_MAX_CAPACITY}")
    return Agent(
        id=parse_positive_int("id", id),
        name=_name("name", name),
        email=normalize_email(email),
        teams=tuple(sorted(cleaned)),
        available=available,
        capacity=capacity,
    )


def parse_contact(
    *,
    user_id: object,
    display_name: object = None,
    email: object = None,
    locale: object = None,
    time_zone: object = None,
) -> Contact:
    """A validated :class:`Contact`; raises :class:`ValidationError` naming the field."""
    return Contact(
        user_id=parse_positive_int("user_id", user_id),
        display_name=None if display_name in (None, "") else _name("display_name", display_name),
        email=normalize_email(email),
        locale=_optional("locale", locale, _LOCALE, "a language tag such as en or pt-BR"),
        time_zone=_optional("time_zone", time_zone, _TIME_ZONE, "an IANA time zone such as Europe/Lisbon"),
    )


@dataclass(frozen=True, slots=True)
class ContactIdRange:
    """The user ids the desk may give people who write by email and are not users yet.

    Choose a range the host app's own user ids never reach, so a contact id
    never names one of its users. The default, the top 147 million of the
    32-bit range, suits hosts whose ids count up from 1; a host with other ids
    sets its own (or supplies contacts through its hook and allocates ids itself).
    """

    first: int = 2_000_000_000
    last: int = 2_147_483_647

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.last:
            raise ValueError("a contact id range needs 0 < first <= last")

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, int) and self.first <= user_id <= self.last


DEFAULT_CONTACT_IDS = ContactIdRange()


# -- the host hooks -------------------------------------------------------------------


@runtime_checkable
class AgentDirectory(Protocol):
    """Where the desk learns who its agents are (a host app's staff list, or the standalone table)."""

    def list_agents(self) -> list[Agent]: ...

    def get_agent(self, agent_id: int) -> Agent | None: ...


@runtime_checkable
class ContactDirectory(Protocol):
    """Where the desk learns how to address a user."""

    def get_contact(self, user_id: int) -> Contact | None: ...


class AgentList:
    """An :class:`AgentDirectory` over a host function that returns every agent."""

    def __init__(self, agents: Callable[[], Iterable[Agent]]) -> None:
        self._agents = agents

    def list_agents(self) -> list[Agent]:
        return sorted(self._agents(), key=lambda agent: agent.id)

    def get_agent(self, agent_id: int) -> Agent | None:
        return next((agent for agent in self._agents() if agent.id == agent_id), None)


class ContactLookup:
    """A :class:`ContactDirectory` over a host function from a user id to a contact (or ``None``)."""

    def __init__(self, lookup: Callable[[int], Contact | None]) -> None:
        self._lookup = lookup

    def get_contact(self, user_id: int) -> Contact | None:
        return self._lookup(user_id)


# -- the store extensions (the standalone tables) -------------------------------------


class AgentStore(Protocol):
    """The ``support_agents`` table, and the open load counted over the store's tickets."""

    def list_agents(self) -> list[Agent]: ...

    def get_agent(self, agent_id: int) -> Agent | None: ...

    def put_agent(self, agent: Agent) -> Agent:
        """Insert or replace the agent with this id."""
        ...

    def remove_agent(self, agent_id: int) -> bool: ...

    def open_loads(self, agent_ids: Sequence[int]) -> dict[int, int]:
        """Open and in-progress tickets assigned to each id, counted by the database (0s included)."""
        ...


class ContactStore(Protocol):
    """The ``support_contacts`` table."""

    def get_contact(self, user_id: int) -> Contact | None: ...

    def list_contacts(self, *, after_id: int = 0, limit: int = 100) -> list[Contact]:
        """Contacts by user id, from ``after_id`` on (keyset paging)."""
        ...

    def put_contact(self, contact: Contact) -> Contact:
        """Insert or replace the contact of this user id (its email must not be another's)."""
        ...

    def contact_by_email(self, email: str) -> Contact | None: ...

    def ensure_for_email(self, email: str, name: str | None, ids: ContactIdRange) -> Contact:
        """The contact with this (normalised) email, made with a fresh id from ``ids`` if none is.

        Safe to call concurrently for the same address: one contact results.
        """
        ...


#: The package whose import registers the standalone implementations for every store class.
_IMPLEMENTATIONS = "supportchat.directories"


def agent_store(store: object) -> AgentStore:
    """The store's :class:`AgentStore` extension (raises ``ExtensionUnavailable`` for an unknown store)."""
    import_module(_IMPLEMENTATIONS)
    return extension(store, AgentStore)  # type: ignore[type-abstract]


def contact_store(store: object) -> ContactStore:
    """The store's :class:`ContactStore` extension."""
    import_module(_IMPLEMENTATIONS)
    return extension(store, ContactStore)  # type: ignore[type-abstract]


class StoredAgents:
    """The standalone :class:`AgentDirectory`: the store's ``support_agents`` table."""

    def __init__(self, store: object) -> None:
        self._table = agent_store(store)

    def list_agents(self) -> list[Agent]:
        return self._table.list_agents()

    def get_agent(self, agent_id: int) -> Agent | None:
        return self._table.get_agent(agent_id)


class StoredContacts:
    """The standalone :class:`ContactDirectory`: the store's ``support_contacts`` table."""

    def __init__(self, store: object, *, ids: ContactIdRange = DEFAULT_CONTACT_IDS) -> None:
        self._table = contact_store(store)
        self.ids = ids

    def get_contact(self, user_id: int) -> Contact | None:
        return self._table.get_contact(user_id)

    def ensure_for_email(self, email: object, name: object = None) -> Contact:
        """The contact who writes from ``email``, made (with a user id of its own) if new."""
        address = normalize_email(email)
        if address is None:
            raise ValidationError("email", "must be an email address")
        display = None if name in (None, "") else _name("name", name)
        return self._table.ensure_for_email(address, display, self.ids)


@dataclass(frozen=True, slots=True)
class Directories:
    """The two directories a desk uses, and its store for the open load."""

    agents: AgentDirectory
    contacts: ContactDirectory
    store: object

    def ensure_contact_for_email(self, email: object, name: object = None) -> Contact:
        """The contact who writes from ``email``, made with a user id of its own if new.

        The standalone table allocates from its :class:`ContactIdRange`; a host's
        contact directory does it if it has an ``ensure_for_email(email, name)``
        method (the host then owns the ids), and is refused otherwise.
        """
        ensure = getattr(self.contacts, "ensure_for_email", None)
        if ensure is None:
            raise ExtensionUnavailable(
                "the host's contact directory cannot add people who write by email: give it ensure_for_email()"
            )
        made: Contact = ensure(email, name)
        return made

    def agents_with_load(self) -> list[AgentLoad]:
        """Every agent with their open load, the load counted by the store in one query."""
        agents = self.agents.list_agents()
        loads = agent_store(self.store).open_loads([agent.id for agent in agents])
        return [AgentLoad(**dict(agent), open_load=loads.get(agent.id, 0)) for agent in agents]


_attached: weakref.WeakKeyDictionary[object, Directories] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def attach(
    desk: object,
    *,
    agents: AgentDirectory | Callable[[], Iterable[Agent]] | None = None,
    contacts: ContactDirectory | Callable[[int], Contact | None] | None = None,
    contact_ids: ContactIdRange = DEFAULT_CONTACT_IDS,
) -> Directories:
    """Give ``desk`` (a :class:`~supportchat.SupportDesk`) the host's directories.

    Either may be an object with the directory's methods or a plain function;
    one left out is the standalone table on the desk's store.
    """
    store = desk.store  # type: ignore[attr-defined]
    if agents is not None and not isinstance(agents, AgentDirectory):
        agents = AgentList(agents)
    if contacts is not None and not isinstance(contacts, ContactDirectory):
        contacts = ContactLookup(contacts)
    chosen = Directories(
        agents=agents if agents is not None else StoredAgents(store),
        contacts=contacts if contacts is not None else StoredContacts(store, ids=contact_ids),
        store=store,
    )
    with _lock:
        _attached[desk] = chosen
    return chosen


def directories_of(desk: object) -> Directories:
    """The directories attached to ``desk``, or the standalone tables of its store."""
    with _lock:
        found = _attached.get(desk)
    return found if found is not None else attach(desk)
