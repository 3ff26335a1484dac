"""One small client interface over Flask's test client and Starlette's TestClient.

Every HTTP test talks to :class:`ApiClient`, so each one runs unchanged
against both adapters.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from supportchat import SupportDesk


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class ApiClient(Protocol):
    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Reply: ...


def _payload(json: Any, content: bytes | None) -> bytes | None:
    if content is not None:
        return content
    return None if json is None else jsonlib.dumps(json).encode()


def _headers(headers: Mapping[str, str] | None, body: bytes | None, json: Any) -> dict[str, str]:
    merged = dict(headers or {})
    if json is not None:
        merged.setdefault("Content-Type", "application/json")
    return merged


class FlaskClient:
    def __init__(self, app: Any) -> None:
        self._client = app.test_client()

    def request(self, method, path, *, headers=None, json=None, content=None, query=None):  # type: ignore[no-untyped-def]
        body = _payload(json, content)
        response = self._client.open(
            path, method=method, headers=_headers(headers, body, json), data=body, query_string=query
        )
        return Reply(response.status_code, response.get_data(), response.content_type or "", response.headers)


class FastAPIClient:
    def __init__(self, app: Any) -> None:
        from fastapi.testclient import TestClient

        self._client = TestClient(app, raise_server_exceptions=False)

    def request(self, method, path, *, headers=None, json=None, content=None, query=None):  # type: ignore[no-untyped-def]
        body = _payload(json, content)
        response = self._client.request(method, path, headers=_headers(headers, body, json), content=body, params=query)
        return Reply(response.status_code, response.content, response.headers.get("content-type", ""), response.headers)


def flask_app(desk: SupportDesk, **options: Any) -> Any:
    import flask

    from supportchat.adapters.flask import SupportChat

    app = flask.Flask("supportchat_test")
    SupportChat(desk, **options).init_app(app)
    return app


def fastapi_app(desk: SupportDesk, **options: Any) -> Any:
    from supportchat.adapters.fastapi import create_app

    return create_app(desk, **options)


#: Adapter name → a function building a client over a desk (options go to the adapter).
ADAPTERS: dict[str, Callable[..., ApiClient]] = {
    "flask": lambda desk, **options: FlaskClient(flask_app(desk, **options)),
    "fastapi": lambda desk, **options: FastAPIClient(fastapi_app(desk, **options)),
}


__all__ = ["ADAPTERS", "ApiClient", "Reply"]
