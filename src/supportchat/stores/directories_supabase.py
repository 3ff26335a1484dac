"""The agents and contacts directories on Supabase: the shipped SQL's tables and functions.

Reads are table queries (admins only, by row-level security; a user reads
their own contact row); writes and the open load are calls of the functions
``support_put_agent``, ``support_remove_agent``, ``support_open_loads``,
``support_put_contact`` and ``support_ensure_contact`` of
``supportchat/sql/supabase.sql``, each one transaction in the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from postgrest.exceptions import APIError

from ..errors import Conflict, SupportChatError
from ..people import Agent, Contact, ContactIdRange
from .supabase import SupabaseStore, translate_error

__all__ = ["SupabaseAgentStore", "SupabaseContactStore"]


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except SupportChatError:
        raise
    except APIError as error:
        if error.hint == "contact_ids_full":
            raise Conflict("the contact id range is full", details={"field": "email"}) from error
        if error.code == "23505" and "support_contacts_email" in (error.message or ""):
            raise Conflict("another contact has this email", details={"field": "email"}) from error
        raise translate_error(error) from error
    except Exception as error:
        raise translate_error(error) from error


def _agent(row: dict[str, Any]) -> Agent:
    return Agent(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        teams=tuple(row["teams"] or ()),
        available=row["available"],
        capacity=row["capacity"],
    )


def _contact(row: dict[str, Any]) -> Contact:
    return Contact(**{name: row[name] for name in Contact.model_fields})


class _OnClient:
    def __init__(self, store: SupabaseStore) -> None:
        self._client = store.client

    def _select(self, table: str, **equal: object) -> list[Any]:
        request = self._client.table(table).select("*")
        for column, value in equal.items():
            request = request.eq(column, value)
        with _translated():
            rows: list[Any] = request.retry(False).execute().data
        return rows

    def _call(self, function: str, **params: Any) -> Any:
        with _translated():
            result: Any = self._client.rpc(function, params).retry(False).execute().data
        return result


class SupabaseAgentStore(_OnClient):
    """:class:`~supportchat.people.AgentStore` on ``public.support_agents``."""

    def list_agents(self) -> list[Agent]:
        request = self._client.table("support_agents").select("*").order("id")
        with _translated():
            rows: list[Any] = request.retry(False).execute().data
        return [_agent(row) for row in rows]

    def get_agent(self, agent_id: int) -> Agent | None:
        rows = self._select("support_agents", id=agent_id)
        return _agent(rows[0]) if rows else None

    def put_agent(self, agent: Agent) -> Agent:
        return _agent(self._call("support_put_agent", p_agent=agent.model_dump(mode="json")))

    def remove_agent(self, agent_id: int) -> bool:
        return bool(self._call("support_remove_agent", p_id=agent_id))

    def open_loads(self, agent_ids: Sequence[int]) -> dict[int, int]:
        if not agent_ids:
            return {}
        counted = self._call("support_open_loads", p_ids=list(agent_ids)) or {}
        return {agent_id: int(counted.get(str(agent_id), 0)) for agent_id in agent_ids}


class SupabaseContactStore(_OnClient):
    """:class:`~supportchat.people.ContactStore` on ``public.support_contacts``."""

    def get_contact(self, user_id: int) -> Contact | None:
        rows = self._select("support_contacts", user_id=user_id)
        return _contact(rows[0]) if rows else None

    def list_contacts(self, *, after_id: int = 0, limit: int = 100) -> list[Contact]:
        request = self._client.table("support_contacts").select("*").gt("user_id", after_id).order("user_id")
        with _translated():
            rows: list[Any] = request.limit(limit).retry(False).execute().data
        return [_contact(row) for row in rows]

    def contact_by_email(self, email: str) -> Contact | None:
        rows = self._select("support_contacts", email=email)
        return _contact(rows[0]) if rows else None

    def put_contact(self, contact: Contact) -> Contact:
        return _contact(self._call("support_put_contact", p_contact=contact.model_dump(mode="json")))

    def ensure_for_email(self, email: str, name: str | None, ids: ContactIdRange) -> Contact:
        made = self._call("support_ensure_contact", p_email=email, p_name=name, p_first=ids.first, p_last=ids.last)
        return _contact(made)
