"""The admin-token policy (:class:`supportchat.accounts.AdminTokens`), run over every registry.

One module, every implementation: the in-memory registry and
:class:`SQLAdminTokens` on SQLite (file and in-memory) and PostgreSQL, built
from the same backends as the store contract (``tests/stores.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from supportchat.accounts import (
    AdminAccount,
    AdminTokens,
    InMemoryAdminTokens,
    LastUseRecorder,
    hash_token,
)
from supportchat.errors import StorageUnavailable, SupportChatError
from supportchat.http.auth import TokenAuthenticator
from supportchat.models import Actor
from supportchat.stores.admin_tokens import SQLAdminTokens
from supportchat.stores.sql import SQLStore, create_engine

from .conftest import FakeClock
from .stores import BACKEND_MARKS, BACKENDS

REGISTRIES = ["memory", "sqlite-file", "sqlite-memory", "postgres"]


class Registry:
    """A registry under test, and a way to reach the same admins with every write failing."""

    def __init__(self, tokens: AdminTokens, read_only: Callable[[], AdminTokens]) -> None:
        self.tokens = tokens
        self.read_only = read_only


class FailingWrites:
    """The in-memory registry's reads, with every write failing as a read-only database's would."""

    def __init__(self, inner: AdminTokens) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in ("create", "revoke", "record_use", "end_sessions"):
            raise StorageUnavailable(f"injected: {name} cannot write")
        return getattr(self._inner, name)


def _read_only_sql(store: SQLStore, backend: str) -> AdminTokens:
    engine = store.engine
    if backend == "sqlite-file":
        return SQLAdminTokens(create_engine(f"sqlite:///file:{engine.url.database}?mode=ro&uri=true"))
    if backend == "sqlite-memory":
        # One shared connection: make it refuse writes.
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA query_only=ON")
        return SQLAdminTokens(engine)
    with engine.connect() as connection:
        search_path = connection.exec_driver_sql("SHOW search_path").scalar_one()
    options = f"-c search_path={search_path} -c default_transaction_read_only=on"
    return SQLAdminTokens(create_engine(engine.url, connect_args={"options": options}))


@pytest.fixture(params=[pytest.param(name, marks=BACKEND_MARKS.get(name, [])) for name in REGISTRIES])
def registry(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Registry]:
    backend = request.param
    if backend == "memory":
        tokens = InMemoryAdminTokens(clock=clock)
        yield Registry(tokens, lambda: FailingWrites(tokens))  # type: ignore[arg-type, return-value]
        return
    with BACKENDS[backend](request) as make:  # type: ignore[attr-defined]
        store = make()
        assert isinstance(store, SQLStore)
        try:
            yield Registry(SQLAdminTokens(store.engine, clock=clock), lambda: _read_only_sql(store, backend))
        finally:
            store.close()


def names(tokens: AdminTokens) -> list[tuple[str, bool]]:
    return [(admin.name, admin.revoked_at is None) for admin in tokens.list()]


# -- names ---------------------------------------------------------------------


def test_a_token_verifies_as_its_admin_and_only_its_hash_is_kept(registry: Registry, clock: FakeClock) -> None:
    tokens = registry.tokens
    admin, token = tokens.create("  ana  ")
    assert token.startswith("sca_") and len(token) > 40
    assert (admin.name, admin.created_at, admin.last_used_at, admin.revoked_at) == ("ana", clock.now, None, None)
    assert tokens.verify(token) == admin
    assert tokens.get("ana") == admin and tokens.get(admin.id) == admin and tokens.get(str(admin.id)) == admin
    assert tokens.get("nobody") is None and tokens.get(admin.id + 1) is None
    if isinstance(tokens, InMemoryAdminTokens):
        assert token not in repr(vars(tokens)) and hash_token(token) in repr(vars(tokens))


@pytest.mark.parametrize("token", ["", "sca_", "sca_not-a-real-token", "eyJhbGciOi.not.admin"])
def test_unknown_tokens_verify_as_nobody(registry: Registry, token: str) -> None:
    _, real = registry.tokens.create("ana")
    assert registry.tokens.verify(token) is None
    assert registry.tokens.verify(real + "x") is None
    assert registry.tokens.verify(real.removeprefix("sca_")) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there", "new\nline"])
def test_names_must_be_1_to_100_printable_characters(registry: Registry, name: str) -> None:
    with pytest.raises(ValueError, match="admin name"):
        registry.tokens.create(name)
    assert registry.tokens.list() == []


def test_a_live_name_is_unique(registry: Registry) -> None:
    tokens = registry.tokens
    ana, _ = tokens.create("ana")
    with pytest.raises(ValueError, match="already exists"):
        tokens.create("ana")
    with pytest.raises(ValueError, match="already exists"):
        tokens.create(" ana ")
    bea, _ = tokens.create("bea")
    assert [a.id for a in tokens.list()] == [ana.id, bea.id]
    assert ana.id < bea.id


# -- revoke and re-issue -------------------------------------------------------------


def test_revoking_stops_the_token_and_is_said_once(registry: Registry, clock: FakeClock) -> None:
    tokens = registry.tokens
    _, ana = tokens.create("ana")
    _, bea = tokens.create("bea")
    clock.advance(minutes=5)
    assert tokens.revoke("ana") is True
    assert tokens.revoke("ana") is False
    assert tokens.revoke("nobody") is False
    assert tokens.verify(ana) is None
    assert tokens.verify(bea) is not None
    assert names(tokens) == [("ana", False), ("bea", True)]
    revoked = tokens.get("ana")
    assert revoked is not None and revoked.revoked_at == clock.now


def test_creating_a_revoked_name_reissues_the_same_admin_with_a_new_token(registry: Registry, clock: FakeClock) -> None:
    tokens = registry.tokens
    first, old = tokens.create("ana")
    tokens.record_use({first.id: clock.now})
    clock.advance(hours=1)
    tokens.revoke("ana")
    clock.advance(hours=1)
    again, new = tokens.create("ana")
    assert new != old
    assert again == AdminAccount(id=first.id, name="ana", created_at=first.created_at)
    assert tokens.verify(old) is None
    assert tokens.verify(new) == again
    assert names(tokens) == [("ana", True)]


# -- verification never writes; last use is recorded apart ---------------------------


def test_verifying_never_records_use(registry: Registry, clock: FakeClock) -> None:
    tokens = registry.tokens
    _, token = tokens.create("ana")
    for _ in range(3):
        clock.advance(minutes=5)
        assert tokens.verify(token) is not None
    assert [a.last_used_at for a in tokens.list()] == [None]


def test_authentication_works_when_every_write_fails(registry: Registry, clock: FakeClock) -> None:
    admin, token = registry.tokens.create("ana")
    read_only = registry.read_only()
    with pytest.raises(SupportChatError):  # the writes really fail
        read_only.record_use({admin.id: clock.now})
    assert read_only.verify(token) == admin
    recorder = LastUseRecorder(read_only, clock=clock, background=False)
    authenticator = TokenAuthenticator(read_only, last_use=recorder)

    class Request:
        def __init__(self) -> None:
            self.headers = {"authorization": f"Bearer {token}"}
            self.cookies: dict[str, str] = {}

    for _ in range(2):
        assert authenticator.identify(Request()) == Actor.admin(admin.id)
        clock.advance(minutes=2)
    recorder.flush()  # fails again, quietly
    assert registry.tokens.list()[0].last_used_at is None


def test_last_use_is_written_in_batches_at_most_once_an_interval(registry: Registry, clock: FakeClock) -> None:
    tokens = registry.tokens
    _, ana = tokens.create("ana")
    _, bea = tokens.create("bea")
    recorder = LastUseRecorder(tokens, clock=clock, interval=timedelta(minutes=1), background=False)

    def last_used() -> dict[str, datetime | None]:
        return {a.name: a.last_used_at for a in tokens.list()}

    first = clock.now
    recorder.note(tokens.verify(ana))  # type: ignore[arg-type]
    assert last_used() == {"ana": first, "bea": None}
    clock.advance(seconds=30)
    recorder.note(tokens.verify(bea))  # type: ignore[arg-type]
    recorder.note(tokens.verify(ana))  # type: ignore[arg-type]
    assert last_used() == {"ana": first, "bea": None}  # within the interval: remembered, not written
    clock.advance(seconds=31)
    recorder.note(tokens.verify(ana))  # type: ignore[arg-type]
    assert last_used() == {"ana": clock.now, "bea": clock.now - timedelta(seconds=31)}


def test_recorded_use_only_moves_forward(registry: Registry, clock: FakeClock) -> None:
    tokens = registry.tokens
    admin, _ = tokens.create("ana")
    tokens.record_use({admin.id: clock.now})
    tokens.record_use({admin.id: clock.now - timedelta(hours=1), admin.id + 100: clock.now})
    assert [a.last_used_at for a in tokens.list()] == [clock.now]
    tokens.record_use({})


# -- panel sessions --------------------------------------------------------------


def test_a_session_binding_moves_on_at_sign_out_revocation_and_reissue(registry: Registry) -> None:
    tokens = registry.tokens
    ana, _ = tokens.create("ana")
    bea, _ = tokens.create("bea")
    first = tokens.session_binding(ana.id)
    assert first is not None and first != tokens.session_binding(bea.id)
    assert tokens.session_binding(ana.id) == first  # stable while nothing happens
    tokens.end_sessions(ana.id)
    signed_out = tokens.session_binding(ana.id)
    assert signed_out not in (None, first)
    assert tokens.session_binding(bea.id) is not None  # another admin's sessions go on
    assert tokens.revoke("ana")
    assert tokens.session_binding(ana.id) is None
    again, _ = tokens.create("ana")
    assert again.id == ana.id
    # The re-issued token binds new sessions; none issued before comes back.
    assert tokens.session_binding(ana.id) not in (None, first, signed_out)
    assert tokens.session_binding(ana.id + bea.id + 1) is None


def test_session_bindings_are_read_when_every_write_fails(registry: Registry) -> None:
    ana, _ = registry.tokens.create("ana")
    assert registry.read_only().session_binding(ana.id) == registry.tokens.session_binding(ana.id)
