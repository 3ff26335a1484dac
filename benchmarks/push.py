"""Push throughput through the FCM emulator, and what push adds to the admin reply request.

Run by hand from the repository root::

    PYTHONPATH=src:. python -m benchmarks.push               # 10,000 pushes to 1,000 devices
    PYTHONPATH=src:. python -m benchmarks.push --users 20    # a quicker look (2,000 pushes)

The FCM emulator (``tests/push_emulator``, an emulator of ours, not Google's
service) runs in a process of its own. The desk is a SQLite file (the
embedded default).

1. **Throughput.** ``--users`` users with 10 devices each (1,000 devices by
   default), one ticket each, 10 admin replies per ticket: 10 pushes per
   reply, 10,000 in all (coalescing off, so every reply is a push). A job
   runner with ``--threads`` threads (default 1) fans the events out and sends; the
   figure is pushes delivered per second, from the runner's start to the last
   delivery recorded. Baseline, same run: the same number of bare
   ``FcmClient.send`` calls from as many threads (FCM's and the emulator's
   share of the cost).
2. **The admin reply request, push on and off.** ``POST
   …/tickets/<id>/messages`` through the Flask adapter's WSGI test client,
   ``--requests`` times each way, in alternating blocks of 50: *off* a desk
   without push, *on* a desk whose every ticket owner holds a device, with the
   push worker running, so each reply makes a push while the next requests
   are served; the worker either a thread of the serving process (``serve``'s
   embedded worker) or a process of its own (``supportchat worker``). Paced at
   ``--pace`` seconds between requests (a busy agent), and back to back. The
   request never calls FCM; what push can add is the worker sharing the CPU
   (and, as a thread, the interpreter lock). The blocks rotate over three
   desks: *off*, *on*, and *twin*, a second desk without push, whose p99 gap
   to *off* is the noise floor of the comparison in the same run. After each
   *on* block the benchmark waits for its pushes to be sent, so that the
   worker's backlog does not run during the next *off* block.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/admin/api/support"
SECRET = "benchmark-secret-0123456789abcdefghij"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Emulator:
    """The emulator in a child process."""

    def __init__(self, folder: Path) -> None:
        self.key = folder / "service-account.json"
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.push_emulator", str(self.key)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def stop(self) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        accepted = int(self.process.stdout.readline().strip() or 0)
        self.process.wait(10)
        return accepted


def client_for(emulator: Emulator) -> object:
    from supportchat.push import FcmClient

    return FcmClient.from_service_account(str(emulator.key), endpoint=emulator.url, timeout=10)


def throughput(folder: Path, emulator: Emulator, users: int, threads: int) -> dict[str, float]:
    from supportchat import Actor, SupportDesk
    from supportchat.jobs import JobRunner
    from supportchat.push import NewDevice, OwnerKind, Platform, PushService, PushSettings
    from supportchat.push.message import collapse_key, fcm_message
    from supportchat.push.texts import Text
    from supportchat.stores.sql import SQLStore

    store = SQLStore.from_url(f"sqlite:///{folder / 'throughput.db'}")
    desk = SupportDesk(store)
    client = client_for(emulator)
    settings = PushSettings(quiet_window=0.0, max_coalesce_wait=0.0)
    service = PushService(store, client, settings)  # type: ignore[arg-type]
    for user in range(1, users + 1):
        for device in range(10):
            service.devices.register(
                NewDevice(f"bench-{user}-{device}:APA91b", OwnerKind.USER, user, Platform.ANDROID, "es")
            )
    runner = JobRunner(store, service.kinds(), poll_interval=0.05, batch=50, threads=threads, lease=600)
    runner.start_cursors()
    for user in range(1, users + 1):
        ticket = desk.create_ticket(Actor.user(user), subject=f"Pedido {user}", description="No llegó")
        for reply in range(10):
            desk.post_message(Actor.admin(1), ticket.id, f"Respuesta {reply} al pedido {user}")
    expected = users * 10 * 10
    started = time.perf_counter()
    runner.start(desk)
    while service.devices.counts()["delivered"] < expected:
        time.sleep(0.2)
        if time.perf_counter() - started > 3600:
            raise RuntimeError("the pushes did not all arrive within an hour")
    pipeline = time.perf_counter() - started
    runner.stop()
    counts = service.devices.counts()

    message = fcm_message("bench-raw:APA91b", {"event": "admin_reply"}, Text("t", "b" * 60), key=collapse_key(1))
    per_thread = expected // threads
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: [client.send(message) for _ in range(per_thread)], range(threads)))  # type: ignore[attr-defined]
    bare = time.perf_counter() - started
    client.close()  # type: ignore[attr-defined]
    store.close()
    return {
        "pushes": expected,
        "devices": users * 10,
        "pipeline_s": pipeline,
        "pipeline_per_s": expected / pipeline,
        "bare_per_s": per_thread * threads / bare,
        "delivered": counts["delivered"],
        "other": sum(v for k, v in counts.items() if k != "delivered"),
    }


def _served(folder: Path, name: str, with_push: bool) -> tuple[object, object, dict[str, str], list[int]]:
    """A desk on its own SQLite file behind the Flask adapter: (desk, WSGI test client, headers, ticket ids)."""
    import flask

    from supportchat import Actor, SupportDesk
    from supportchat.adapters.flask import SupportChat
    from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
    from supportchat.http.ratelimit import RateLimiter, RateLimits
    from supportchat.push.feature import feature
    from supportchat.stores.sql import SQLStore

    store = SQLStore.from_url(f"sqlite:///{folder / name}")
    desk = SupportDesk(store)
    tokens = InMemoryAdminTokens()
    _, admin_token = tokens.create("ana")
    app = flask.Flask(name)
    SupportChat(
        desk,
        authenticator=TokenAuthenticator(tokens, UserTokens(SECRET)),
        rate_limiter=RateLimiter(RateLimits.unlimited()),
        features=[feature()] if with_push else [],
    ).init_app(app)
    headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    tickets = [desk.create_ticket(Actor.user(user), subject="s", description="d").id for user in range(1, 51)]
    return desk, app.test_client(), headers, tickets


#: A push worker in a process of its own (``supportchat worker`` in production) on the "on" database.
_WORKER = """
import sys
from supportchat.jobs import JobRunner
from supportchat.push import FcmClient, PushService, PushSettings
from supportchat.stores.sql import SQLStore
store = SQLStore.from_url(sys.argv[1])
client = FcmClient.from_service_account(sys.argv[2], endpoint=sys.argv[3], timeout=10)
service = PushService(store, client, PushSettings(quiet_window=0.0, max_coalesce_wait=0.0))
runner = JobRunner(store, service.kinds(), poll_interval=0.05, batch=20).start()
print("ready", flush=True)
sys.stdin.read()
runner.stop()
"""


def reply_latency(folder: Path, emulator: Emulator, requests: int, pace: float, worker: str) -> dict[str, float]:
    from supportchat.jobs import JobRunner
    from supportchat.push import NewDevice, OwnerKind, Platform, PushService, PushSettings

    tag = f"{pace:g}-{worker}".replace(".", "_")
    _, off_http, off_headers, off_tickets = _served(folder, f"off-{tag}.db", with_push=False)
    # A second desk without push, measured in the same rotation: how far two identical sides differ.
    _, twin_http, twin_headers, twin_tickets = _served(folder, f"twin-{tag}.db", with_push=False)
    on_desk, on_http, on_headers, on_tickets = _served(folder, f"on-{tag}.db", with_push=True)
    client = client_for(emulator)
    store = on_desk.store  # type: ignore[attr-defined]
    service = PushService(store, client, PushSettings(quiet_window=0.0, max_coalesce_wait=0.0))  # type: ignore[arg-type]
    for user in range(1, 51):
        service.devices.register(NewDevice(f"lat-{user}:APA91b", OwnerKind.USER, user, Platform.IOS, "en"))
    runner = None
    child = None
    if worker == "thread":
        runner = JobRunner(store, service.kinds(), poll_interval=0.05, batch=20).start(on_desk)  # type: ignore[arg-type]
    elif worker == "none":
        # The feature mounted and every owner holding a device, but nothing sends: what the request itself costs.
        pass
    else:
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
        url = f"sqlite:///{folder / f'on-{tag}.db'}"
        child = subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(emulator.key), emulator.url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    body = json.dumps({"message": "Gracias, lo revisamos ahora mismo."}).encode()
    timings: dict[str, list[float]] = {"off": [], "on": [], "twin": []}
    sides = {
        "off": (off_http, off_headers, off_tickets),
        "on": (on_http, on_headers, on_tickets),
        "twin": (twin_http, twin_headers, twin_tickets),
    }
    sent = {"off": 0, "on": 0, "twin": 0}

    def block(side: str, count: int, record: bool = True) -> None:
        http, headers, tickets = sides[side]
        for index in range(count):
            ticket = tickets[index % len(tickets)]
            started = time.perf_counter()
            answer = http.post(f"{PREFIX}/tickets/{ticket}/messages", data=body, headers=headers)  # type: ignore[attr-defined]
            if record:
                timings[side].append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.data
            sent[side] += 1
            if pace:
                time.sleep(pace)

    def drained() -> None:
        # The pushes of an "on" block are sent before the next "off" block starts: otherwise the
        # worker's backlog would run during the "off" requests and be counted against neither side.
        # One push per "on" reply (one device per owner, coalescing off).
        deadline = time.monotonic() + 120
        while worker != "none" and service.devices.counts()["delivered"] < sent["on"] and time.monotonic() < deadline:
            time.sleep(0.01)

    for side in sides:  # warm-up
        block(side, 20, record=False)
    drained()
    done = 0
    while done < requests:
        step = min(50, requests - done)
        for side in ("off", "on", "twin"):
            block(side, step)
        drained()
        done += step
    if runner is not None:
        runner.stop()
    if child is not None:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(30)
    delivered = service.devices.counts()["delivered"]
    client.close()  # type: ignore[attr-defined]
    off, on, twin = timings["off"], timings["on"], timings["twin"]
    return {
        "off_p50": statistics.median(off) * 1000,
        "off_p99": percentile(off, 0.99) * 1000,
        "on_p50": statistics.median(on) * 1000,
        "on_p99": percentile(on, 0.99) * 1000,
        "added_p99": (percentile(on, 0.99) - percentile(off, 0.99)) * 1000,
        "twin_p99_gap": (percentile(twin, 0.99) - percentile(off, 0.99)) * 1000,
        "pushes": delivered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="users with 10 devices each (default 100: 1,000)")
    parser.add_argument("--threads", type=int, default=1, help="runner threads (SQLite: one writer; 1 is fastest)")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--pace", type=float, default=0.02)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument(
        "--workers",
        default="thread,process",
        help="comma-separated: thread, process, none (the feature mounted, nothing sends)",
    )
    parser.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval for this process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="supportchat-push-bench-") as name:
        folder = Path(name)
        emulator = Emulator(folder)
        try:
            print(f"load average at start: {os.getloadavg()[0]:.2f}")
            if not args.skip_throughput:
                found = throughput(folder, emulator, args.users, args.threads)
                print(
                    f"throughput: {found['pushes']:,} pushes to {found['devices']:,} devices in "
                    f"{found['pipeline_s']:.1f} s = {found['pipeline_per_s']:.0f}/s "
                    f"(delivered {found['delivered']:,}, other {found['other']}); bare FcmClient.send from "
                    f"{args.threads} threads {found['bare_per_s']:.0f}/s; "
                    f"ratio {found['pipeline_per_s'] / found['bare_per_s']:.2f}x"
                )
            if args.switch_interval is not None:
                sys.setswitchinterval(args.switch_interval)
            print(f"interpreter switch interval: {sys.getswitchinterval() * 1000:g} ms")
            workers = [name.strip() for name in args.workers.split(",")]
            for worker, pace in [(worker, pace) for worker in workers for pace in (args.pace, 0.0)]:
                found = reply_latency(folder, emulator, args.requests, pace, worker)
                print(
                    f"admin reply, push worker in a {worker}, "
                    f"{'paced ' + str(pace) + ' s' if pace else 'back to back'}: "
                    f"off p50 {found['off_p50']:.2f} ms p99 {found['off_p99']:.2f} ms; "
                    f"on p50 {found['on_p50']:.2f} ms p99 {found['on_p99']:.2f} ms; "
                    f"added p99 {found['added_p99']:+.2f} ms (target ≤ 1 ms; two push-less desks differ by "
                    f"{found['twin_p99_gap']:+.2f} ms); ratio p99 "
                    f"{found['on_p99'] / found['off_p99']:.2f}x; pushes sent {found['pushes']}"
                )
            print(f"load average at end: {os.getloadavg()[0]:.2f}")
        finally:
            print(f"emulator accepted {emulator.stop():,} messages")


if __name__ == "__main__":
    main()
