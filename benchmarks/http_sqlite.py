"""HTTP benchmark of the embedded default: ``supportchat serve`` on SQLite beside a bare app (run by hand).

    python -m benchmarks.http_sqlite [--duration 5] [--rounds 3] [--connections 16] [--processes 1,2]

Two servers are loaded with ``wrk -t2 -c16`` on ``POST /admin/api/support/create-ticket``,
one after the other, alternating, in the same run:

* ``lib``: ``supportchat serve`` exactly as a user starts it (uvicorn, the FastAPI
  adapter, JWT user auth, the desk's validation and sanitising, the SQLite store on
  a fresh file: one write transaction per ticket, with the event-log and statistics
  triggers), rate limits off (``SUPPORTCHAT_RATE_LIMITS=none``: one user sends
  every request);
* ``bare``: a FastAPI app with a pydantic body, the same PyJWT check and one
  ``sqlite3`` ``INSERT`` per request into a tickets table in WAL mode
  (``synchronous=NORMAL``, a connection per thread, the driver's own transactions).

Each is run as one server process, and then as two server processes (one
uvicorn worker each, on two ports) writing to one file, with one ``wrk`` per
process at once and the connections shared out (8 + 8): the figures are then
the total requests/s and the worse of the two p99s. (Not ``--workers 2``: with
several workers uvicorn 0.54 accepts connections on a socket of its own without
``TCP_NODELAY``, so every response waits for a delayed ACK, about 40 ms, and any
app, a trivial one included, serves about 340 req/s at 16 connections; ``serve``
sets ``TCP_NODELAY`` itself, the bare app's uvicorn does not.)

Each round runs lib, then bare, each on a fresh file, so a round's lib/bare
ratios compare two runs seconds apart (on a shared machine the load moves more
than that between rounds). It prints every round's requests/s, p99 latency and
ratios, and the median ratios against the targets: throughput >= 0.8x the bare
app's and p99 <= 3x the bare app's.
"""

# No "from __future__ import annotations": FastAPI must resolve the bare app's local models.
import argparse
import contextlib
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.http import CREATE_BODY, PREFIX, SECRET, USER_ID, _free_port, _lua, wrk

ROOT = Path(__file__).resolve().parents[1]
THROUGHPUT_TARGET = 0.8
P99_TARGET = 3.0

_BARE_SCHEMA = """
CREATE TABLE IF NOT EXISTS support_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_number TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    category TEXT NOT NULL,
    assigned_to INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_tickets_user ON support_tickets (user_id);
"""


