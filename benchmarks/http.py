"""HTTP benchmark: each adapter beside a bare app of the same framework (run by hand, bounded).

    python benchmarks/http.py [--duration 5] [--rounds 2] [--connections 16]

For Flask (werkzeug's threaded server) and FastAPI (uvicorn), it serves on
127.0.0.1, one server at a time:

* ``lib``: the framework with the supportchat adapter (token auth, the desk's
  validation and sanitising, the envelope);
* ``bare``: the same framework with a hand-written endpoint doing the same
  storage work without the library (JWT / token check, pydantic or manual
  validation, a ticket number, the same :class:`InMemoryStore` calls,
  the framework's usual JSON response).

It loads ``POST /admin/api/support/create-ticket`` and
``GET /admin/api/support/tickets?per_page=20`` (over 500 preloaded tickets)
with ``wrk`` (Debian's package) and prints requests/s, p99 latency and the
lib/bare ratio. Each run stops by itself: ``duration`` seconds per load.
"""

# No "from __future__ import annotations": FastAPI must resolve the bare app's local models.
import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, and its name
# would shadow the standard library's ``http`` package (nothing above imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PREFIX = "/admin/api/support"
SECRET = "benchmark-secret-0123456789abcdefghijkl"
ADMIN_TOKEN = "sca_benchmark-admin-token-0123456789abcdef"
PRELOADED = 500
USER_ID = 7
CREATE_BODY = json.dumps(
    {
        "user_id": USER_ID,
        "subject": "Problema con pago",
        "description": "No puedo completar mi reserva",
        "priority": "high",
        "category": "billing",
    }
)


# -- the servers ------------------------------------------------------------------


def _store() -> Any:
    from supportchat import Actor, InMemoryStore, SupportDesk

    store = InMemoryStore()
    desk = SupportDesk(store)
    for n in range(PRELOADED):
        desk.create_ticket(Actor.user(1 + n % 50), subject=f"ticket {n}", description="preloaded")
    return store


def _admin_tokens() -> Any:
    from supportchat.http import InMemoryAdminTokens
    from supportchat.http.auth import hash_token

    tokens = InMemoryAdminTokens()
    # Register the fixed benchmark token the way create() would, so wrk can send it.
    tokens._by_name["bench"] = (tokens.create("bench")[0], hash_token(ADMIN_TOKEN))
    tokens._by_hash[hash_token(ADMIN_TOKEN)] = "bench"
    return tokens


def _lib_options() -> dict[str, Any]:
    from supportchat.http import TokenAuthenticator, UserTokens
    from supportchat.http.ratelimit import RateLimiter, RateLimits

    # Limits no load here reaches: every write still pays for being counted, none is refused.
    never = "1000000000/hour"
    counted = RateLimits(**{name: never for name in RateLimits.__dataclass_fields__})
    return {
        "authenticator": TokenAuthenticator(_admin_tokens(), UserTokens(SECRET)),
        "rate_limiter": RateLimiter(counted),
    }


def flask_lib() -> Any:
    import flask

    from supportchat import SupportDesk
    from supportchat.adapters.flask import SupportChat

    app = flask.Flask("lib")
    SupportChat(SupportDesk(_store()), **_lib_options()).init_app(app)
    return app


def fastapi_lib() -> Any:
    from supportchat import SupportDesk
    from supportchat.adapters.fastapi import create_app

    return create_app(SupportDesk(_store()), **_lib_options())


class _BareAuth:
    """What a hand-written endpoint does: a PyJWT check for users, a hash lookup for admins."""

    def __init__(self) -> None:
        import jwt

        self.jwt = jwt
        self.admin_hashes = {hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()}

    def user(self, header: str | None) -> int | None:
        try:
            claims = self.jwt.decode((header or "")[7:], SECRET, algorithms=["HS256"])
            return int(claims["sub"])
        except Exception:
            return None

    def admin(self, header: str | None) -> bool:
        return hashlib.sha256((header or "")[7:].encode()).hexdigest() in self.admin_hashes


def _new_ticket(user_id: int, subject: str, description: str, priority: str, category: str) -> Any:
    from supportchat.models import NewTicket
    from supportchat.numbers import new_ticket_number

    now = datetime.now(UTC)
    return NewTicket(
        ticket_number=new_ticket_number(),
        user_id=user_id,
        subject=subject.strip(),
        description=description.strip(),
        priority=priority,
        category=category,
        created_at=now,
        updated_at=now,
    )


def _query(args: Any) -> Any:
    from supportchat.models import TicketQuery

    return TicketQuery(page=int(args.get("page", 1)), per_page=min(int(args.get("per_page", 20)), 100))


