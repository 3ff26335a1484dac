"""``supportchat push status``, ``push test USER`` and ``push prune`` against the FCM emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportchat.extensions import extension
from supportchat.push import NewDevice, OwnerKind, Platform, PushStore
from supportchat.stores.sql import SQLStore

from ..push_emulator import FcmEmulator
from .conftest import Cli


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FcmEmulator]:
    with FcmEmulator() as running:
        key = tmp_path / "service-account.json"
        key.write_text(json.dumps(running.account))
        monkeypatch.setenv("SUPPORTCHAT_FCM_CREDENTIALS", str(key))
        monkeypatch.setenv("SUPPORTCHAT_FCM_ENDPOINT", running.url)
        yield running


def test_push_test_sends_to_every_device_of_the_user_and_says_how_each_went(
    cli: Cli, desk_store: SQLStore, emulator: FcmEmulator
) -> None:
    devices = extension(desk_store, PushStore)  # type: ignore[type-abstract]
    devices.register(NewDevice("phone:1", OwnerKind.USER, 42, Platform.ANDROID, "en"))
    devices.register(NewDevice("old-tablet:1", OwnerKind.USER, 42, Platform.IOS, None))
    emulator.unregistered.add("old-tablet:1")
    failed = cli.fails("push", "test", "42")
    assert "1 of 2 test pushes failed" in failed
    [sent] = emulator.accepted
    assert sent.token == "phone:1" and sent.message["notification"]["title"] == "Notifications are on"
    assert devices.device("old-tablet:1") is None  # UNREGISTERED removed it
    assert "delivered" in cli("push", "test", "42").stdout
    assert "has no registered device" in cli.fails("push", "test", "43")


def test_push_test_names_refused_credentials(cli: Cli, desk: object, emulator: FcmEmulator) -> None:
    status = cli.json("push", "status")
    assert status["configured"] is True and status["auth_error"] is None
    emulator.refuse_grants = True
    devices = extension(desk.store, PushStore)  # type: ignore[attr-defined,type-abstract]
    devices.register(NewDevice("phone:1", OwnerKind.USER, 42, Platform.ANDROID, "es"))
    result = cli("push", "test", "42", ok=False)
    assert result.exit_code == 1
    assert "AUTH: the token endpoint refused the service account" in result.stdout
    assert "Invalid JWT Signature" in result.stdout


def test_push_status_without_credentials_says_how_to_configure(cli: Cli) -> None:
    assert "SUPPORTCHAT_FCM_CREDENTIALS" in cli("push", "status").stdout
    assert "not configured" in cli.fails("push", "test", "1")


def test_push_prune_removes_devices_unused_for_270_days(cli: Cli, desk_store: SQLStore) -> None:
    devices = extension(desk_store, PushStore)  # type: ignore[type-abstract]
    devices.register(NewDevice("stale:1", OwnerKind.USER, 1, Platform.ANDROID), now=time.time() - 271 * 86_400)
    devices.register(NewDevice("fresh:1", OwnerKind.USER, 1, Platform.ANDROID))
    assert "Removed 1 devices" in cli("push", "prune").stdout
    assert [d.token for d in devices.devices_of(OwnerKind.USER)] == ["fresh:1"]
