"""An existing FastAPI app, with its own users and bearer-token login, that mounts the support desk.

Run it with ``uvicorn examples.fastapi_app:app``; get a token with
``POST /login {"username": "alice", "password": "alice-pw"}`` and send it as
``Authorization: Bearer …`` to the desk's routes (``/admin/api/support/...``).
The support-desk part is the lines marked below: the app's own
``current_user`` dependency, turned into a desk :class:`Actor`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from supportchat import Actor, InMemoryStore, SupportDesk
from supportchat.adapters.fastapi import support_router


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password: str
    is_staff: bool = False


#: The host app's own user table and sessions (a real app has a database).
USERS = {
    "alice": User(1, "alice", "alice-pw"),
    "bruno": User(2, "bruno", "bruno-pw"),
    "carmen": User(100, "carmen", "carmen-pw", is_staff=True),
}
SESSIONS: dict[str, User] = {}


class Credentials(BaseModel):
    username: str
    password: str


oauth2 = OAuth2PasswordBearer(tokenUrl="/login", auto_error=False)


def current_user(token: Annotated[str | None, Depends(oauth2)]) -> User | None:
    """The app's own dependency: who holds this session token."""
    return SESSIONS.get(token or "")


def current_actor(user: Annotated[User | None, Depends(current_user)]) -> Actor | None:
    """The hook: the app's user, as the desk sees them."""
    if user is None:
        return None
    return Actor.admin(user.id) if user.is_staff else Actor.user(user.id)


def create_app(desk: SupportDesk | None = None) -> FastAPI:
    app = FastAPI(title="An existing app")

    @app.post("/login")
    def login(credentials: Credentials) -> dict[str, str]:
        user = USERS.get(credentials.username)
        if user is None or not secrets.compare_digest(user.password, credentials.password):
            raise HTTPException(401, "bad credentials")
        token = secrets.token_urlsafe(32)
        SESSIONS[token] = user
        return {"access_token": token, "token_type": "bearer"}

    @app.get("/me")
    def me(user: Annotated[User | None, Depends(current_user)]) -> dict[str, object]:
        return {"user": user.username if user else None}

    # --- the support desk: two lines ---
    desk = desk or SupportDesk(InMemoryStore())
    app.include_router(support_router(desk, identify=current_actor))
    return app


app = create_app()
