"""Who may call what: every route against every kind of wrong caller."""

from __future__ import annotations

from typing import Any

import pytest

from supportchat import Actor
from supportchat.http import ROUTES, Audience, Route

from .conftest import Api, expired_user_token

#: A body each route accepts from its rightful caller (user 1 or an admin).
VALID_BODIES: dict[str, Any] = {
    "change_status": {"status": "in_progress", "assigned_to": 2},
    "post_admin_message": {"message": "hola", "message_type": "text"},
    "create_ticket": {"user_id": 1, "subject": "Problema", "description": "No puedo pagar"},
    "post_user_message": {"user_id": 1, "message": "hola", "message_type": "text"},
    "rate_ticket": {"score": 5, "comment": "gracias"},
    # The test names the surviving ticket (another of user 1) when the admin merges for real.
    "merge_tickets": {"into": "TKT-00000000"},
    "add_note": {"note": "revisado"},
    "set_tags": {"tags": ["vip"]},
    "add_tags": {"tags": ["vip"]},
}
ADMIN_ROUTES = [r for r in ROUTES if r.audience is Audience.ADMIN]
USER_ROUTES = [r for r in ROUTES if r.audience is Audience.USER]


def concrete(route: Route, *, ticket: object, user: object) -> str:
    return route.path.replace("{ticket_id}", str(ticket)).replace("{user_id}", str(user)).replace("{tag}", "vip")


def call(api: Api, route: Route, headers: dict[str, str], *, ticket: object, user: object, body: Any = None) -> Any:
    if body is None:
        body = VALID_BODIES.get(route.name)
    return api.call(route.method, concrete(route, ticket=ticket, user=user), headers=headers, json=body)


def test_every_body_route_has_a_valid_body() -> None:
    assert {r.name for r in ROUTES if r.body is not None} == set(VALID_BODIES)


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda r: r.name)
def test_admin_routes_refuse_everyone_but_admins(api: Api, route: Route) -> None:
    ticket = api.ticket_for(1)
    spare = api.ticket_for(1)
    _, revoked = api.tokens.create("bea")
    api.tokens.revoke("bea")
    before = api.written()
    callers = {
        "no token": ({}, 401),
        "bad token": ({"Authorization": "Bearer sca_not-a-real-token"}, 401),
        "garbage": ({"Authorization": "Bearer eyJ.garbage.x"}, 401),
        "not bearer": ({"Authorization": f"Basic {api.admin_token}"}, 401),
        "revoked admin token": ({"Authorization": f"Bearer {revoked}"}, 401),
        "expired user token": ({"Authorization": f"Bearer {expired_user_token(api.users, 1)}"}, 401),
        "user token": (api.user(1), 403),
    }
    for who, (headers, status) in callers.items():
        reply = call(api, route, headers, ticket=ticket.id, user=1)
        assert reply.status == status, who
        document = reply.json()
        assert document["success"] is False and "data" not in document, who
        assert document["error"]["code"] == ("not_authenticated" if status == 401 else "forbidden")
    assert api.written() == before
    body = {"into": spare.id} if route.name == "merge_tickets" else None
    assert call(api, route, api.admin, ticket=ticket.id, user=1, body=body).status == 200


@pytest.mark.parametrize("route", USER_ROUTES, ids=lambda r: r.name)
def test_user_routes_refuse_other_users(api: Api, route: Route) -> None:
    mine = api.ticket_for(1)  # user A = 1
    theirs = api.ticket_for(2)  # user B = 2
    if route.name == "rate_ticket":  # only a resolved ticket can be rated
        api.desk.change_status(Actor.admin(100), mine.id, "resolved")
    before = api.written()
    b = api.user(2)

    attempts: list[tuple[str, int, dict[str, Any]]] = [
        # B names A in the path or the body: 403.
        ("B as A, A's ticket", 403, {"ticket": mine.id, "user": 1}),
        ("B as A, A's ticket by number", 403, {"ticket": mine.ticket_number, "user": 1}),
        ("B as A, B's ticket", 403, {"ticket": theirs.id, "user": 1}),
    ]
    if "{ticket_id}" in route.path:
        # B as themselves, on A's ticket: it does not exist for them.
        body = {**VALID_BODIES[route.name], "user_id": 2} if route.name in VALID_BODIES else None
        attempts.append(("B on A's ticket", 404, {"ticket": mine.id, "user": 2, "body": body}))
        attempts.append(("B on A's ticket by number", 404, {"ticket": mine.ticket_number, "user": 2, "body": body}))
        if body is not None:
            attempts.append(
                ("B on A's ticket, no user_id", 404, {"ticket": mine.id, "user": 2, "body": {"message": "x"}})
            )
    for what, status, where in attempts:
        if "{user_id}" not in route.path and route.body is None:
            continue
        reply = call(api, route, b, **where)
        assert reply.status == status, what
        document = reply.json()
        assert "data" not in document and document["success"] is False, what
        assert mine.subject not in reply.body.decode() and mine.ticket_number not in reply.body.decode()

    for who, headers, status in (
        ("nobody", {}, 401),
        ("expired", {"Authorization": f"Bearer {expired_user_token(api.users, 1)}"}, 401),
        ("admin", api.admin, 403),
    ):
        reply = call(api, route, headers, ticket=mine.id, user=1)
        assert reply.status == status, who
        assert "data" not in reply.json()
    assert api.written() == before
    assert call(api, route, api.user(1), ticket=mine.id, user=1).status == 200


def test_user_lists_only_their_own_tickets(api: Api) -> None:
    api.ticket_for(1)
    mine = api.ticket_for(2)
    reply = api.call("GET", "/user/2/tickets", headers=api.user(2))
    assert [t["id"] for t in reply.json()["data"]] == [mine.id]
    assert reply.json()["meta"]["total"] == 1


def test_tokens_with_the_wrong_key_or_no_expiry_are_refused(api: Api) -> None:
    import jwt

    ticket = api.ticket_for(1)
    forged = jwt.encode({"sub": "1", "exp": 4102444800}, "another-secret-of-enough-length!!", algorithm="HS256")
    eternal = jwt.encode({"sub": "1"}, api.users._secret, algorithm="HS256")
    unsigned = jwt.encode({"sub": "1", "exp": 4102444800}, None, algorithm="none")
    for token in (forged, eternal, unsigned):
        reply = api.call("GET", f"/user/1/tickets/{ticket.id}", headers={"Authorization": f"Bearer {token}"})
        assert reply.status == 401
