"""Ratings and merges under the shipped Supabase SQL's row-level security, for real on PostgreSQL.

Requests go through the real ``supabase`` client and the PostgREST emulator,
which runs each statement as the JWT's role with its claims, so these tests
exercise the SQL's grants, policies and the functions' own checks.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from postgrest.exceptions import APIError

from supportchat import Actor, SupportDesk
from supportchat.errors import Forbidden, TicketNotFound
from supportchat.models import ActorKind, NewTicketChange, Rating
from supportchat.store import TicketMerge
from supportchat.stores.supabase import SupabaseStore

from .postgrest_emulator import EmulatedProject, user_token
from .postgrest_emulator.session import shared_project

pytestmark = pytest.mark.postgres

ALICE, BOB, ADMIN = 1, 2, 100
AT = datetime(2026, 5, 1, 10, tzinfo=UTC)


@pytest.fixture
def project(request: pytest.FixtureRequest) -> EmulatedProject:
    project = shared_project(request)
    project.reset()
    return project


def _rating(ticket_id: int, user_id: int, cycle: int = 1) -> Rating:
    return Rating(
        ticket_id=ticket_id, cycle=cycle, score=5, comment="ok", user_id=user_id, agent_id=ADMIN, created_at=AT
    )


def _rated(history_by: int) -> list[NewTicketChange]:
    return [
        NewTicketChange(
            field="rating",
            old_value=None,
            new_value="5",
            changed_by_kind=ActorKind.USER,
            changed_by=history_by,
            changed_at=AT,
        )
    ]


def test_users_read_only_their_own_ratings_and_write_them_only_as_themselves(project: EmulatedProject) -> None:
    service = project.store()

    def store_of(user: int) -> SupabaseStore:
        return project.store(token=user_token(user))

    desk = SupportDesk(service)
    alices = desk.create_ticket(Actor.user(ALICE), subject="Alice", description="card")
    bobs = desk.create_ticket(Actor.user(BOB), subject="Bob", description="flight")
    for ticket in (alices, bobs):
        desk.change_status(Actor.admin(ADMIN), ticket.id, "resolved", assigned_to=ADMIN)
    desk.rate(Actor.user(BOB), bobs.id, 3)

    alice, bob = store_of(ALICE), store_of(BOB)
    assert alice.list_ratings(bobs.id) == []  # row-level security: not Alice's ticket
    assert [r.score for r in bob.list_ratings(bobs.id)] == [3]
    assert project.client(token=user_token(ALICE)).table("support_ratings").select("*").execute().data == []

    current = service.get_ticket(alices.id)
    assert current is not None
    # Alice rating Bob's ticket: it does not exist for her.
    with pytest.raises(TicketNotFound):
        alice.insert_rating(_rating(bobs.id, ALICE), expected_version=0, changes={}, history=_rated(ALICE))
    # Alice rating her own ticket as Bob, or changing its status while rating: refused.
    with pytest.raises(Forbidden):
        alice.insert_rating(_rating(alices.id, BOB), expected_version=current.version, changes={}, history=_rated(BOB))
    with pytest.raises(Forbidden):
        alice.insert_rating(
            _rating(alices.id, ALICE),
            expected_version=current.version,
            changes={"status": "open"},  # type: ignore[typeddict-item]
            history=_rated(ALICE),
        )
    # Her own resolved ticket, as herself: allowed (the desk would have checked the cycle).
    alice.insert_rating(_rating(alices.id, ALICE), expected_version=current.version, changes={}, history=_rated(ALICE))
    assert [r.user_id for r in service.list_ratings(alices.id)] == [ALICE]
    # Writing the table directly is not granted to users.
    with pytest.raises(APIError) as direct:
        project.client(token=user_token(ALICE)).table("support_ratings").insert(
            _rating(alices.id, ALICE, cycle=2).model_dump(mode="json")
        ).execute()
    assert direct.value.code == "42501"


def test_only_an_admin_merges(project: EmulatedProject) -> None:
    service = project.store()
    desk = SupportDesk(service)
    first = desk.create_ticket(Actor.user(ALICE), subject="one", description="d")
    second = desk.create_ticket(Actor.user(ALICE), subject="two", description="d")
    merge = TicketMerge(
        first.id,
        second.id,
        source_version=first.version,
        target_version=second.version,
        source_changes={},
        target_changes={},
    )
    with pytest.raises(Forbidden):
        project.store(token=user_token(ALICE)).merge_tickets(merge)
    assert service.get_ticket(first.id).merged_into is None  # type: ignore[union-attr]
    merged = project.store(token=user_token(ADMIN, admin=True)).merge_tickets(merge)
    assert merged.id == second.id and service.get_ticket(first.id).merged_into == second.id  # type: ignore[union-attr]
