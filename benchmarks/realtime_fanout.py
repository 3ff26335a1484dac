"""Fan-out of live events: thousands of SSE streams on one server process.

Run by hand from the repository root::

    PYTHONPATH=src:. python -m benchmarks.realtime --fanout 1000,5000,10000

One ``uvicorn`` process (``tests/realtime/server_app.py``: FastAPI, SQLite
file, heartbeat 15 s, no stream caps, no rate limits, the direct write of
``supportchat serve``: ``supportchat.adapters.uvicorn.DirectWriteH11Protocol``) serves; this process
is the load generator: every stream is a raw asyncio socket (one
``asyncio.Protocol`` each, counting ``data:`` lines as they arrive, no HTTP
client library per stream), all on one event loop. The writes come from
this process too (one blocking HTTP client in a worker thread); the create
request's latency under load is measured by a separate writer process, so
the load generator's loop does not delay it. Client and server share the
machine's cores with each other (and with whatever else runs).

Figures:

- *one event*: a ticket created; for each stream, the time from just
  before the POST is sent to the moment its ``data:`` line arrived;
  p50/p99 over every stream of several rounds;
- *burst of 100*: 100 messages posted by 10 concurrent writers; for each
  stream, the time from the first POST sent to the moment it has all 100
  frames (compare with how long the 100 POSTs took: the fan-out keeps up
  when the two are close);
- *create while open*: the create request's own latency, 20 creates half
  a second apart, while the streams are open (and receive those events);
- *RSS per 1,000*: the server's resident memory grown by opening the idle
  admin streams, per 1,000 streams;
- *server CPU per event*: the server process's CPU time (user and system,
  ``/proc/<pid>/stat``) over the *one event* rounds, per event (the create
  request included), and per stream: CPU time is what the event costs, the
  same on a busy machine as on a quiet one, where latencies are not.

User streams are spread over 1,000 users (``n / 1000`` per user): an event
reaches only its owner's streams, so *one event* is a ticket of one user
(several rounds, different users) and the burst is one ticket for each of
100 users. That no other stream received anything is checked.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PREFIX = "/admin/api/support"
SECRET = "benchmark-secret-0123456789abcdefghij"
ADMIN = {"Authorization": "Bearer admin"}
#: Creates timed by the writer process while the streams are open.
CREATES = 20
#: Streams opened at once (the server's accept backlog is 2048).
OPENING = 200
DATA = b"\ndata: "


def raise_fd_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user and system): what an event costs the server, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class StreamProtocol(asyncio.Protocol):
    """One SSE connection: counts event frames, notes when a target count is reached."""

    def __init__(self, request: bytes, opened: asyncio.Future[None], user_id: int | None) -> None:
        self.request = request
        self.opened = opened
        self.user_id = user_id
        self.count = 0
        self.target: int | None = None
        self.reached_at: float | None = None
        self.on_reached: Counter | None = None
        self.closed = False
        self.ended_by_server = False
        self._tail = b""
        self._head = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.opened.done():
            self._head += data
            if b"supportchat stream" in self._head:
                status = self._head.split(b"\r\n", 1)[0]
                if b" 200 " not in status:
                    self.opened.set_exception(RuntimeError(status.decode()))
                    return
                self.opened.set_result(None)
                data = self._head
                self._head = b""
            else:
                return
        chunk = self._tail + data
        self.count += chunk.count(DATA)
        self._tail = chunk[-(len(DATA) - 1) :]
        if self.target is not None and self.reached_at is None and self.count >= self.target:
            self.reached_at = time.perf_counter()
            if self.on_reached is not None:
                self.on_reached.tick()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(RuntimeError(f"closed before opening: {exc}"))

    def expect(self, more: int, counter: Counter) -> None:
        self.target = self.count + more
        self.reached_at = None
        self.on_reached = counter
        if self.count >= self.target:
            self.reached_at = time.perf_counter()
            counter.tick()


@dataclass
class Counter:
    """Counts streams that reached their target; ``done`` resolves when all have."""

    left: int
    done: asyncio.Future[None]

    def tick(self) -> None:
        self.left -= 1
        if self.left <= 0 and not self.done.done():
            self.done.set_result(None)


@dataclass
class Fleet:
    """The open streams, and how to write to the server."""

    host: str
    port: int
    streams: list[StreamProtocol] = field(default_factory=list)
    tokens: dict[int, str] = field(default_factory=dict)

    def request(self, path: str, headers: dict[str, str]) -> bytes:
        lines = [f"GET {PREFIX}{path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def user_headers(self, user_id: int) -> dict[str, str]:
        from supportchat.http import UserTokens

        if user_id not in self.tokens:
            self.tokens[user_id] = UserTokens(SECRET).mint(user_id)
        return {"Authorization": f"Bearer {self.tokens[user_id]}"}

    async def open(self, count: int, user_of: list[int | None]) -> None:
        loop = asyncio.get_running_loop()
        for start in range(0, count, OPENING):
            pending = []
            for index in range(start, min(start + OPENING, count)):
                user_id = user_of[index]
                if user_id is None:
                    request = self.request("/events", ADMIN)
                else:
                    request = self.request(f"/user/{user_id}/events", self.user_headers(user_id))
                opened: asyncio.Future[None] = loop.create_future()
                protocol = StreamProtocol(request, opened, user_id)
                await loop.create_connection(lambda p=protocol: p, self.host, self.port)  # type: ignore[misc]
                self.streams.append(protocol)
                pending.append(opened)
            await asyncio.wait_for(asyncio.gather(*pending), 120)

    def close_all(self) -> None:
        for stream in self.streams:
            if stream.transport is not None:
                stream.transport.close()
        self.streams.clear()


async def deliver(fleet: Fleet, watched: list[StreamProtocol], frames: int, write: object) -> tuple[list[float], float]:
    """Run ``write`` in a thread (it returns when it sent and when it was answered).

    The latencies of ``frames`` more frames at each watched stream, from the send.
    """
    loop = asyncio.get_running_loop()
    counter = Counter(len(watched), loop.create_future())
    for stream in watched:
        stream.expect(frames, counter)
    sent, answered = await loop.run_in_executor(None, write)  # type: ignore[arg-type]
    await asyncio.wait_for(counter.done, 120)
    return [(s.reached_at or 0) - sent for s in watched], answered - sent


def poster(base: str) -> httpx.Client:
    return httpx.Client(base_url=base + PREFIX, timeout=60)


def create_ticket(client: httpx.Client, headers: dict[str, str]) -> tuple[float, float]:
    sent = time.perf_counter()
    reply = client.post("/create-ticket", headers=headers, json={"subject": "Fan-out", "description": "x"})
    answered = time.perf_counter()
    reply.raise_for_status()
    return sent, answered


def burst(base: str, jobs: list[tuple[str, dict[str, str], dict[str, object]]]) -> tuple[float, float]:
    """Post every job with 10 concurrent writers; (first sent, last answered)."""
    local = threading.local()

    def post(job: tuple[str, dict[str, str], dict[str, object]]) -> None:
        if not hasattr(local, "client"):
            local.client = poster(base)
        local.client.post(job[0], headers=job[1], json=job[2]).raise_for_status()

    sent = time.perf_counter()
    with ThreadPoolExecutor(10) as writers:
        list(writers.map(post, jobs))
    return sent, time.perf_counter()


def create_latencies(base: str, count: int, interval: float) -> list[float]:
    """The writer process: ``count`` creates ``interval`` apart; their latencies in ms."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.realtime_fanout", "writer", base, str(count), str(interval)],
        capture_output=True,
        text=True,
        check=True,
        timeout=count * interval + 900,
    )
    latencies: list[float] = json.loads(out.stdout)
    return latencies


