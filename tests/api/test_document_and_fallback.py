"""The OpenAPI document follows the desk's Limits, and every answer under the prefix is an envelope.

Both adapters serve ``{prefix}/openapi.json`` built from the route table and
the desk's :class:`~supportchat.rules.Limits`; an unknown path under the
prefix is a 404 and a wrong method a 405 with ``Allow``, in the JSON
envelope, whichever framework serves it.
"""

from __future__ import annotations

from typing import Any

import pytest

from supportchat import InMemoryStore, SupportDesk
from supportchat.http.openapi import document
from supportchat.http.routes import ROUTES
from supportchat.rules import Limits

from .conftest import PREFIX, Api, make_api

CUSTOM = Limits(subject=80, body=500, search=30, per_page_max=25, file_url=300, body_bytes=4096)


def custom_api(adapter: str, **options: Any) -> Api:
    store = InMemoryStore()
    return make_api(adapter, SupportDesk(store, limits=CUSTOM), store, **options)


def operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][PREFIX + path][method]
    return found


def parameter(op: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = next(p["schema"] for p in op["parameters"] if p["name"] == name)
    return schema


def body(op: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = op["requestBody"]["content"]["application/json"]["schema"]
    return schema


def test_a_desk_with_its_own_limits_documents_them(adapter: str) -> None:
    api = custom_api(adapter)
    reply = api.client.request("GET", PREFIX + "/openapi.json")
    assert reply.status == 200 and reply.content_type.startswith("application/json")
    doc = reply.json()
    assert doc == document(CUSTOM), "both adapters serve the table's own document"

    created = body(operation(doc, "post", "/create-ticket"))["properties"]
    assert created["subject"]["maxLength"] == 80
    assert created["description"]["maxLength"] == 500
    message = body(operation(doc, "post", "/tickets/{ticket_id}/messages"))
    assert message["properties"]["message"]["maxLength"] == 500
    assert message["properties"]["file_url"]["anyOf"][0]["maxLength"] == 300
    listing = operation(doc, "get", "/tickets")
    assert parameter(listing, "q")["maxLength"] == 30
    assert parameter(listing, "per_page")["maximum"] == 25
    assert parameter(listing, "page")["maximum"] == CUSTOM.page_max
    assert parameter(operation(doc, "get", "/user/{user_id}/tickets"), "per_page")["maximum"] == 25
    # The default document states the default limits, so nothing above is a coincidence.
    default = document()
    assert body(operation(default, "post", "/create-ticket"))["properties"]["subject"]["maxLength"] == 200


def test_the_documented_limits_are_the_enforced_ones(adapter: str) -> None:
    api = custom_api(adapter)
    headers = api.user(1)
    fits = api.call("POST", "/create-ticket", headers=headers, json={"subject": "x" * 80, "description": "d"})
    assert fits.status == 200, fits.body
    over = api.call("POST", "/create-ticket", headers=headers, json={"subject": "x" * 81, "description": "d"})
    assert over.status == 422 and over.json()["error"]["details"]["field"] == "subject"
    assert api.call("GET", "/tickets", headers=api.admin, query={"per_page": 26}).status == 422
    big = api.call("POST", "/create-ticket", headers=headers, content=b'{"subject": "' + b"x" * 5000 + b'"}')
    assert big.status == 413 and big.json()["error"]["details"]["limit"] == 4096


def test_fastapi_documents_the_same_operations_in_a_host_app() -> None:
    # Mounted in a host's FastAPI app, FastAPI builds the document; its fragments come from the same place.
    from fastapi import FastAPI

    from supportchat.adapters.fastapi import support_router

    app = FastAPI()
    app.include_router(support_router(SupportDesk(InMemoryStore(), limits=CUSTOM), identify=lambda: None))
    hosted = app.openapi()
    ours = document(CUSTOM)
    for route in ROUTES:
        theirs, mine = (
            hosted["paths"][route.full_path()][route.method.lower()],
            operation(ours, route.method.lower(), route.path),
        )
        assert theirs["parameters"] == mine["parameters"], route.name
        assert theirs.get("requestBody") == mine.get("requestBody"), route.name
        assert theirs["responses"]["200"].get("links") == mine["responses"]["200"].get("links"), route.name
        assert set(theirs["responses"]) == set(mine["responses"]), route.name


def test_create_ticket_links_to_every_ticket_route() -> None:
    links = operation(document(), "post", "/create-ticket")["responses"]["200"]["links"]
    ticket_routes = {r.name for r in ROUTES if "{ticket_id}" in r.path}
    assert {link["operationId"] for link in links.values()} == ticket_routes
    assert links["get_ticket"]["parameters"] == {"ticket_id": "$response.body#/data/id"}
    assert links["get_user_ticket_by_number"]["parameters"] == {
        "ticket_id": "$response.body#/data/ticket_number",
        "user_id": "$response.body#/data/user_id",
    }


@pytest.mark.parametrize("path", ["/nope", "/tickets/1/nope", "/", "/user/1/tickets/2/messages/3", "/tickets/"])
def test_an_unknown_path_under_the_prefix_is_a_json_404(api: Api, path: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        reply = api.call(method, path, headers=api.admin)
        assert reply.status == 404, (method, path, reply.body)
        assert reply.content_type.startswith("application/json")
        assert reply.json()["success"] is False
        assert reply.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/tickets/1", "GET, OPTIONS"),
        ("PATCH", "/tickets/1/messages", "GET, OPTIONS, POST"),
        ("GET", "/create-ticket", "OPTIONS, POST"),
        ("TRACE", "/statistics", "GET, OPTIONS"),
        ("POST", "/tickets", "GET, OPTIONS"),
        ("PUT", "/user/1/events", "GET, OPTIONS"),
    ],
)
def test_a_wrong_method_is_a_json_405_naming_the_methods(api: Api, method: str, path: str, allowed: str) -> None:
    reply = api.client.request(method, PREFIX + path, headers=api.admin)
    assert reply.status == 405, reply.body
    assert reply.json()["error"]["code"] == "method_not_allowed"
    assert reply.json()["error"]["details"]["allowed"] == allowed.split(", ")
    assert reply.headers["allow"] == allowed


def test_options_names_the_methods_of_a_path(api: Api) -> None:
    reply = api.client.request("OPTIONS", PREFIX + "/tickets/1/messages")
    assert reply.status == 204
    assert reply.headers["allow"] == "GET, OPTIONS, POST"


def test_without_the_fallback_the_host_keeps_its_own_answers() -> None:
    import flask
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from supportchat.adapters.fastapi import support_router
    from supportchat.adapters.flask import support_blueprint

    desk = SupportDesk(InMemoryStore())
    flask_host = flask.Flask("host")
    flask_host.register_blueprint(support_blueprint(desk, identify=lambda: None, fallback=False))
    assert flask_host.test_client().get(PREFIX + "/nope").content_type.startswith("text/html")
    fastapi_host = FastAPI()
    fastapi_host.include_router(support_router(desk, identify=lambda: None, fallback=False))
    assert TestClient(fastapi_host).get(PREFIX + "/nope").json() == {"detail": "Not Found"}


def test_paths_outside_the_prefix_are_left_to_the_host() -> None:
    import flask

    from supportchat.adapters.flask import SupportChat

    app = flask.Flask("host")
    SupportChat(SupportDesk(InMemoryStore()), identify=lambda: None).init_app(app)
    reply = app.test_client().get("/somewhere/else")
    assert reply.status_code == 404
    assert reply.content_type.startswith("text/html"), "the host's own 404 page"
