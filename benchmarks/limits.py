"""Bounds benchmark: a long thread's page against the whole thread; a write with rate limits against one without.

Run by hand (it is not a test)::

    python -m benchmarks.limits [--messages 25000] [--writes 3000] [--redis redis://127.0.0.1:6379]

1. A SQLite file holding one ticket with ``--messages`` messages of 1,200
   characters. ``page``: the desk opening it (``SupportDesk.get_ticket``: the
   newest 50, and marking read); ``whole``: reading every message of it
   (``Store.list_messages(ticket_id)``), which is what opening a ticket cost
   before it was paged. Median time of 5 opens and the ``tracemalloc`` peak.
2. ``dispatch()`` of ``POST /tickets/<id>/user-message`` in-process over an
   ``InMemoryStore`` desk, with a rate limiter whose limits no run reaches
   (each write counted against the per-user and the per-address limit), in
   memory and in Redis (skipped if unreachable), against the same write with
   no limiter. Mean time per write over ``--writes`` writes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from tests.helpers import fill_long_ticket

from supportchat import Actor, SupportDesk
from supportchat.http.dispatch import dispatch
from supportchat.http.ratelimit import RateLimiter, RateLimits
from supportchat.http.routes import ROUTES
from supportchat.stores import InMemoryStore, SQLStore

ADMIN = Actor.admin(1)
USER = Actor.user(7)


def _measure(call: Callable[[], object], runs: int = 5) -> tuple[float, int]:
    """Median seconds and the largest ``tracemalloc`` peak of ``runs`` calls."""
    times, peaks = [], []
    for _ in range(runs):
        tracemalloc.start()
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return statistics.median(times), max(peaks)


def long_thread(messages: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="supportchat-bench-"))
    path = folder / "long.db"
    store = SQLStore.from_url(f"sqlite:///{path}")
    desk = SupportDesk(store)
    ticket = fill_long_ticket(desk, path, messages)
    page_time, page_peak = _measure(lambda: desk.get_ticket(ADMIN, ticket.id))
    whole_time, whole_peak = _measure(lambda: store.list_messages(ticket.id))
    store.close()
    print(f"\n{messages:,} messages in one ticket (SQLite file)\n")
    print("| read | median time | tracemalloc peak |\n|---|---|---|")
    print(f"| page (desk.get_ticket, newest 50) | {page_time * 1e3:.1f} ms | {page_peak / 1e6:.2f} MB |")
    print(f"| whole thread (the old open) | {whole_time * 1e3:.1f} ms | {whole_peak / 1e6:.1f} MB |")
    print(f"| page / whole | {page_time / whole_time:.4f} | {page_peak / whole_peak:.4f} |")


def _writes(limiter: RateLimiter | None, writes: int) -> float:
    desk = SupportDesk(InMemoryStore())
    ticket = desk.create_ticket(USER, subject="Escritura", description="x")
    route = next(r for r in ROUTES if r.name == "post_user_message")
    body = json.dumps({"message": "hola"}).encode()
    path = {"ticket_id": str(ticket.id)}
    started = time.perf_counter()
    for _ in range(writes):
        reply = dispatch(route, desk, lambda: USER, path, {}, lambda: body, rate_limiter=limiter, client="127.0.0.1")
        assert reply.status == 200, reply
    return (time.perf_counter() - started) / writes


def write_overhead(writes: int, redis_url: str) -> None:
    never = "1000000000/hour"
    counted = RateLimits(**{name: never for name in RateLimits.__dataclass_fields__})
    base = _writes(None, writes)
    rows = [("no limiter (baseline)", base)]
    rows.append(("limiter, memory", _writes(RateLimiter(counted), writes)))
    try:
        shared = RateLimiter(counted, storage_uri=redis_url, namespace=f"bench-{uuid.uuid4().hex}")
        rows.append((f"limiter, Redis ({redis_url})", _writes(shared, writes)))
    except Exception as exc:  # Redis unreachable: the row is skipped
        print(f"(Redis skipped: {exc})")
    print(f"\n{writes:,} user messages through dispatch(), InMemoryStore\n")
    print("| write | per write | / baseline |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1e6:.0f} µs | {seconds / base:.2f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=25_000)
    parser.add_argument("--writes", type=int, default=3_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    args = parser.parse_args(argv)
    long_thread(args.messages)
    write_overhead(args.writes, args.redis)


if __name__ == "__main__":
    main()
