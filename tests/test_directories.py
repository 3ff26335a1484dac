"""The agents and contacts directories' store extensions, on every backend of tests/stores.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tenacity import Retrying, stop_after_attempt, wait_none

from supportchat import Actor, SupportDesk
from supportchat.errors import Conflict, ExtensionUnavailable, Forbidden, StorageUnavailable, ValidationError
from supportchat.people import (
    Agent,
    Contact,
    ContactIdRange,
    StoredContacts,
    agent_store,
    attach,
    contact_store,
    directories_of,
    parse_agent,
    parse_contact,
)
from supportchat.stores import FallbackStore, InMemoryStore, Store
from supportchat.stores._breaker import CircuitBreaker

from .faults import FaultyStore
from .stores import StoreMaker

ADMIN = Actor.admin(7)
#: Backends whose primary is unavailable on purpose: directory writes are refused there
#: (docs/architecture.md, "Directories"); test_fallback_directories covers them.
_PRIMARY_UNAVAILABLE = ("fallback-down", "fallback-flapping")


@pytest.fixture
def store(request: pytest.FixtureRequest, make_store: StoreMaker) -> Store:
    """A fresh store whose directory writes are expected to succeed."""
    if request.node.callspec.params["make_store"] in _PRIMARY_UNAVAILABLE:
        pytest.skip("directory writes need the primary store")
    return make_store()


def _ticket(desk: SupportDesk, user_id: int, *, assign: int | None = None, status: str = "open") -> int:
    ticket = desk.create_ticket(Actor.user(user_id), subject="Help", description="It broke")
    if assign is not None or status != "open":
        desk.change_status(ADMIN, ticket.id, status, assigned_to=assign)
    return ticket.id


def test_agents_are_stored_replaced_and_removed(store: Store) -> None:
    table = agent_store(store)
    assert table.list_agents() == []
    ann = parse_agent(id=7, name="Ann", email="Ann@Example.org", teams=["billing", "Tech"], capacity=5)
    table.put_agent(ann)
    table.put_agent(parse_agent(id=3, name="Bo"))
    assert table.get_agent(7) == Agent(
        id=7, name="Ann", email="ann@example.org", teams=("billing", "tech"), available=True, capacity=5
    )
    table.put_agent(ann.model_copy(update={"available": False, "teams": ()}))
    assert [(a.id, a.available, a.teams) for a in table.list_agents()] == [(3, True, ()), (7, False, ())]
    assert table.remove_agent(3) is True
    assert table.remove_agent(3) is False
    assert table.get_agent(3) is None


def test_the_open_load_counts_open_and_in_progress_tickets_by_assignee(store: Store) -> None:
    desk = SupportDesk(store)
    _ticket(desk, 1, assign=7, status="in_progress")
    _ticket(desk, 2, assign=7, status="in_progress")
    resolved = _ticket(desk, 3, assign=7, status="in_progress")
    desk.change_status(ADMIN, resolved, "resolved")
    _ticket(desk, 4, assign=8, status="in_progress")
    _ticket(desk, 5)
    assert agent_store(store).open_loads([7, 8, 9]) == {7: 2, 8: 1, 9: 0}
    assert agent_store(store).open_loads([]) == {}


def test_agents_with_load_come_from_a_host_directory_with_the_load_from_the_store(store: Store) -> None:
    desk = SupportDesk(store)
    _ticket(desk, 1, assign=42, status="in_progress")
    staff = [Agent(id=42, name="Host agent", teams=("sales",)), Agent(id=41, name="Other")]
    directories = attach(desk, agents=lambda: staff)
    assert directories_of(desk) is directories
    assert [(a.id, a.open_load) for a in directories.agents_with_load()] == [(41, 0), (42, 1)]
    assert agent_store(store).list_agents() == []  # the standalone table is not used


def test_contacts_are_stored_paged_and_emails_stay_unique(store: Store) -> None:
    table = contact_store(store)
    for user_id in (5, 1, 9):
        table.put_contact(parse_contact(user_id=user_id, display_name=f"User {user_id}", email=f"u{user_id}@x.org"))
    table.put_contact(parse_contact(user_id=5, display_name="Five", email="U5@X.org", locale="pt-BR", time_zone="UTC"))
    assert table.get_contact(5) == Contact(
        user_id=5, display_name="Five", email="u5@x.org", locale="pt-BR", time_zone="UTC"
    )
    assert [c.user_id for c in table.list_contacts()] == [1, 5, 9]
    assert [c.user_id for c in table.list_contacts(after_id=1, limit=1)] == [5]
    assert table.contact_by_email("u9@x.org") == table.get_contact(9)
    with pytest.raises(Conflict):
        table.put_contact(parse_contact(user_id=2, email="u9@x.org"))
    assert table.get_contact(2) is None


def test_people_who_write_by_email_get_a_user_id_of_their_own_once(store: Store) -> None:
    ids = ContactIdRange(first=1_000_000, last=1_000_002)
    contacts = StoredContacts(store, ids=ids)
    first = contacts.ensure_for_email("New@Person.org", "New person")
    assert first.user_id == 1_000_000 and first.email == "new@person.org" and first.display_name == "New person"
    assert contacts.ensure_for_email("new@person.org") == first
    assert contacts.ensure_for_email("second@person.org").user_id == 1_000_001
    assert contacts.ensure_for_email("third@person.org").user_id == 1_000_002
    with pytest.raises(Conflict):
        contacts.ensure_for_email("fourth@person.org")
    with pytest.raises(ValidationError):
        contacts.ensure_for_email("not an address")


def test_concurrent_first_messages_from_one_address_make_one_contact(store: Store) -> None:
    contacts = StoredContacts(store)
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda i: contacts.ensure_for_email(f"p{i % 2}@x.org"), range(8)))
    assert len({c.user_id for c in made}) == 2
    assert {c.user_id for c in made} == {2_000_000_000, 2_000_000_001}


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("teams", {"teams": ["Not a team!"]}),
        ("capacity", {"capacity": -1}),
        ("email", {"email": "nobody"}),
        ("name", {"name": "  "}),
        ("id", {"id": 0}),
    ],
)
def test_agent_fields_are_validated(field: str, values: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_agent(**{"id": 1, "name": "Ann", **values})  # type: ignore[arg-type]
    assert caught.value.details["field"] == field


def test_contact_fields_are_validated() -> None:
    with pytest.raises(ValidationError):
        parse_contact(user_id=1, locale="not a locale")
    with pytest.raises(ValidationError):
        parse_contact(user_id=1, time_zone="Mars; DROP")
    assert parse_contact(user_id=1, time_zone="America/Argentina/Buenos_Aires").time_zone is not None


def test_fallback_directories_read_the_copy_during_an_outage_and_refuse_writes(tmp_path: Path) -> None:
    primary = FaultyStore(InMemoryStore())
    store = FallbackStore(
        primary,  # type: ignore[arg-type]
        InMemoryStore(),
        journal=tmp_path / "journal.sqlite",
        retry=Retrying(stop=stop_after_attempt(1), wait=wait_none(), sleep=lambda _s: None),
        breaker=CircuitBreaker(cool_down=3600),
    )
    desk = SupportDesk(store)
    _ticket(desk, 1, assign=7, status="in_progress")
    agent_store(store).put_agent(parse_agent(id=7, name="Ann"))
    made = StoredContacts(store).ensure_for_email("a@x.org")
    primary.down = True
    assert [a.name for a in agent_store(store).list_agents()] == ["Ann"]
    assert contact_store(store).contact_by_email("a@x.org") == made
    assert agent_store(store).open_loads([7]) == {7: 1}
    with pytest.raises(StorageUnavailable):
        agent_store(store).put_agent(parse_agent(id=8, name="Bo"))
    with pytest.raises(StorageUnavailable):
        StoredContacts(store).ensure_for_email("b@x.org")
    primary.down = False
    assert agent_store(store).get_agent(8) is None
    assert contact_store(store).contact_by_email("b@x.org") is None
    store.close()


@pytest.mark.postgres
def test_on_supabase_users_read_only_their_own_contact_and_never_the_agents(request: pytest.FixtureRequest) -> None:
    from .postgrest_emulator import user_token
    from .postgrest_emulator.session import shared_project

    project = shared_project(request)
    project.reset()
    service = project.store()
    agent_store(service).put_agent(parse_agent(id=100, name="Ann", email="ann@desk.example"))
    contact_store(service).put_contact(parse_contact(user_id=1, email="alice@x.org"))
    contact_store(service).put_contact(parse_contact(user_id=2, email="bob@x.org"))
    alice = project.store(token=user_token(1))
    assert agent_store(alice).list_agents() == []
    assert [c.user_id for c in contact_store(alice).list_contacts()] == [1]
    with pytest.raises(Forbidden):
        agent_store(alice).put_agent(parse_agent(id=1, name="Me, an agent"))
    with pytest.raises(Forbidden):
        StoredContacts(alice).ensure_for_email("new@x.org")
    admin = project.store(token=user_token(100, admin=True))
    assert [a.id for a in agent_store(admin).list_agents()] == [100]
    assert agent_store(admin).open_loads([100]) == {100: 0}


def test_email_senders_become_contacts_through_the_desks_directory(store: Store) -> None:
    desk = SupportDesk(store)
    made = directories_of(desk).ensure_contact_for_email("Writer@Mail.example", "Writer")
    assert made == contact_store(store).contact_by_email("writer@mail.example")
    hosted = attach(desk, contacts=lambda user_id: None)
    with pytest.raises(ExtensionUnavailable, match="ensure_for_email"):
        hosted.ensure_contact_for_email("other@mail.example")