def bare_app() -> Any:
    """The bare app (a uvicorn factory): reads its file from ``BENCH_SQLITE_FILE``."""
    import secrets
    from typing import Annotated, Literal

    import jwt
    from fastapi import FastAPI, Header, HTTPException
    from pydantic import BaseModel, Field

    path = os.environ["BENCH_SQLITE_FILE"]
    local = threading.local()

    def db() -> sqlite3.Connection:
        connection = getattr(local, "db", None)
        if connection is None:
            connection = local.db = sqlite3.connect(path, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    with contextlib.closing(db()) as setup:
        setup.executescript(_BARE_SCHEMA)
    local.db = None

    class CreateBody(BaseModel):
        user_id: int
        subject: str = Field(min_length=1, max_length=200)
        description: str = Field(min_length=1, max_length=10_000)
        priority: Literal["low", "medium", "high", "urgent"] = "medium"
        category: Literal["general", "technical", "billing", "flight", "order"] = "general"

    app = FastAPI()

    @app.post(PREFIX + "/create-ticket")
    def create(body: CreateBody, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        try:
            user_id = int(jwt.decode((authorization or "")[7:], SECRET, algorithms=["HS256"])["sub"])
        except Exception:
            raise HTTPException(401) from None
        if body.user_id != user_id:
            raise HTTPException(403)
        now = datetime.now(UTC).isoformat()
        number = "TK-" + secrets.token_hex(6).upper()  # 48 bits: no clash in a run
        connection = db()
        with connection:
            ticket_id = connection.execute(
                "INSERT INTO support_tickets (ticket_number, user_id, subject, description, priority, status,"
                " category, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                (number, user_id, body.subject, body.description, body.priority, body.category, now, now),
            ).lastrowid
        return {"success": True, "data": {"id": ticket_id, "ticket_number": number, **body.model_dump()}}

    return app


# -- running the servers ------------------------------------------------------------


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def _start(command: list[str], env: dict[str, str], folder: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=folder, stdout=subprocess.DEVNULL)
    try:
        _wait_for(port, process)
    except BaseException:
        _stop(process)
        raise
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running(variant: str, processes: int, src: Path = ROOT / "src") -> Iterator[list[int]]:
    """``processes`` servers of ``variant`` ("lib" or "bare") on one fresh SQLite file; yields their ports.

    Each is a process of its own with one uvicorn worker, started one after
    the other (the first start of ``serve`` creates the database and the admin).
    """
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(src), str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "XDG_DATA_HOME": folder,
            "XDG_CONFIG_HOME": folder,
            "SUPPORTCHAT_SECRET": SECRET,
            # One user creates thousands of tickets here; the bare app has no limits either.
            "SUPPORTCHAT_RATE_LIMITS": "none",
            "BENCH_SQLITE_FILE": str(Path(folder) / "bare.db"),
        }
        if variant == "lib":
            url = f"sqlite:///{Path(folder) / 'supportchat.db'}"
            command = [sys.executable, "-m", "supportchat", "serve", "--database-url", url, "--log-level", "warning"]
        else:
            command = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.http_sqlite:bare_app"]
            command += ["--log-level", "warning", "--no-access-log"]
        started: list[subprocess.Popen[bytes]] = []
        ports = [_free_port() for _ in range(processes)]
        try:
            for port in ports:
                started.append(_start(command, env, folder, port))
            yield ports
        finally:
            for process in started:
                _stop(process)


def load(ports: list[int], script: str, *, duration: int, connections: int) -> tuple[float, float, str]:
    """One wrk per server at once, the connections shared out: total req/s, the worst p99, any errors."""
    share = max(2, connections // len(ports))
    with ThreadPoolExecutor(len(ports)) as pool:
        runs = list(
            pool.map(
                lambda port: wrk(
                    f"http://127.0.0.1:{port}{PREFIX}/create-ticket", script, duration=duration, connections=share
                ),
                ports,
            )
        )
    return sum(run[0] for run in runs), max(run[1] for run in runs), " ".join(run[2] for run in runs).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="lib/bare pairs per process count (default 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="the supportchat sources the lib server runs (to compare)"
    )
    parser.add_argument("--processes", default="1,2", help="server processes on one file, per run (default 1,2)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    sys.path.insert(0, str(ROOT / "src"))
    from supportchat.http import UserTokens

    token = UserTokens(SECRET).mint(USER_ID)
    script = _lua("POST", {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, CREATE_BODY)
    counts = [int(count) for count in args.processes.split(",")]
    #: Per process count, one (lib, bare) pair of (req/s, p99 ms) per round, measured back to back.
    pairs: dict[int, list[tuple[tuple[float, float], tuple[float, float]]]] = {count: [] for count in counts}
    for processes in counts:
        for _ in range(args.rounds):
            measured: dict[str, tuple[float, float]] = {}
            for variant in ("lib", "bare"):
                with running(variant, processes, args.src) as ports:
                    load(ports, script, duration=1, connections=args.connections)  # warm up
                    rps, p99, errors = load(ports, script, duration=args.duration, connections=args.connections)
                if errors:
                    sys.exit(f"{variant} with {processes} process(es): {errors}")
                measured[variant] = (rps, p99)
            pairs[processes].append((measured["lib"], measured["bare"]))

    print(
        f"POST create-ticket, wrk -t2 -c{args.connections} -d{args.duration}s, {args.rounds} rounds;"
        f" Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
        + ("" if args.src == ROOT / "src" else f"; lib from {args.src}")
    )
    print("Each round runs lib, then bare; a round's ratios compare the two; the verdict is on the median ratios.")
    print(
        f"{'procs':>5} {'round':>5} {'lib req/s':>10} {'bare req/s':>11} {'ratio':>6}"
        f" {'lib p99':>9} {'bare p99':>9} {'ratio':>6}"
    )
    for processes in counts:
        throughputs, latencies = [], []
        for number, (lib, bare) in enumerate(pairs[processes], 1):
            throughputs.append(lib[0] / bare[0])
            latencies.append(lib[1] / bare[1])
            print(
                f"{processes:>5} {number:>5} {lib[0]:>10.0f} {bare[0]:>11.0f} {throughputs[-1]:>6.2f}"
                f" {lib[1]:>7.1f}ms {bare[1]:>7.1f}ms {latencies[-1]:>6.2f}"
            )
        throughput, latency = statistics.median(throughputs), statistics.median(latencies)
        verdict = "met" if throughput >= THROUGHPUT_TARGET and latency <= P99_TARGET else "MISSED"
        print(
            f"{processes:>5} {'median':>5} {'':>10} {'':>11} {throughput:>6.2f} {'':>9} {'':>9} {latency:>6.2f}"
            f"  {verdict} (targets: throughput >= {THROUGHPUT_TARGET}, p99 <= {P99_TARGET})"
        )


if __name__ == "__main__":
    main()