def writer_main(base: str, count: int, interval: float) -> None:
    latencies = []
    with poster(base) as client:
        client.post("/create-ticket", headers=CREATOR, json={"subject": "warm", "description": "x"})
        for _ in range(count):
            started = time.perf_counter()
            create_ticket(client, CREATOR)
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(interval)
    print(json.dumps(latencies))


def _admin_user() -> dict[str, str]:
    from supportchat.http import UserTokens

    return {"Authorization": f"Bearer {UserTokens(SECRET).mint(999_999)}"}


CREATOR: dict[str, str] = {}


def row(name: str, n: int, values_s: list[float], extra: str = "") -> str:
    ms = [v * 1000 for v in values_s]
    return f"| {name} | {n:,} | {statistics.median(ms):.0f} ms | {percentile(ms, 0.99):.0f} ms | {extra} |"


async def admin_run(fleet: Fleet, base: str, sizes: list[int], pid: int, rounds: int, out: list[str]) -> None:
    with poster(base) as client:
        opened = 0
        rss_before = rss_mb(pid)
        for size in sizes:
            await fleet.open(size - opened, [None] * (size - opened))
            opened = size
            await asyncio.sleep(2)  # let the server settle (its opening reads, the threads)
            rss = rss_mb(pid)
            one: list[float] = []
            cpu = 0.0
            for _ in range(rounds):
                cpu_before = cpu_seconds(pid)
                latencies, _ = await deliver(fleet, fleet.streams, 1, lambda: create_ticket(client, CREATOR))
                cpu += cpu_seconds(pid) - cpu_before
                one.extend(latencies)
                await asyncio.sleep(0.5)
            ticket = client.post("/create-ticket", headers=CREATOR, json={"subject": "b", "description": "x"})
            ticket_id = ticket.json()["data"]["id"]
            await asyncio.sleep(1)
            jobs = [(f"/tickets/{ticket_id}/messages", ADMIN, {"message": f"burst {n}"}) for n in range(100)]
            burst_lag, took = await deliver(fleet, fleet.streams, 100, lambda jobs=jobs: burst(base, jobs))
            await asyncio.sleep(1)
            creates = await asyncio.get_running_loop().run_in_executor(None, create_latencies, base, CREATES, 0.5)
            per_thousand = (rss - rss_before) / size * 1000
            per_event = cpu / rounds
            out.append(
                row(
                    "admin, one event",
                    size,
                    one,
                    f"RSS {rss:.0f} MB, {per_thousand:.1f} MB per 1,000; server CPU {per_event * 1000:.0f} ms "
                    f"per event, {per_event / size * 1e6:.1f} µs per stream",
                )
            )
            out.append(row("admin, burst of 100", size, burst_lag, f"the 100 POSTs took {took * 1000:.0f} ms"))
            out.append(
                f"| admin, create while open | {size:,} | {statistics.median(creates):.0f} ms | "
                f"{percentile(creates, 0.99):.0f} ms | {CREATES} creates, 0.5 s apart (each an event to every stream) |"
            )
            print("\n".join(out[-3:]), flush=True)
    fleet.close_all()


