"""The FastAPI OpenAPI document: complete, and true to what the server answers (schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from supportchat.adapters.fastapi import create_app  # noqa: E402
from supportchat.http import ROUTES, InMemoryAdminTokens, TokenAuthenticator, UserTokens  # noqa: E402
from supportchat.http.streams import STREAM_ROUTES  # noqa: E402

from .conftest import PREFIX, SECRET, seeded_desk  # noqa: E402

TOKENS = InMemoryAdminTokens()
_, ADMIN_TOKEN = TOKENS.create("fuzzer")
USERS = UserTokens(SECRET)
USER_ID = 1


APP = create_app(seeded_desk(USER_ID), authenticator=TokenAuthenticator(TOKENS, USERS))
#: The SSE routes never end a response, so they are documented but not fuzzed (tests/api/test_events.py).
STREAM_PATHS = {PREFIX + r.path for r in STREAM_ROUTES}
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path=sorted(STREAM_PATHS))
USER_PATHS = {r.full_path(PREFIX) for r in ROUTES if r.audience.value == "user"}


def test_every_operation_is_documented_with_schemas() -> None:
    document: dict[str, Any] = SCHEMA.raw_schema
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    assert operations == {(r.method, r.full_path(PREFIX)) for r in ROUTES} | {("GET", p) for p in STREAM_PATHS}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            if path in STREAM_PATHS:
                assert "text/event-stream" in operation["responses"]["200"]["content"], where
                assert {"last_event_id"} <= {p["name"] for p in operation["parameters"]}, where
                assert operation["security"] == [{"HTTPBearer": []}], where
                continue
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert ok["$ref"].split("/")[-1].startswith(("DataEnvelope", "ListEnvelope")), where
            for status, response in operation["responses"].items():
                if status != "200":
                    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope"), where
            if method in ("post", "put"):
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                assert body["type"] == "object" and body["properties"], where
            declared = {p["name"] for p in operation.get("parameters", [])}
            assert {seg[1:-1] for seg in path.split("/") if seg.startswith("{")} <= declared, where
            assert operation["security"] == [{"HTTPBearer": []}], where
    assert "HTTPBearer" in document["components"]["securitySchemes"]


@SCHEMA.parametrize()
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@pytest.mark.timeout(180)
def test_api_conforms_to_its_openapi_document(case: Any) -> None:
    if case.path in USER_PATHS:
        token = USERS.mint(USER_ID)
        if case.path_parameters and "user_id" in case.path_parameters:
            case.path_parameters["user_id"] = USER_ID
    else:
        token = ADMIN_TOKEN
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance],
    )
