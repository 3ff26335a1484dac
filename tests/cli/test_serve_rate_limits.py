"""The standalone server's rate limits come from the environment (issue 12 #2)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from supportchat.cli.config import read_secret
from supportchat.http import UserTokens

from .conftest import Cli

CREATE = "/admin/api/support/create-ticket"


def _served_app(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, str]]:
    """The app ``serve`` would run, and a user's credentials for it."""
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    cli("serve", "--port", "8124")
    secret = read_secret()
    assert secret is not None
    return served["app"], {"Authorization": f"Bearer {UserTokens(secret).mint(3)}"}


def test_serve_reads_its_limits_from_the_environment(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTCHAT_RATE_LIMITS", "user_tickets=2/hour")
    app, headers = _served_app(cli, monkeypatch)
    with TestClient(app) as client:
        statuses = [
            client.post(CREATE, headers=headers, json={"subject": f"t{n}", "description": "d"}).status_code
            for n in range(3)
        ]
        assert statuses == [200, 200, 429]
        refused = client.post(CREATE, headers=headers, json={"subject": "t", "description": "d"})
        assert int(refused.headers["retry-after"]) >= 1


def test_serve_without_limits_writes_freely(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTCHAT_RATE_LIMITS", "none")
    app, headers = _served_app(cli, monkeypatch)
    with TestClient(app) as client:
        for n in range(12):  # past the default 10 tickets an hour
            assert client.post(CREATE, headers=headers, json={"subject": f"t{n}", "description": "d"}).is_success


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SUPPORTCHAT_RATE_LIMITS", "user_tickets=lots"), ("SUPPORTCHAT_RATE_LIMIT_STORAGE", "carrier-pigeon://")],
)
def test_a_bad_limit_configuration_is_a_user_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    message = cli.fails("serve", "--port", "8125")
    assert variable in message


def test_several_workers_without_a_shared_storage_are_told(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    assert "SUPPORTCHAT_RATE_LIMIT_STORAGE" in cli("serve", "--workers", "2").stdout
