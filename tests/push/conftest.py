"""Push tests: the FCM emulator on 127.0.0.1, a desk on a real SQLite file, a job runner with push's kinds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from supportchat import SupportDesk
from supportchat.jobs import JobRunner
from supportchat.push import FcmClient, PushService, PushSettings
from supportchat.stores import Store
from supportchat.stores.sql import SQLStore

from ..push_emulator import FcmEmulator

#: Fast retries for tests: attempt n+1 after 0.1 s doubling to 0.8 s.
FAST = {"poll_interval": 0.05, "first_retry": 0.1, "max_retry": 0.8, "lease": 30.0}


@pytest.fixture
def emulator() -> Iterator[FcmEmulator]:
    with FcmEmulator() as running:
        running.hang_seconds = 5.0
        yield running


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = SQLStore.from_url(f"sqlite:///{tmp_path / 'desk.db'}")
    yield store
    store.close()


def fcm_client(emulator: FcmEmulator, timeout: float = 1.0) -> FcmClient:
    return FcmClient.from_service_account(emulator.account, endpoint=emulator.url, timeout=timeout)


@dataclass
class PushRig:
    desk: SupportDesk
    service: PushService
    runner: JobRunner

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out waiting for the pushes"
            time.sleep(0.02)


@pytest.fixture
def rig_factory(emulator: FcmEmulator) -> Iterator[Callable[..., PushRig]]:
    made: list[PushRig] = []

    def make(
        store: Store, settings: PushSettings | None = None, *, timeout: float = 1.0, start: bool = True
    ) -> PushRig:
        desk = SupportDesk(store)
        service = PushService(store, fcm_client(emulator, timeout), settings or PushSettings(quiet_window=0.2))
        runner = JobRunner(store, service.kinds(), **FAST)  # type: ignore[arg-type]
        if start:
            runner.start(desk)
        rig = PushRig(desk, service, runner)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.runner.stop()
        if rig.service.client is not None:
            rig.service.client.close()
