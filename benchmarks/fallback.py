"""Benchmark of the FallbackStore during an outage (run by hand).

    PYTHONPATH=src python -m benchmarks.fallback [--tickets 1000] [--timeouts 0.25,0.5,1.0]

(as a module: ``benchmarks/http.py`` shadows the standard library's ``http``
for a script run by path.)

1. Creating a ticket with the primary down and the breaker open, against
   the fallback store alone. Both desks write to a SQLite file
   (``SQLiteStore``); the FallbackStore also journals each write (a second
   SQLite file). The primary is a ``SupabaseStore`` pointed at a closed port
   on 127.0.0.1; the first request opens the breaker, and is left out.
   Target: p99 with the FallbackStore <= 2 x p99 of the fallback alone.

2. Time to detect an outage: the primary is a ``SupabaseStore`` whose HTTP
   client has timeout ``t``, talking to a server on 127.0.0.1 that accepts
   connections and never answers. Measured: how long the first request
   takes before the fallback answers it, against the bound
   ``attempts x t + waits`` of the retry policy; then how long the second
   request takes (the breaker is open: no wait at all).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from supportchat import Actor, SupportDesk
from supportchat.stores import FallbackStore, SQLiteStore
from supportchat.stores._breaker import CircuitBreaker
from supportchat.stores.fallback import default_retry
from supportchat.stores.supabase import SupabaseStore

USER = Actor.user(1)
#: Supabase's client checks that a key looks like a JWT; nothing checks it further here.
FAKE_KEY = "bench.bench.bench"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_creations(desk: SupportDesk, count: int) -> list[float]:
    samples = []
    for n in range(count):
        started = time.perf_counter()
        desk.create_ticket(USER, subject=f"Benchmark {n}", description="The printer is on fire")
        samples.append(time.perf_counter() - started)
    return samples


def describe(name: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"{name:<34} p50 {statistics.median(ms):7.3f} ms   p99 {percentile(ms, 0.99):7.3f} ms"
        f"   max {max(ms):7.3f} ms   (n={len(ms)})"
    )


def latency_during_outage(folder: Path, count: int) -> None:
    alone = SupportDesk(SQLiteStore(folder / "alone.db"))
    primary = SupabaseStore.from_url(f"http://127.0.0.1:{closed_port()}", FAKE_KEY, timeout=1.0)
    store = FallbackStore(
        primary, SQLiteStore(folder / "fallback.db"), journal=folder / "journal.sqlite", retry=default_retry()
    )
    hybrid = SupportDesk(store)
    hybrid.create_ticket(USER, subject="opens the breaker", description="first request")
    assert store.state().breaker == "open", store.state()
    # Interleave in rounds, so that both see the same disk and machine load.
    alone_samples: list[float] = []
    hybrid_samples: list[float] = []
    for _ in range(10):
        alone_samples += time_creations(alone, count // 10)
        hybrid_samples += time_creations(hybrid, count // 10)
    print(describe("fallback store alone (SQLiteStore)", alone_samples))
    print(describe("FallbackStore, breaker open", hybrid_samples))
    ratio = percentile(hybrid_samples, 0.99) / percentile(alone_samples, 0.99)
    print(f"p99 ratio: {ratio:.2f} (target <= 2.00)  pending writes: {store.state().pending_writes}")
    alone.store.close()
    store.close()


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers (a hung Supabase)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)  # the kernel completes handshakes; nobody ever reads
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()


def detection(folder: Path, timeouts: list[float]) -> None:
    print(f"\n{'timeout':>8} {'attempts':>8} {'bound':>8} {'1st request':>12} {'2nd request':>12}")
    for index, timeout in enumerate(timeouts):
        for attempts in (1, 3):
            server = SilentServer()
            waits = 0.05 * (2 ** (attempts - 1) - 1) + 0.05 * (attempts - 1)  # exponential + jitter, at most
            policy = default_retry(attempts=attempts, within=attempts * timeout)
            primary = SupabaseStore.from_url(server.url, FAKE_KEY, timeout=timeout)
            run = folder / f"detect-{index}-{attempts}"
            run.mkdir()
            store = FallbackStore(
                primary,
                SQLiteStore(run / "fallback.db"),
                journal=run / "journal.sqlite",
                retry=policy,
                breaker=CircuitBreaker(cool_down=60),
            )
            desk = SupportDesk(store)
            first = _timed(lambda desk=desk: desk.create_ticket(USER, subject="s", description="d"))
            second = _timed(lambda desk=desk: desk.create_ticket(USER, subject="s", description="d"))
            bound = attempts * timeout + waits
            print(f"{timeout:8.2f} {attempts:8d} {bound:8.2f} {first:11.3f}s {second * 1000:10.2f}ms")
            store.close()
            server.close()


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--timeouts", default="0.25,0.5,1.0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        latency_during_outage(Path(folder), args.tickets)
        detection(Path(folder), [float(t) for t in args.timeouts.split(",")])


if __name__ == "__main__":
    main()
