"""An emulated Supabase project: one database, one emulator, stores and clients on it."""

from __future__ import annotations

from types import TracebackType

import httpx
from supabase import Client, ClientOptions, create_client

from supportchat.stores.supabase import SupabaseStore

from .database import SERVER_DSN, EmulatedDatabase
from .tokens import anon_key, service_role_key
from .transport import PostgrestEmulator

#: The URL clients are given; the transport answers it, nothing listens there.
PROJECT_URL = "http://supabase.emulator.test"


class EmulatedProject:
    """A fresh database with the shipped SQL, served by a :class:`PostgrestEmulator`.

    Use it as a context manager (or call :meth:`close`): the database is
    dropped at the end. :meth:`reset` empties the tables between tests.
    """

    def __init__(self, database: EmulatedDatabase, *, max_rows: int | None = 1000) -> None:
        self.database = database
        self.transport = PostgrestEmulator(database, max_rows=max_rows)
        self.url = PROJECT_URL
        self.service_key = service_role_key()
        self.anon_key = anon_key()
        self._http_clients: list[httpx.Client] = []

    @classmethod
    def create(
        cls, server_dsn: str = SERVER_DSN, *, max_rows: int | None = 1000, existing_sql: str | None = None
    ) -> EmulatedProject:
        """A project on a new database; ``existing_sql`` runs before the shipped SQL (adoption)."""
        return cls(EmulatedDatabase(server_dsn, existing_sql=existing_sql), max_rows=max_rows)

    def http_client(self, transport: httpx.BaseTransport | None = None, *, timeout: float = 5.0) -> httpx.Client:
        """An ``httpx.Client`` over the emulator (or over ``transport``, e.g. a fault injector wrapping it)."""
        client = httpx.Client(transport=transport or self.transport, timeout=timeout)
        self._http_clients.append(client)
        return client

    def store(
        self, *, token: str | None = None, transport: httpx.BaseTransport | None = None, page_size: int = 1000
    ) -> SupabaseStore:
        """A :class:`SupabaseStore` built by ``from_url`` with the service-role key, or as ``token``'s user."""
        key = self.service_key if token is None else self.anon_key
        return SupabaseStore.from_url(
            self.url, key, http_client=self.http_client(transport), access_token=token, page_size=page_size
        )

    def client(self, *, token: str | None = None, key: str | None = None) -> Client:
        """A plain ``supabase.Client`` (anon key; ``token`` as the user's bearer token)."""
        headers = dict(ClientOptions().headers)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        options = ClientOptions(
            headers=headers,
            httpx_client=self.http_client(),
            postgrest_client_retry=False,
            auto_refresh_token=False,
            persist_session=False,
        )
        return create_client(self.url, key or self.anon_key, options=options)

    def reset(self) -> None:
        """Empty every supportchat table."""
        self.database.reset()

    def close(self) -> None:
        for client in self._http_clients:
            client.close()
        self._http_clients.clear()
        self.database.drop()

    def __enter__(self) -> EmulatedProject:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
