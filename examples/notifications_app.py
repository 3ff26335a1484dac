"""A FastAPI app with live events and notifications, and the receiving end of its webhook.

Run it with ``uvicorn examples.notifications_app:app`` (environment below).
What it wires up, beside the API of ``examples/fastapi_app.py``:

- :class:`LiveEvents`: the SSE routes ``/admin/api/support/events`` (admins)
  and ``/admin/api/support/user/<id>/events`` (that user), woken across
  processes by PostgreSQL NOTIFY or a slow poll of a SQLite file;
- a :class:`NotificationWorker` with a signed webhook and SMTP email, fed from
  the event log through a durable outbox file, off the request path;
- ``/hooks/support``: what a receiver does with the webhook (verify, drop
  duplicates by event id, process).

Environment: ``SUPPORTCHAT_DATABASE_URL`` (default: a SQLite file here),
``SUPPORTCHAT_SECRET`` (user JWTs), ``WEBHOOK_URL`` and ``WEBHOOK_SECRET``,
``SMTP_HOST``/``SMTP_PORT``/``SUPPORT_ADMINS`` (comma-separated addresses).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from supportchat import SupportDesk
from supportchat.adapters.fastapi import support_router
from supportchat.notify import (
    EmailNotifier,
    NotificationWorker,
    Notifier,
    Outbox,
    SMTPSettings,
    WebhookNotifier,
    verify_signature,
)
from supportchat.realtime import LiveEvents
from supportchat.stores import open_store

store = open_store(os.environ.get("SUPPORTCHAT_DATABASE_URL", "sqlite:///supportchat-example.db"))
desk = SupportDesk(store)
live = LiveEvents(desk, heartbeat=15)

#: The host app's users: the hook the email notifier asks for an owner's address.
EMAILS = {1: "alice@example.com", 2: "bruno@example.com"}

notifiers: list[Notifier] = []
if webhook := os.environ.get("WEBHOOK_URL"):
    notifiers.append(WebhookNotifier(webhook, os.environ["WEBHOOK_SECRET"]))
if smtp_host := os.environ.get("SMTP_HOST"):
    notifiers.append(
        EmailNotifier(
            SMTPSettings(smtp_host, int(os.environ.get("SMTP_PORT", "25"))),
            sender="support@example.com",
            admins=[a for a in os.environ.get("SUPPORT_ADMINS", "").split(",") if a],
            user_email=EMAILS.get,
        )
    )
worker = NotificationWorker(desk, Outbox("supportchat-outbox.db"), notifiers)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    worker.start()
    yield
    worker.stop()
    live.close(wait=0)  # from the event loop: streams end on the loop itself
    store.close()


app = FastAPI(lifespan=lifespan)
app.include_router(support_router(desk, live=live))


# -- the receiving end of the webhook (normally another service) -------------------

seen_event_ids: set[str] = set()  # a real receiver keeps these in its database


@app.post("/hooks/support")
async def support_webhook(request: Request) -> Response:
    body = await request.body()  # the raw bytes: the signature covers them exactly
    genuine = verify_signature(
        os.environ.get("WEBHOOK_SECRET", ""),
        body,
        request.headers.get("X-Supportchat-Timestamp"),
        request.headers.get("X-Supportchat-Signature"),
    )
    if not genuine:
        return Response(status_code=401)
    event_id = request.headers["X-Supportchat-Event-Id"]
    if event_id not in seen_event_ids:  # retries resend the same id: process each event once
        seen_event_ids.add(event_id)
        print("support event", event_id, body[:200])
    return Response(status_code=204)
