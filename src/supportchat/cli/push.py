"""``supportchat push status|test|prune``, and push's configuration from the environment.

* ``SUPPORTCHAT_FCM_CREDENTIALS``: the path of the Firebase project's
  service-account key file (JSON). Unset: devices can be registered, nothing
  is sent.
* ``SUPPORTCHAT_FCM_ENDPOINT``: FCM's base URL (default
  ``https://fcm.googleapis.com``; tests point it at the emulator).
* ``SUPPORTCHAT_PUSH_PRIVACY=1``: data-only pushes, no message text.
* ``SUPPORTCHAT_PUSH_QUIET_SECONDS``: the coalescing window (default 3).
* ``SUPPORTCHAT_PUSH_LANGUAGE``: ``es`` (default) or ``en``, for recipients of no known locale.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from ..jobs import JobKind
from ..push import DEFAULT_ENDPOINT, FcmClient, OwnerKind, PushService, PushSettings
from ..push.feature import push_status, token_hint
from ..push.texts import LANGUAGES
from ..store import Store
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, handled, out

__all__ = ["CREDENTIALS_VARIABLE", "configured_push_client", "push_app", "push_configured", "push_kinds"]

CREDENTIALS_VARIABLE = "SUPPORTCHAT_FCM_CREDENTIALS"
ENDPOINT_VARIABLE = "SUPPORTCHAT_FCM_ENDPOINT"
PRIVACY_VARIABLE = "SUPPORTCHAT_PUSH_PRIVACY"
QUIET_VARIABLE = "SUPPORTCHAT_PUSH_QUIET_SECONDS"
LANGUAGE_VARIABLE = "SUPPORTCHAT_PUSH_LANGUAGE"

push_app = typer.Typer(help="Push notifications to the app (FCM).", no_args_is_help=True)


def push_configured(environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get(CREDENTIALS_VARIABLE))


def configured_push_client(environ: Mapping[str, str] = os.environ) -> FcmClient | None:
    """The FCM client the environment configures, or ``None`` if push is not set up."""
    path = environ.get(CREDENTIALS_VARIABLE)
    if not path:
        return None
    if not Path(path).is_file():
        raise UserError(f"{CREDENTIALS_VARIABLE}: no service-account file at {path}")
    try:
        return FcmClient.from_service_account(path, endpoint=environ.get(ENDPOINT_VARIABLE) or DEFAULT_ENDPOINT)
    except (ValueError, KeyError) as exc:
        raise UserError(f"{CREDENTIALS_VARIABLE}: {path} is not a usable service-account key: {exc}") from None


def push_settings(environ: Mapping[str, str] = os.environ) -> PushSettings:
    privacy = environ.get(PRIVACY_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")
    language = environ.get(LANGUAGE_VARIABLE, "es").strip().lower()
    if language not in LANGUAGES:
        raise UserError(f"{LANGUAGE_VARIABLE} must be one of {', '.join(LANGUAGES)}")
    try:
        quiet = float(environ.get(QUIET_VARIABLE, "3"))
    except ValueError:
        raise UserError(f"{QUIET_VARIABLE} must be a number of seconds") from None
    return PushSettings(privacy=privacy, quiet_window=max(0.0, quiet), default_language=language)


def push_kinds(store: Store) -> list[JobKind]:
    """The push job kinds, if the environment configures FCM (read when a runner is built)."""
    client = configured_push_client()
    if client is None:
        return []
    return PushService(store, client, push_settings()).kinds()


@push_app.command("status")
@handled
def status(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Whether FCM takes our credentials, and the deliveries by status."""
    from .config import open_session

    with open_session(database_url) as session:
        found = push_status(session.store, configured=push_configured())
    if json_output:
        emit_json(found.model_dump(mode="json"))
        return
    console = out()
    console.print(f"configured: {'yes' if found.configured else f'no (set {CREDENTIALS_VARIABLE})'}", markup=False)
    if found.auth_error is not None:
        console.print(f"AUTH FAILING since {found.auth_error_at}: {found.auth_error}", markup=False)
    console.print(f"last delivered: {found.last_delivered_at or 'never'}", markup=False)
    console.print("deliveries: " + ", ".join(f"{k} {v}" for k, v in found.deliveries.items()), markup=False)


@push_app.command("test")
@handled
def test(
    user: Annotated[int, typer.Argument(min=1, help="The user (or, with --agent, the agent) to push.")],
    agent: Annotated[bool, typer.Option("--agent", help="USER is an agent's id.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Send a test push to every device of USER now and say how each went."""
    from .config import open_session

    client = configured_push_client()
    if client is None:
        raise UserError(f"push is not configured: set {CREDENTIALS_VARIABLE} to the service-account file")
    with open_session(database_url) as session:
        service = PushService(session.store, client, push_settings())
        results = service.send_test(OwnerKind.AGENT if agent else OwnerKind.USER, user)
    client.close()
    if not results:
        raise UserError(f"{'agent' if agent else 'user'} {user} has no registered device")
    failed = 0
    for device, name, error in results:
        where = f"{device.platform.value} {token_hint(device.token)}"
        if error is None:
            out().print(f"{where}: delivered ({name})", markup=False)
        else:
            failed += 1
            out().print(f"{where}: {error.error_class.value}: {error.detail}", markup=False)
    if failed:
        raise UserError(f"{failed} of {len(results)} test pushes failed")


@push_app.command("prune")
@handled
def prune(
    days: Annotated[float, typer.Option(min=1.0, help="Remove devices unused this many days.")] = 270.0,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove devices not seen for DAYS days (the worker does it daily by itself)."""
    import time

    from ..extensions import extension
    from ..push import PushStore
    from .config import open_session

    with open_session(database_url) as session:
        removed = extension(session.store, PushStore).prune(time.time() - days * 86_400)  # type: ignore[type-abstract]
    out().print(f"Removed {removed} devices unused for {days:g} days.", markup=False)
