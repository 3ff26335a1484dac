"""A feature's routes join the one route table: both adapters serve them, the OpenAPI document lists them."""

from __future__ import annotations

import json

import pytest

from supportchat import SupportDesk
from supportchat.extensions import extension
from supportchat.features import Feature
from supportchat.http.auth import InMemoryAdminTokens, TokenAuthenticator, UserTokens
from supportchat.http.routes import ROUTES, Route, route_table
from supportchat.jobs import JobStore, NewJob
from supportchat.jobs.feature import ROUTE, feature
from supportchat.stores import InMemoryStore

from .clients import fastapi_app
from .conftest import make_api

ANYONE = TokenAuthenticator(InMemoryAdminTokens(), UserTokens("test-secret-0123456789"))


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_the_jobs_feature_route_is_served_by_both_adapters_to_admins_only(adapter: str) -> None:
    store = InMemoryStore()
    extension(store, JobStore).enqueue([NewJob("notify.webhook"), NewJob("notify.webhook"), NewJob("sla.check")])
    api = make_api(adapter, SupportDesk(store), store, features=[feature()])
    reply = api.call("GET", "/jobs", headers=api.admin)
    assert reply.status == 200, reply.body
    data = json.loads(reply.body)["data"]
    assert data["total"] == {"pending": 3, "running": 0, "done": 0, "failed": 0}
    assert data["by_kind"]["notify.webhook"]["pending"] == 2 and data["by_kind"]["sla.check"]["pending"] == 1
    assert api.call("GET", "/jobs", headers=api.user(5)).status == 403
    assert api.call("GET", "/jobs").status == 401
    without = make_api(adapter, SupportDesk(store), store)
    assert without.call("GET", "/jobs", headers=without.admin).status == 404


def test_the_openapi_document_lists_a_features_route() -> None:
    from fastapi.testclient import TestClient

    def paths(**options: object) -> dict[str, dict[str, dict[str, object]]]:
        app = fastapi_app(SupportDesk(InMemoryStore()), authenticator=ANYONE, **options)
        return TestClient(app).get("/openapi.json").json()["paths"]  # type: ignore[no-any-return]

    assert paths(features=[feature()])["/admin/api/support/jobs"]["get"]["operationId"] == "job_counts"
    assert "/admin/api/support/jobs" not in paths()


def test_a_feature_cannot_take_a_route_the_table_has() -> None:
    assert route_table() == ROUTES
    assert route_table([feature()])[-1] is ROUTE
    with pytest.raises(ValueError, match="is taken"):
        route_table([feature(), Feature("again", routes=(ROUTE,))])
    clash = ROUTES[0]
    with pytest.raises(ValueError, match="is taken"):
        route_table([Feature("clash", routes=(clash,))])


@pytest.mark.parametrize("adapter", ["flask", "fastapi"])
def test_both_adapters_document_a_features_route_and_answer_its_wrong_method_with_allow(adapter: str) -> None:
    store = InMemoryStore()
    api = make_api(adapter, SupportDesk(store), store, features=[feature()])
    document = json.loads(api.call("GET", "/openapi.json").body)
    assert document["paths"]["/admin/api/support/jobs"]["get"]["operationId"] == "job_counts"
    reply = api.call("DELETE", "/jobs", headers=api.admin)
    assert reply.status == 405, reply.body
    assert {m.strip() for m in reply.headers["Allow"].split(",")} == {"GET", "OPTIONS"}
    without = make_api(adapter, SupportDesk(store), store)
    assert "/admin/api/support/jobs" not in json.loads(without.call("GET", "/openapi.json").body)["paths"]
    assert without.call("DELETE", "/jobs", headers=without.admin).status == 404


def test_a_feature_may_amend_a_route_but_not_move_or_rename_it() -> None:
    import dataclasses

    def retitle(route: Route) -> Route:
        return dataclasses.replace(route, summary="amended") if route.name == "statistics" else route

    table = route_table([Feature("retitle", amend=retitle)])
    assert [r.summary for r in table if r.name == "statistics"] == ["amended"]
    assert [r.name for r in table] == [r.name for r in ROUTES]
    for moved in ({"path": "/elsewhere"}, {"name": "other"}, {"method": "POST"}):

        def move(route: Route, changes: dict[str, str] = moved) -> Route:
            return dataclasses.replace(route, **changes) if route.name == "statistics" else route

        with pytest.raises(ValueError, match="not rename or move"):
            route_table([Feature("mover", amend=move)])