def flask_bare() -> Any:
    import flask

    store, auth = _store(), _BareAuth()
    app = flask.Flask("bare")
    priorities, categories = {"low", "medium", "high", "urgent"}, {"general", "technical", "billing", "flight", "order"}

    @app.post(PREFIX + "/create-ticket")
    def create() -> Any:
        user_id = auth.user(flask.request.headers.get("Authorization"))
        if user_id is None:
            return flask.jsonify(success=False), 401
        body = flask.request.get_json()
        subject, description = body.get("subject"), body.get("description")
        priority, category = body.get("priority", "medium"), body.get("category", "general")
        if not (isinstance(subject, str) and 0 < len(subject) <= 200 and isinstance(description, str)):
            return flask.jsonify(success=False), 422
        if priority not in priorities or category not in categories or body.get("user_id", user_id) != user_id:
            return flask.jsonify(success=False), 422
        ticket = store.insert_ticket(_new_ticket(user_id, subject, description, priority, category))
        return flask.jsonify(success=True, data=ticket.model_dump(mode="json"))

    @app.get(PREFIX + "/tickets")
    def tickets() -> Any:
        if not auth.admin(flask.request.headers.get("Authorization")):
            return flask.jsonify(success=False), 401
        query = _query(flask.request.args)
        items, total = store.list_tickets(query)
        return flask.jsonify(
            success=True,
            data=[t.model_dump(mode="json") for t in items],
            meta={"page": query.page, "per_page": query.per_page, "total": total},
        )

    return app


def fastapi_bare() -> Any:
    from typing import Annotated

    from fastapi import FastAPI, Header, HTTPException, Request
    from pydantic import BaseModel, Field

    from supportchat.models import Category, Priority

    store, auth = _store(), _BareAuth()
    app = FastAPI()

    class CreateBody(BaseModel):
        user_id: int
        subject: str = Field(min_length=1, max_length=200)
        description: str = Field(min_length=1, max_length=10_000)
        priority: Priority = Priority.MEDIUM
        category: Category = Category.GENERAL

    @app.post(PREFIX + "/create-ticket")
    def create(body: CreateBody, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        user_id = auth.user(authorization)
        if user_id is None or body.user_id != user_id:
            raise HTTPException(401)
        ticket = store.insert_ticket(_new_ticket(user_id, body.subject, body.description, body.priority, body.category))
        return {"success": True, "data": ticket}

    @app.get(PREFIX + "/tickets")
    def tickets(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        if not auth.admin(authorization):
            raise HTTPException(401)
        query = _query(request.query_params)
        items, total = store.list_tickets(query)
        return {
            "success": True,
            "data": items,
            "meta": {"page": query.page, "per_page": query.per_page, "total": total},
        }

    return app


APPS = {"flask-lib": flask_lib, "flask-bare": flask_bare, "fastapi-lib": fastapi_lib, "fastapi-bare": fastapi_bare}


def serve(name: str, port: int) -> None:
    app = APPS[name]()
    if name.startswith("flask"):
        import logging

        from werkzeug.serving import run_simple

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        run_simple("127.0.0.1", port, app, threaded=True)
    else:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the load -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


@contextlib.contextmanager
def running(name: str) -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, __file__, "serve", name, str(port)])
    try:
        _wait_for(port)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _lua(method: str, headers: dict[str, str], body: str | None) -> str:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    return "\n".join(lines) + "\n"


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, script: str, *, duration: int, connections: int) -> tuple[float, float, str]:
    """Requests/s, p99 in ms, and the non-2xx line if any."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", handle.name, url],
            capture_output=True,
            text=True,
            timeout=duration + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: \d+", out)
    return rps, float(value) * _UNITS[unit], errors.group(0) if errors else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="best of N runs per load (default 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--frameworks", default="flask,fastapi")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")

    from supportchat.http import UserTokens

    user_token = UserTokens(SECRET).mint(USER_ID, expires_in=timedelta(days=1))
    loads = {
        "create-ticket": (
            "/create-ticket",
            _lua("POST", {"Content-Type": "application/json", "Authorization": f"Bearer {user_token}"}, CREATE_BODY),
        ),
        "list": ("/tickets?per_page=20", _lua("GET", {"Authorization": f"Bearer {ADMIN_TOKEN}"}, None)),
    }
    results: dict[tuple[str, str, str], tuple[float, float]] = {}
    for framework in args.frameworks.split(","):
        for load, (path, script) in loads.items():
            for _ in range(args.rounds):
                for variant in ("lib", "bare"):
                    # A fresh server per run, so every create-ticket run starts from the same store.
                    with running(f"{framework}-{variant}") as port:
                        url = f"http://127.0.0.1:{port}{PREFIX}{path}"
                        wrk(url, script, duration=1, connections=args.connections)  # warm up
                        rps, p99, errors = wrk(url, script, duration=args.duration, connections=args.connections)
                    if errors:
                        sys.exit(f"{framework}-{variant} {load}: {errors}")
                    key = (framework, load, variant)
                    if key not in results or rps > results[key][0]:
                        results[key] = (rps, p99)

    print(f"wrk -t2 -c{args.connections} -d{args.duration}s, best of {args.rounds}; Python {sys.version.split()[0]}")
    print(
        f"{'framework':<9} {'route':<14} {'lib req/s':>10} {'bare req/s':>11}"
        f" {'ratio':>6} {'lib p99':>9} {'bare p99':>9}"
    )
    for framework in args.frameworks.split(","):
        for load in loads:
            lib, bare = results[(framework, load, "lib")], results[(framework, load, "bare")]
            print(
                f"{framework:<9} {load:<14} {lib[0]:>10.0f} {bare[0]:>11.0f} {lib[0] / bare[0]:>6.2f}"
                f" {lib[1]:>7.1f}ms {bare[1]:>7.1f}ms"
            )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
