"""An existing Flask app, with its own users and session login, that mounts the support desk.

Run it with ``flask --app examples/flask_app.py run`` and log in with
``POST /login {"username": "alice", "password": "alice-pw"}``; the session
cookie then works on the desk's routes too (``/admin/api/support/...``).
The support-desk part is the three lines marked below.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Flask, jsonify, request, session

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.adapters.flask import SupportChat


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password: str
    is_staff: bool = False


#: The host app's own user table (a real app has a database and hashed passwords).
USERS = {
    "alice": User(1, "alice", "alice-pw"),
    "bruno": User(2, "bruno", "bruno-pw"),
    "carmen": User(100, "carmen", "carmen-pw", is_staff=True),
}
_BY_ID = {user.id: user for user in USERS.values()}


def current_actor() -> Actor | None:
    """The hook: whoever the app's own session says is logged in, as the desk sees them."""
    user = _BY_ID.get(session.get("user_id", 0))
    if user is None:
        return None
    return Actor.admin(user.id) if user.is_staff else Actor.user(user.id)


def create_app(desk: SupportDesk | None = None) -> Flask:
    app = Flask(__name__)
    app.secret_key = secrets.token_hex(32)

    @app.post("/login")
    def login() -> object:
        body = request.get_json(silent=True) or {}
        user = USERS.get(str(body.get("username")))
        if user is None or not secrets.compare_digest(user.password, str(body.get("password"))):
            return jsonify(error="bad credentials"), 401
        session["user_id"] = user.id
        return jsonify(id=user.id)

    @app.get("/")
    def home() -> object:
        return jsonify(app="an existing app", logged_in=session.get("user_id"))

    # --- the support desk: three lines ---
    desk = desk or SupportDesk(InMemoryStore())
    SupportChat(desk, identify=current_actor).init_app(app)
    return app


app = create_app()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000)