async def user_run(fleet: Fleet, base: str, sizes: list[int], rounds: int, out: list[str]) -> None:
    users = 1000
    with poster(base) as client:
        opened = 0
        for size in sizes:
            await fleet.open(size - opened, [1 + (i % users) for i in range(opened, size)])
            opened = size
            await asyncio.sleep(2)
            before = {id(s): s.count for s in fleet.streams}
            one: list[float] = []
            for r in range(rounds):
                user_id = 1 + r
                mine = [s for s in fleet.streams if s.user_id == user_id]
                write = lambda u=user_id: create_ticket(client, fleet.user_headers(u))  # noqa: E731
                latencies, _ = await deliver(fleet, mine, 1, write)
                one.extend(latencies)
            posters = list(range(101, 201))
            jobs = [("/create-ticket", fleet.user_headers(u), {"subject": "b", "description": "x"}) for u in posters]
            watched = [s for s in fleet.streams if s.user_id in set(posters)]
            burst_lag, took = await deliver(fleet, watched, 1, lambda jobs=jobs: burst(base, jobs))
            await asyncio.sleep(1)
            touched = set(range(1, 1 + rounds)) | set(posters)
            strays = sum(s.count - before[id(s)] for s in fleet.streams if s.user_id not in touched)
            assert strays == 0, f"{strays} frames reached other users' streams"
            out.append(row("users, one event (to its owner's streams)", size, one, f"{size // users} per user"))
            note = f"the 100 POSTs took {took * 1000:.0f} ms; no frame reached another user"
            out.append(row("users, burst of 100 (100 users)", size, burst_lag, note))
            print("\n".join(out[-2:]), flush=True)
    fleet.close_all()


def run(sizes: list[int], rounds: int = 5) -> None:
    from tests.realtime.server_app import server_processes

    hard = raise_fd_limit()
    if max(sizes) + 100 > hard:
        raise SystemExit(f"the fd limit ({hard}) is too low for {max(sizes)} streams")
    CREATOR.update(_admin_user())
    folder = Path(tempfile.mkdtemp(prefix="supportchat-fanout-"))
    environment = {
        "SUPPORTCHAT_RATE_LIMITS": "none",
        "SUPPORTCHAT_STREAMS_PER_ACCOUNT": "none",
        "SUPPORTCHAT_STREAMS_PER_ADDRESS": "none",
    }
    database = {"SUPPORTCHAT_TEST_DB_URL": f"sqlite:///{folder / 'fanout.db'}"}
    print(
        f"load generator: this process (pid {os.getpid()}), one event loop; server: one uvicorn process; "
        f"{os.cpu_count()} cores shared by both (and the machine's other load: "
        f"loadavg {' '.join(f'{x:.1f}' for x in os.getloadavg())})",
        flush=True,
    )
    print("| run | streams | p50 | p99 | notes |\n|---|---|---|---|---|", flush=True)
    out: list[str] = []
    for kind in ("baseline", "admin", "users"):
        pids: list[int] = []
        with server_processes(database, SECRET, count=1, heartbeat=15.0, environment=environment, pids=pids) as (base,):
            host, port = base.removeprefix("http://").split(":")
            fleet = Fleet(host, int(port))
            if kind == "baseline":
                asyncio.run(admin_run(fleet, base, [100], pids[0], rounds, out))
            elif kind == "admin":
                asyncio.run(admin_run(fleet, base, sizes, pids[0], rounds, out))
            else:
                asyncio.run(user_run(fleet, base, sizes, rounds, out))
    print("\n" + "\n".join(out))
    print(f"(loadavg at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["writer"]:
        CREATOR.update(_admin_user())
        writer_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        run([int(n) for n in sys.argv[1].split(",")] if len(sys.argv) > 1 else [1000, 5000, 10000])
