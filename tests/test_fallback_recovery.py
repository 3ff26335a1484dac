"""Random desk sessions over a FallbackStore whose primary goes down and comes back.

The desk's own state machine (``test_desk_stateful``) checks every step
against its model through the FallbackStore; this machine adds outages at
random moments and, at the end, recovers the primary and checks that it
holds exactly what clients were told and the same as the fallback.
"""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test
from tenacity import Retrying, stop_after_attempt, wait_none

from supportchat.stores import FallbackStore, InMemoryStore
from supportchat.stores._breaker import CircuitBreaker

from .faults import FaultyStore, Witness, snapshot
from .test_desk_stateful import DeskMachine


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_after_random_outages_the_primary_holds_exactly_what_clients_were_told() -> None:
    with TemporaryDirectory() as folder:
        counter = iter(range(10_000))

        class Machine(DeskMachine):
            def __init__(self) -> None:
                self.ticks = Ticks()
                self.primary = FaultyStore(InMemoryStore())
                self.fallback = InMemoryStore()
                self.store = FallbackStore(
                    self.primary,  # type: ignore[arg-type]
                    self.fallback,
                    journal=Path(folder) / f"journal-{next(counter)}.sqlite",
                    retry=Retrying(stop=stop_after_attempt(2), wait=wait_none(), sleep=lambda _s: None),
                    breaker=CircuitBreaker(cool_down=30, clock=self.ticks),
                )
                super().__init__()
                self.witness = Witness()
                self.desk.subscribe(self.witness)

            def make_store(self) -> FallbackStore:  # type: ignore[override]
                return self.store

            @rule()
            def primary_goes_down(self) -> None:
                self.primary.down = True

            @rule(interrupt_after=st.none() | st.integers(min_value=0, max_value=6))
            def primary_comes_back(self, interrupt_after: int | None) -> None:
                self.primary.recover()
                if interrupt_after is not None:
                    self.primary.fail_after(interrupt_after)  # fails again, maybe mid-replay
                self.ticks.now += 30

            def teardown(self) -> None:
                self.primary.recover()
                self.ticks.now += 30
                report = self.store.replay()
                assert report.complete and report.conflicts == 0, report
                assert self.store.state().serving == "primary"
                self.witness.check(self.primary.inner)
                assert snapshot(self.primary.inner) == snapshot(self.fallback)
                self.store.journal.close()

        run_state_machine_as_test(Machine, settings=settings(stateful_step_count=30))
