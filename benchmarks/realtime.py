"""Latency of live events: a message posted over HTTP → the frame read by an SSE client.

Run by hand from the repository root (needs the PostgreSQL test server for
the cross-process part)::

    PYTHONPATH=src:. python -m benchmarks.realtime --messages 500
    PYTHONPATH=src:. python -m benchmarks.realtime --fanout 1000,5000,10000

(the second: thousands of streams on one process, see ``benchmarks/realtime_fanout.py``).

Every figure is the time from just before the writer sends its POST to the
moment the stream client has parsed the event frame carrying that message,
all on loopback. Scenarios:

- one process: one server process (``tests/realtime/server_app.py``: FastAPI
  under uvicorn, or Flask under Werkzeug's threaded server) on a SQLite file
  (the embedded default) or PostgreSQL; the writer and the stream client are
  this benchmark's process, both talking to that server;
- across processes: two uvicorn processes on one PostgreSQL schema, the
  writer posting to the first, the stream client reading from the second
  (LISTEN/NOTIFY carries the event).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/admin/api/support"
SECRET = "benchmark-secret-0123456789abcdefghij"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class StreamClient:
    """Reads an SSE stream in a thread and notes when each message's frame arrived."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()
        if not self.ready.wait(30):
            raise RuntimeError("the stream did not open")

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            self._read(url, headers)
        except httpx.HTTPError:
            if not self._stop.is_set():
                raise  # the server going away after the run is expected; before, it is not

    def _read(self, url: str, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=None) as client, client.stream("GET", url, headers=headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line.startswith(":"):
                    self.ready.set()
                elif line.startswith("data: "):
                    at = time.perf_counter()
                    message = json.loads(line[6:]).get("message")
                    if message:
                        self.arrived[message["message"]] = at
                if self._stop.is_set():
                    return

    def stop(self) -> None:
        self._stop.set()


def measure(write_base: str, read_base: str, messages: int, warmup: int) -> list[float]:
    from supportchat.http import UserTokens

    admin = {"Authorization": "Bearer admin"}
    user = {"Authorization": f"Bearer {UserTokens(SECRET).mint(10)}"}
    stream = StreamClient(read_base + PREFIX + "/events", admin)
    with httpx.Client(base_url=write_base + PREFIX, timeout=30) as writer:
        ticket = writer.post("/create-ticket", headers=user, json={"subject": "Benchmark", "description": "x"})
        ticket.raise_for_status()
        ticket_id = ticket.json()["data"]["id"]
        sent: dict[str, float] = {}
        answered: dict[str, float] = {}
        for n in range(warmup + messages):
            text = f"m{n}-{uuid.uuid4().hex[:6]}"
            sent[text] = time.perf_counter()
            writer.post(f"/tickets/{ticket_id}/messages", headers=admin, json={"message": text}).raise_for_status()
            answered[text] = time.perf_counter()
            # One message in flight at a time, as a chat is typed; wait (bounded) for its frame.
            deadline = time.monotonic() + 5
            while text not in stream.arrived and time.monotonic() < deadline:
                time.sleep(0.0005)
            if text not in stream.arrived:
                raise RuntimeError(f"message {n} never reached the stream")
    stream.stop()
    texts = list(sent)[warmup:]
    if os.environ.get("BENCH_DETAIL"):
        report("  of which the POST's answer", [answered[t] - sent[t] for t in texts])
    return [stream.arrived[t] - sent[t] for t in texts]


def report(name: str, latencies: list[float]) -> None:
    ms = [v * 1000 for v in latencies]
    print(
        f"| {name} | {len(ms)} | {statistics.median(ms):.2f} ms | {percentile(ms, 0.95):.2f} ms | "
        f"{percentile(ms, 0.99):.2f} ms | {max(ms):.2f} ms |",
        flush=True,
    )


# -- one process ------------------------------------------------------------------


# -- across processes ---------------------------------------------------------------


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    from supportchat.migrations import upgrade
    from supportchat.stores.sql import create_engine

    schema = f"supportchat_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = create_engine(url, connect_args={"options": f"-c search_path={schema}"})
    upgrade(engine)
    engine.dispose()
    try:
        yield schema
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    from tests.realtime.server_app import server_processes

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SUPPORTCHAT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--fanout",
        metavar="SIZES",
        help="instead: the fan-out run (benchmarks/realtime_fanout.py) at these stream counts, e.g. 1000,5000,10000",
    )
    args = parser.parse_args(argv)
    if args.fanout:
        from .realtime_fanout import run

        run([int(size) for size in args.fanout.split(",")])
        return
    print("| scenario | messages | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="supportchat-bench-"))
    # One admin posts hundreds of messages a minute here: latency is measured, not the rate limits.
    unlimited = {"SUPPORTCHAT_RATE_LIMITS": "none"}

    for adapter in ("fastapi", "flask"):
        sqlite = {"SUPPORTCHAT_TEST_DB_URL": f"sqlite:///{folder / adapter}.db"}
        with server_processes(sqlite, SECRET, count=1, adapter=adapter, environment=unlimited) as (base,):
            report(f"one process, {adapter}, SQLite", measure(base, base, args.messages, args.warmup))
    if args.skip_postgres:
        return
    with postgres_schema(args.pg_url) as schema:
        database = {"SUPPORTCHAT_TEST_PG_URL": args.pg_url, "SUPPORTCHAT_TEST_PG_SCHEMA": schema}
        with server_processes(database, SECRET, count=2, environment=unlimited) as (first, second):
            report("one process, fastapi, PostgreSQL", measure(first, first, args.messages, args.warmup))
            report("two processes, fastapi, PostgreSQL NOTIFY", measure(first, second, args.messages, args.warmup))


if __name__ == "__main__":
    main()
