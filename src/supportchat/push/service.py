"""Push as job kinds of the desk's job runner, reacting to the event log (never on the request path).

- ``push.fanout`` reacts to every ticket event: it finds who is pushed
  (:mod:`.audience`), records one delivery per device and enqueues one
  ``push.send`` job per delivery. A reply's send is due a quiet window
  later, so replies in quick succession to the same device and ticket
  become one push: when a reply's turn comes and a later reply is waiting,
  it is marked ``coalesced`` and the later one tells both ("3 new replies"),
  unless it has waited ``max_coalesce_wait`` already.
- ``push.send`` sends one delivery through FCM and records the attempt.
  ``UNAVAILABLE``, ``INTERNAL``, ``QUOTA_EXCEEDED`` (429), timeouts and
  connection failures are retried with the runner's backoff, never sooner
  than FCM's ``Retry-After``; ``UNREGISTERED`` (404) removes the token;
  ``INVALID_ARGUMENT`` and ``SENDER_ID_MISMATCH`` are recorded as permanent;
  refused credentials (``AUTH``) are retried and logged as one clear error
  (at most once per five minutes) and ``supportchat push status`` names them.
- ``push.prune`` removes the devices not seen for 270 days, once a day.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from ..extensions import extension
from ..jobs import DEFAULT_MAX_ATTEMPTS, Job, JobKind, JobStore, NewJob, PermanentFailure, RetryLater
from ..models import EventRecord, EventType
from ..outages import OutageLog
from ..people import ContactDirectory, StoredContacts
from ..store import Store
from .audience import Content, audiences, content_for
from .base import Delivery, DeliveryStatus, Device, ErrorClass, NewAttempt, NewDelivery, OwnerKind, PushEvent, PushStore
from .fcm import FcmClient, FcmError
from .message import collapse_key, fcm_message
from .texts import language_of, test_text, text_for

__all__ = ["FANOUT", "PRUNE", "SEND", "PushService", "PushSettings"]

logger = logging.getLogger("supportchat.push")

FANOUT = "push.fanout"
SEND = "push.send"
PRUNE = "push.prune"
_DAY = 86_400.0
#: How long, and for how many events and recipients, what a push says is kept in memory.
_CONTENT_SECONDS = 10.0
_CONTENTS_KEPT = 1024
#: The events that may push someone (any other type, present or future, pushes nobody).
_PUSHED_EVENTS = frozenset({EventType.TICKET_CREATED, EventType.MESSAGE_CREATED, EventType.TICKET_UPDATED})


@dataclass(frozen=True, slots=True)
class PushSettings:
    """How pushes are made: privacy mode, coalescing, languages, retries, pruning."""

    #: Data only: no notification, no text of any message or subject in the request.
    privacy: bool = False
    #: Seconds a reply's push waits for a later reply to the same device and ticket.
    quiet_window: float = 3.0
    #: A reply is pushed once it has waited this long, however busy the conversation.
    max_coalesce_wait: float = 30.0
    #: The language of recipients whose locale names none we have (``es`` or ``en``).
    default_language: str = "es"
    #: The Android notification channel the app creates, if any (else FCM's default channel).
    android_channel: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    #: FCM considers a token unused for 270 days expired.
    prune_after: float = 270 * _DAY
    prune_every: float = _DAY


class PushService:
    """Fans desk events out to devices and sends them through ``client`` (``None``: not configured)."""

    def __init__(
        self,
        store: Store,
        client: FcmClient | None,
        settings: PushSettings | None = None,
        *,
        contacts: ContactDirectory | None = None,
        jobs: JobStore | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.settings = settings or PushSettings()
        self.devices: PushStore = extension(store, PushStore)  # type: ignore[type-abstract]
        self.jobs: JobStore = jobs if jobs is not None else extension(store, JobStore)  # type: ignore[type-abstract]
        self.contacts = contacts if contacts is not None else StoredContacts(store)
        self._auth_log = OutageLog(logger, interval=300.0)
        # One event fans out to each of a recipient's devices: what it says to them is read once.
        self._contents: OrderedDict[tuple[int, PushEvent, OwnerKind, int], tuple[float, Content | None]] = OrderedDict()
        self._contents_lock = threading.Lock()

    # -- push.fanout -------------------------------------------------------

    def react(self, record: EventRecord) -> dict[str, object] | None:
        return {"event_id": record.id} if record.type in _PUSHED_EVENTS else None

    def fan_out(self, event_id: int, *, now: float | None = None) -> list[Delivery]:
        """Record the deliveries of one event and enqueue their sends (safe to run again)."""
        found = self.store.events_after(event_id - 1, limit=1)
        if not found or found[0].id != event_id:
            return []
        record = found[0]
        at = time.time() if now is None else now
        new: list[NewDelivery] = []
        for audience in audiences(self.store, record):
            for device in self.devices.devices_of(audience.kind, audience.ids):
                new.append(
                    NewDelivery(
                        event_id=record.id,
                        event=audience.event,
                        ticket_id=record.ticket_id,
                        message_id=record.message_id,
                        token=device.token,
                        recipient_kind=device.owner_kind,
                        recipient_id=device.owner_id,
                    )
                )
        deliveries = self.devices.add_deliveries(new, now=at)
        self.jobs.enqueue(
            [
                NewJob(
                    SEND,
                    {"delivery_id": d.id},
                    due_at=at + self.settings.quiet_window if d.event.coalesces else at,
                    dedupe_key=f"{SEND}:{d.id}",
                    max_attempts=self.settings.max_attempts,
                )
                for d in deliveries
                if d.status is DeliveryStatus.PENDING
            ],
            now=at,
        )
        return deliveries

    # -- push.send ---------------------------------------------------------

    def send(self, delivery_id: int, *, last_attempt: bool = True) -> Delivery | None:
        """Send one delivery, record the attempt; raises to have the job retried or given up."""
        delivery = self.devices.delivery(delivery_id)
        if delivery is None or delivery.status.final:
            return delivery
        if (
            delivery.event.coalesces
            and time.time() - delivery.created_at < self.settings.max_coalesce_wait
            and self.devices.newer_pending(delivery)
        ):
            return self.devices.settle(delivery.id, DeliveryStatus.COALESCED)
        device = self.devices.device(delivery.token)
        if device is None or (device.owner_kind, device.owner_id) != (delivery.recipient_kind, delivery.recipient_id):
            # Removed, or re-registered by someone else since: this push is not theirs to see.
            return self.devices.settle(delivery.id, DeliveryStatus.SKIPPED)
        message = self._message(delivery, device)
        if message is None:
            return self.devices.settle(delivery.id, DeliveryStatus.SKIPPED)
        if self.client is None:
            raise RetryLater("push is not configured: no FCM service account", after=self.settings.quiet_window)
        try:
            name = self.client.send(message)
        except FcmError as error:
            return self._failed(delivery, error, last_attempt=last_attempt)
        return self.devices.record_attempt(
            delivery.id, NewAttempt(at=time.time(), status=DeliveryStatus.DELIVERED, http_status=200, fcm_name=name)
        )

    def _content(self, delivery: Delivery) -> Content | None:
        """:func:`~.audience.content_for`, kept a few seconds per event and recipient (never across recipients)."""
        key = (delivery.event_id, delivery.event, delivery.recipient_kind, delivery.recipient_id)
        now = time.monotonic()
        with self._contents_lock:
            found = self._contents.get(key)
            if found is not None and now - found[0] < _CONTENT_SECONDS:
                return found[1]
        content = content_for(
            self.store,
            event=delivery.event,
            event_id=delivery.event_id,
            recipient_kind=delivery.recipient_kind,
            recipient_id=delivery.recipient_id,
        )
        with self._contents_lock:
            self._contents[key] = (now, content)
            while len(self._contents) > _CONTENTS_KEPT:
                self._contents.popitem(last=False)
        return content

    def _message(self, delivery: Delivery, device: Device) -> dict[str, object] | None:
        content = self._content(delivery)
        if content is None:
            return None
        text = None
        if not self.settings.privacy:
            language = language_of(device.locale, self._contact_locale(device), default=self.settings.default_language)
            coalesced = self.devices.coalesced_into(delivery) if delivery.event.coalesces else 0
            text = text_for(
                delivery.event,
                language,
                number=content.number,
                subject=content.subject,
                text=content.text,
                coalesced=coalesced,
            )
        return fcm_message(
            device.token,
            content.data,
            text,
            key=collapse_key(delivery.ticket_id),
            android_channel=self.settings.android_channel,
        )

    def _contact_locale(self, device: Device) -> str | None:
        if device.locale or device.owner_kind is not OwnerKind.USER:
            return None
        try:
            contact = self.contacts.get_contact(device.owner_id)
        except Exception:
            logger.debug("push: no contact locale for user %s", device.owner_id, exc_info=True)
            return None
        return None if contact is None else contact.locale

    def _failed(self, delivery: Delivery, error: FcmError, *, last_attempt: bool) -> Delivery:
        at = time.time()
        attempt = NewAttempt(
            at=at,
            status=DeliveryStatus.FAILED,
            error_class=error.error_class,
            http_status=error.http_status,
            detail=error.detail,
            retry_after=error.retry_after,
        )
        if error.error_class is ErrorClass.UNREGISTERED:
            self.devices.unregister(delivery.token)
            return self.devices.record_attempt(delivery.id, _with(attempt, DeliveryStatus.UNREGISTERED))
        if not error.error_class.retryable:
            self.devices.record_attempt(delivery.id, attempt)
            raise PermanentFailure(str(error))
        if error.error_class is ErrorClass.AUTH:
            self._auth_log.report(
                "auth",
                "push: FCM refused our credentials; no push can be sent until the service account is fixed "
                f"(SUPPORTCHAT_FCM_CREDENTIALS): {error.detail}",
                error,
            )
        self.devices.record_attempt(delivery.id, attempt if last_attempt else _with(attempt, DeliveryStatus.PENDING))
        raise RetryLater(str(error), after=error.retry_after or 0.0)

    # -- supportchat push test ---------------------------------------------

    def send_test(self, owner_kind: OwnerKind, owner_id: int) -> list[tuple[Device, str | None, FcmError | None]]:
        """Send a test push to each device of one owner now; per device, FCM's name for it or the error.

        Not part of the delivery record (no desk event caused it); a token FCM
        answers ``UNREGISTERED`` is removed as usual.
        """
        if self.client is None:
            raise FcmError(ErrorClass.AUTH, "push is not configured: set SUPPORTCHAT_FCM_CREDENTIALS")
        results: list[tuple[Device, str | None, FcmError | None]] = []
        for device in self.devices.devices_of(owner_kind, [owner_id]):
            language = language_of(device.locale, self._contact_locale(device), default=self.settings.default_language)
            text = None if self.settings.privacy else test_text(language)
            message = fcm_message(device.token, {"event": "test"}, text, key="supportchat-test")
            try:
                results.append((device, self.client.send(message), None))
            except FcmError as error:
                if error.error_class is ErrorClass.UNREGISTERED:
                    self.devices.unregister(device.token)
                results.append((device, None, error))
        return results

    # -- push.prune --------------------------------------------------------

    def prune(self, *, now: float | None = None) -> int:
        """Remove the devices unused for ``prune_after`` and schedule the next prune."""
        at = time.time() if now is None else now
        removed = self.devices.prune(at - self.settings.prune_after)
        if removed:
            logger.info("push: pruned %d devices unused for %g days", removed, self.settings.prune_after / _DAY)
        self.schedule_prune(at + self.settings.prune_every)
        return removed

    def schedule_prune(self, at: float | None = None) -> None:
        """Enqueue the prune due at ``at`` (now if ``None``), once per period however often asked."""
        due = time.time() if at is None else at
        period = int(due // self.settings.prune_every)
        self.jobs.enqueue([NewJob(PRUNE, due_at=due, dedupe_key=f"{PRUNE}:{period}")])

    # -- the job kinds -----------------------------------------------------

    def kinds(self) -> list[JobKind]:
        """``push.fanout``, ``push.send`` and ``push.prune`` (the first prune is enqueued now)."""
        try:
            self.schedule_prune()
        except Exception:
            logger.warning("push: could not schedule the device prune", exc_info=True)

        def send(job: Job) -> None:
            self.send(int(job.payload["delivery_id"]), last_attempt=job.attempts >= job.max_attempts)

        return [
            JobKind(FANOUT, handler=lambda job: self._fan_out_job(job), reaction=self.react),
            JobKind(SEND, handler=send, max_attempts=self.settings.max_attempts),
            JobKind(PRUNE, handler=lambda job: self._prune_job(), max_attempts=3),
        ]

    def _fan_out_job(self, job: Job) -> None:
        self.fan_out(int(job.payload["event_id"]))

    def _prune_job(self) -> None:
        self.prune()


def _with(attempt: NewAttempt, status: DeliveryStatus) -> NewAttempt:
    return dataclasses.replace(attempt, status=status)
