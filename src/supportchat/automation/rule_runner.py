"""Automation rules at work: the job kinds that run them on desk events and at their time, and the dry run.

:class:`RuleRunner` reads the enabled rules from the automation store and,
for every desk event a person or a user caused, builds the ticket's
:class:`~.engine.Facts` and runs :func:`~.engine.cascade` with an ``apply``
that writes the actions through the desk as its own agent (the bot's id, or
another) — replies are canned responses, expanded for the ticket and marked
``automated``; tags and notes go through the desk's own methods, transfers
through the teams capability (an agent's availability and capacity honoured
unless the action says ``force``), notifications to the runner's notifiers.
Every firing is recorded with its rule's id and version.

The facts a rule reads include the ticket's tags (as they were at the instant,
from the record of changes), its channel (the email channel's record of the mail
that opened it) and the SLA calendars whose working hours the instant falls in.

SLA warnings and breaches reach the rules from the desk's event log, where the
SLA logs each firing (``sla_warning`` / ``sla_breached``): the rules judge them
at the instant the SLA fired, not when the job runs.

Events the rules themselves caused (a message marked ``automated``, a change
recorded as the rules' agent) are skipped when they come back from the event
log: their consequences were decided in the cascade that made them, where the
chain rules (no self-trigger, bounded depth) apply.

A time trigger ("pending 48 h") is a scheduled job per rule, ticket and last
change, due at the change plus the rule's duration; when it runs it fires only
if the ticket has not changed since, so a reply by an agent before then
cancels it. Its instant is the job's due time, so a late worker (a restart)
fires it once, when it comes back.

:meth:`RuleRunner.dry_run` replays rules over the event log of a past range,
rebuilding each ticket's facts as they were from its record of changes and its
messages, and cascades with :func:`~.engine.apply_to_facts`: what it lists is
what the live run does on that history, and it writes nothing.
"""

from __future__ import annotations

import contextlib
import heapq
import importlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ..desk import SupportDesk
from ..errors import AgentAtCapacity, AgentUnavailable, Conflict, ExtensionUnavailable, NotFound, ValidationError
from ..extensions import extension
from ..jobs import Job, JobKind, JobStore, NewJob, PermanentFailure
from ..models import Actor, ActorKind, EventRecord, EventType, Message, SenderType, Ticket, TicketChange
from ..notify import Delivery, DeliveryStatus, Notifier
from ..people import directories_of
from .base import AutomationStore
from .engine import (
    Acknowledgement,
    Action,
    ActionKind,
    Event,
    Facts,
    Firing,
    Happening,
    Limits,
    Rule,
    TimeTrigger,
    apply_to_facts,
    cascade,
    time_instants,
)
from .service import Automation, template_values
from .templates import check_template, render

__all__ = [
    "NOTIFY_KIND_PREFIX",
    "RULES_KIND",
    "SLA_EVENTS",
    "SUPPORTED_ACTIONS",
    "TIME_KIND",
    "RuleRunner",
    "check_references",
    "check_supported",
]

logger = logging.getLogger("supportchat.automation")

RULES_KIND = "automation.rules"
TIME_KIND = "automation.rules.time"
#: A ``notify`` action's delivery through one notifier: this prefix and the notifier's name.
NOTIFY_KIND_PREFIX = "automation.notify."
#: What the desk can do for a rule.
SUPPORTED_ACTIONS = frozenset(ActionKind)
_EVENTS: dict[str, Event] = {
    EventType.TICKET_CREATED: Event.TICKET_CREATED,
    EventType.TICKET_UPDATED: Event.TICKET_UPDATED,
    EventType.MESSAGE_CREATED: Event.MESSAGE_CREATED,
}
#: The SLA's event names, which the rules take from either source (the SLA's events, or the event log).
SLA_EVENTS = frozenset({Event.SLA_WARNING.value, Event.SLA_BREACHED.value})
_HOUR = timedelta(hours=1)
#: The smallest step of time: what "just before" an instant means.
_INSTANT = timedelta(microseconds=1)
#: How long a calendar must be working from an instant for the instant to count as in business hours.
_HOURS_PROBE = timedelta(seconds=1)


def _triggering(record: EventRecord) -> Event | None:
    """The rule event a logged event is, if rules react to it (the SLA's included, by their type's name)."""
    if record.type in _EVENTS:
        return _EVENTS[record.type]
    return Event(str(record.type)) if str(record.type) in SLA_EVENTS else None


def check_supported(rule: Rule) -> None:
    """Refuse a rule with an action the desk cannot take (a clear 422 when it is saved)."""
    for action in rule.actions:
        if action.kind not in SUPPORTED_ACTIONS:
            raise ValidationError(
                "actions",
                f"{action.kind.value} is not available",
                allowed=sorted(a.value for a in SUPPORTED_ACTIONS),
            )


def _calendar_names(desk: SupportDesk) -> set[str] | None:
    """The SLA feature's calendars by name, ``None`` if the store keeps no SLA."""
    from ..sla import SlaStore

    try:
        sla: SlaStore = extension(desk.store, SlaStore)  # type: ignore[type-abstract]
    except ExtensionUnavailable:
        return None
    return {c.name for c in sla.calendars()}


def check_references(desk: SupportDesk, rule: Rule) -> None:
    """Refuse a rule naming what does not exist: a canned response, a calendar, a team; a note's bad variable."""
    canned: list[int] = []
    calendars = [c.calendar for c in rule.conditions if c.calendar is not None]
    for action in rule.actions:
        if action.kind is ActionKind.REPLY:
            canned.append(int(action.value))
        elif action.kind is ActionKind.ACKNOWLEDGE:
            ack = Acknowledgement.model_validate(action.value)
            canned.extend([*ack.inside.values(), *ack.outside.values()])
            calendars.append(ack.calendar)
        elif action.kind is ActionKind.ADD_NOTE:
            check_template(str(action.value))
        elif action.kind is ActionKind.TRANSFER and "team" in action.value:
            from ..teams.base import team_store

            try:
                known = {t.name for t in team_store(desk.store).list_teams()}
            except ExtensionUnavailable:
                raise ValidationError("actions", "transfer to a team needs the teams capability") from None
            if action.value["team"] not in known:
                raise ValidationError("actions", f"no team {action.value['team']!r}", allowed=sorted(known))
    store = extension(desk.store, AutomationStore)  # type: ignore[type-abstract]
    for canned_id in canned:
        try:
            store.get_canned(canned_id)
        except NotFound:
            raise ValidationError("actions", f"no canned response {canned_id}") from None
    if calendars:
        known_calendars = _calendar_names(desk)
        if known_calendars is None:
            raise ValidationError("calendar", "business hours need the SLA feature's calendars")
        for name in calendars:
            if name not in known_calendars:
                raise ValidationError("calendar", f"no calendar {name!r}", allowed=sorted(known_calendars))


class RuleRunner:
    """Runs ``desk``'s automation rules, writing as agent ``agent_id``."""

    def __init__(
        self,
        desk: SupportDesk,
        *,
        agent_id: int,
        limits: Limits | None = None,
        clock: Callable[[], datetime] | None = None,
        notifiers: Sequence[Notifier] = (),
    ) -> None:
        self.desk = desk
        self.actor = Actor.admin(agent_id)
        self.limits = limits or Limits()
        self.automation: AutomationStore = extension(desk.store, AutomationStore)  # type: ignore[type-abstract]
        self._clock = clock or (lambda: datetime.now(UTC))
        #: Who a ``notify`` action tells (none: the action is recorded, nobody is told).
        self.notifiers = {notifier.name: notifier for notifier in notifiers}

    def kinds(self) -> list[JobKind]:
        # Resolved now, when a worker is assembled: the directories' first import takes seconds, and
        # would otherwise make the first reply after a (re)start late by as much.
        directories_of(self.desk)
        # The same for the modules the facts import lazily (the email channel's record, the SLA's calendars).
        for module in (".mail", ".sla.business_time", ".sla.policy"):
            with contextlib.suppress(ImportError):
                importlib.import_module(module, "supportchat")
        return [
            JobKind(RULES_KIND, self.handle_event, reaction=self.reaction),
            JobKind(TIME_KIND, self.handle_time),
            *(
                JobKind(NOTIFY_KIND_PREFIX + name, _deliverer(notifier), pause_on_failure=True)
                for name, notifier in self.notifiers.items()
            ),
        ]

    @staticmethod
    def reaction(event: EventRecord) -> Mapping[str, Any] | None:
        if _triggering(event) is None:
            return None
        payload: dict[str, Any] = {
            "ticket_id": event.ticket_id,
            "type": str(event.type),
            "message_id": event.message_id,
        }
        if str(event.type) in SLA_EVENTS:
            payload["at"] = event.created_at.isoformat()  # the instant the SLA fired
        return payload

    def rules(self) -> list[Rule]:
        return [Rule.model_validate(stored.definition) for stored in self.automation.list_rules() if stored.enabled]

    # -- facts ------------------------------------------------------------------

    def facts(
        self, ticket: Ticket, messages: Sequence[Message], changes: Sequence[TicketChange], at: datetime
    ) -> Facts:
        """The ticket's facts at ``at`` from the ticket now, its messages and its record of changes."""
        state = {"status": ticket.status.value, "priority": ticket.priority.value, "assigned_to": ticket.assigned_to}
        changed_at = ticket.created_at
        # Roll back the changes made after ``at`` (newest first), so the state is as it was then.
        for change in sorted(changes, key=lambda c: c.id, reverse=True):
            if change.changed_at > at and change.field in state:
                old = change.old_value
                state[change.field] = int(old) if change.field == "assigned_to" and old not in (None, "") else old
        for change in changes:
            if change.changed_at <= at:
                changed_at = max(changed_at, change.changed_at)
        before = [m for m in messages if m.created_at <= at]
        for message in before:
            changed_at = max(changed_at, message.created_at)
        users = [m for m in before if m.sender_type is SenderType.USER]
        latest = before[-1] if before else None
        tags = set(self.desk.store.ticket_tags([ticket.id]).get(ticket.id, ()))
        for change in sorted(changes, key=lambda c: c.id, reverse=True):
            if change.changed_at > at and change.field == "tags":
                tags = set((change.old_value or "").split())
        return Facts(
            status=str(state["status"]),
            priority=str(state["priority"]),
            category=ticket.category.value,
            assigned_to=state["assigned_to"],  # type: ignore[arg-type]
            message=users[-1].message if users else f"{ticket.subject}\n{ticket.description}",
            sender="automation"
            if latest is not None and latest.automated
            else "user"
            if latest is None or latest.sender_type is SenderType.USER
            else "admin",
            changed_at=changed_at,
            automatic_messages_last_hour=sum(1 for m in before if m.automated and m.created_at > at - _HOUR),
            tags=frozenset(tags),
            channel=self._channel(ticket),
            working_calendars=self._working_calendars(at),
        )

    def _channel(self, ticket: Ticket) -> str:
        """``email`` for a ticket a mail opened (the email channel's record), else ``app``."""
        from ..mail import MailStore
        from ..mail.base import OPENS_TICKET

        try:
            mail: MailStore = extension(self.desk.store, MailStore)  # type: ignore[type-abstract]
        except ExtensionUnavailable:
            return "app"
        records = mail.for_ticket(ticket.id, ticket.ticket_number, limit=50)
        opened = any(r.direction == "in" and r.outcome in OPENS_TICKET and r.ticket_id == ticket.id for r in records)
        return "email" if opened else "app"

    def _working_calendars(self, at: datetime) -> frozenset[str]:
        """The SLA calendars whose working hours ``at`` falls in (the pure business-time rule decides)."""
        from ..sla import SlaStore
        from ..sla.business_time import spans
        from ..sla.policy import calendar

        try:
            sla: SlaStore = extension(self.desk.store, SlaStore)  # type: ignore[type-abstract]
        except ExtensionUnavailable:
            return frozenset()
        return frozenset(c.name for c in sla.calendars() if spans(calendar(c), at, at + _HOURS_PROBE))

    def _history(self, ticket_id: int) -> tuple[Ticket, list[Message], list[TicketChange]]:
        ticket = self.desk.store.get_ticket(ticket_id)
        if ticket is None:
            raise PermanentFailure(f"ticket {ticket_id} is gone")
        return ticket, self.desk.store.list_messages(ticket_id), self.desk.history(Actor.system(), ticket_id)

    def caused_by_rules(
        self, event_type: str, message_id: int | None, messages: Sequence[Message], changes: Sequence[TicketChange]
    ) -> bool:
        """Whether a logged event was the rules' own doing (then the cascade that made it already went on)."""
        if event_type == EventType.MESSAGE_CREATED.value:
            message = next((m for m in messages if m.id == message_id), None)
            return message is not None and message.automated
        if event_type == EventType.TICKET_UPDATED.value and changes:
            last = max(changes, key=lambda c: c.id)
            return last.changed_by_kind is ActorKind.ADMIN and last.changed_by == self.actor.id
        return False

    # -- live -------------------------------------------------------------------

    def handle_event(self, job: Job) -> None:
        ticket, messages, changes = self._history(int(job.payload["ticket_id"]))
        kind = str(job.payload["type"])
        if self.caused_by_rules(kind, job.payload.get("message_id"), messages, changes):
            return
        rules = self.rules()
        at = datetime.fromisoformat(str(job.payload["at"])) if "at" in job.payload else self._clock()
        firings = cascade(
            rules,
            Happening(Event(kind), ticket.id, at),
            self.facts(ticket, messages, changes, at),
            self._apply,
            self.limits,
        )
        self._record(firings)
        self._schedule(rules, ticket.id)

    def handle_time(self, job: Job) -> None:
        ticket, messages, changes = self._history(int(job.payload["ticket_id"]))
        rule_id, due = int(job.payload["rule_id"]), datetime.fromisoformat(str(job.payload["due"]))
        if any(
            f.rule_id == rule_id and f.at == due
            for f in self.automation.list_firings(ticket_id=ticket.id, limit=10_000)
        ):
            return  # fired already (a job run again)
        facts = self.facts(ticket, messages, changes, self._clock())
        firings = cascade(
            self.rules(), Happening(Event.TIME, ticket.id, due, only=rule_id), facts, self._apply, self.limits
        )
        self._record(firings)

    def _schedule(self, rules: Sequence[Rule], ticket_id: int) -> None:
        ticket, messages, changes = self._history(ticket_id)
        changed_at = self.facts(ticket, messages, changes, self._clock()).changed_at
        assert changed_at is not None
        jobs = [
            NewJob(
                TIME_KIND,
                {"ticket_id": ticket_id, "rule_id": rule.id, "due": due.isoformat()},
                due_at=due.timestamp(),
                dedupe_key=f"{TIME_KIND}:{rule.id}:{rule.version}:{ticket_id}:{changed_at.isoformat()}",
            )
            for rule, due in time_instants(rules, changed_at)
        ]
        if jobs:
            extension(self.desk.store, JobStore).enqueue(jobs)  # type: ignore[type-abstract]

    def _record(self, firings: Sequence[Firing]) -> None:
        self.automation.record_firings(
            [
                {
                    "rule_id": f.rule_id,
                    "rule_version": f.rule_version,
                    "ticket_id": f.ticket_id,
                    "at": f.at,
                    "actions": [a.model_dump(mode="json") for a in f.actions],
                    "dropped": [a.model_dump(mode="json") for a in f.dropped],
                    "chain": list(f.chain),
                }
                for f in firings
            ]
        )

    def _apply(self, firing: Firing, facts: Facts) -> tuple[list[Event], Facts]:
        refused: list[Action] = []
        for index, action in enumerate(firing.actions):
            try:
                if action.kind is ActionKind.SET_PRIORITY and facts.priority != action.value:
                    self.desk.set_priority(self.actor, firing.ticket_id, action.value)
                elif action.kind is ActionKind.SET_STATUS and facts.status != action.value:
                    self.desk.change_status(self.actor, firing.ticket_id, action.value)
                elif action.kind is ActionKind.ASSIGN and facts.assigned_to != action.value:
                    self.desk.assign(self.actor, firing.ticket_id, action.value)
                elif action.kind in (ActionKind.REPLY, ActionKind.ACKNOWLEDGE):
                    canned = self._canned_for(action, firing.ticket_id, facts)
                    text = Automation(self.desk).expand(Actor.system(), canned, firing.ticket_id)
                    self.desk.post_message(
                        self.actor,
                        firing.ticket_id,
                        text,
                        automated=True,
                        client_message_id=f"rule-{firing.rule_id}-{firing.ticket_id}-{int(firing.at.timestamp())}-{index}",
                    )
                elif action.kind is ActionKind.ADD_TAGS:
                    self.desk.add_tags(self.actor, firing.ticket_id, list(action.value))
                elif action.kind is ActionKind.REMOVE_TAGS:
                    self.desk.remove_tags(self.actor, firing.ticket_id, list(action.value))
                elif action.kind is ActionKind.ADD_NOTE:
                    self.desk.add_note(self.actor, firing.ticket_id, self._filled(str(action.value), firing.ticket_id))
                elif action.kind is ActionKind.TRANSFER:
                    self._transfer(firing, action.value)
                elif action.kind is ActionKind.NOTIFY:
                    self._notify(firing, index, action.value)
            except (AgentUnavailable, AgentAtCapacity):
                # The rule honours availability and capacity: the ticket stays where it was.
                logger.info("rule %s: transfer of ticket %s refused", firing.rule_id, firing.ticket_id, exc_info=True)
                refused.append(action)
            except Conflict:
                continue  # a closed ticket, a transition the lifecycle refuses: the next action still runs
            except (ValidationError, NotFound):
                # A canned response or team deleted since the rule was saved, a contact with no name on file.
                logger.warning("rule %s: %s on ticket %s failed", firing.rule_id, action.kind, firing.ticket_id)
        done = firing if not refused else replace(firing, actions=tuple(a for a in firing.actions if a not in refused))
        return apply_to_facts(done, facts)

    def _canned_for(self, action: Action, ticket_id: int, facts: Facts) -> int:
        if action.kind is ActionKind.REPLY:
            return int(action.value)
        ack = Acknowledgement.model_validate(action.value)
        ticket = self.desk.store.get_ticket(ticket_id)
        contact = directories_of(self.desk).contacts.get_contact(ticket.user_id) if ticket else None
        locale = (contact.locale or "") if contact else ""
        return ack.canned_for(working=ack.calendar in facts.working_calendars, language=locale[:2].lower() or None)

    def _filled(self, text: str, ticket_id: int) -> str:
        ticket = self.desk.get_ticket(Actor.system(), ticket_id, mark_read=False, limit=1)
        return render(check_template(text), template_values(self.desk, ticket, self.actor.id))

    def _transfer(self, firing: Firing, target: Mapping[str, Any]) -> None:
        from ..teams.service import team_desk

        team_desk(self.desk).transfer(
            self.actor,
            firing.ticket_id,
            to=target.get("agent"),
            team=target.get("team"),
            reason=f"automation rule {firing.rule_id} (version {firing.rule_version})",
            force=bool(target.get("force", False)),
        )

    def _notify(self, firing: Firing, index: int, value: Mapping[str, Any]) -> None:
        if not self.notifiers:
            logger.info("rule %s: notify on ticket %s, but no notifier is configured", firing.rule_id, firing.ticket_id)
            return
        ticket = self.desk.store.get_ticket(firing.ticket_id)
        document = {
            "type": "rule_notification",
            "ticket_id": firing.ticket_id,
            "ticket_number": ticket.ticket_number if ticket else None,
            "rule_id": firing.rule_id,
            "rule_version": firing.rule_version,
            "text": self._filled(str(value["text"]), firing.ticket_id),
            "notify": list(value.get("agents", [])),
            "at": firing.at.isoformat(),
        }
        key = f"{firing.rule_id}:{firing.ticket_id}:{firing.at.isoformat()}:{index}"
        jobs: JobStore = extension(self.desk.store, JobStore)  # type: ignore[type-abstract]
        jobs.enqueue(
            [
                NewJob(NOTIFY_KIND_PREFIX + name, {"notice": document}, dedupe_key=f"{NOTIFY_KIND_PREFIX}{name}:{key}")
                for name in self.notifiers
            ]
        )

    # -- the dry run --------------------------------------------------------------

    def dry_run(self, rules: Sequence[Rule], since: datetime, until: datetime) -> list[Firing]:
        """What ``rules`` would have done between ``since`` and ``until``, on events and at time instants.

        Writes nothing. Events are replayed as :meth:`handle_event` takes them;
        after each, the time instants :meth:`_schedule` would have set (from the
        ticket's last change once the rules' own writes were done) are replayed
        in time order among the events, as :meth:`handle_time` takes them, on the
        ticket's facts at the instant. Events before ``since`` within the longest
        time trigger are read too: an instant in the range may come from them.
        """
        lookback = max(
            (rule.trigger.after for rule in rules if isinstance(rule.trigger, TimeTrigger)), default=timedelta(0)
        )
        shortest = min(
            (rule.trigger.after for rule in rules if isinstance(rule.trigger, TimeTrigger)), default=timedelta(0)
        )
        histories: dict[int, tuple[Ticket, list[Message], list[TicketChange]]] = {}
        handled: list[EventRecord] = []
        for event in self._events_between(since - lookback, until):
            if event.ticket_id not in histories:
                histories[event.ticket_id] = self._history(event.ticket_id)
            if not self._rules_event(event, histories[event.ticket_id]):
                handled.append(event)
        next_handled: dict[int, datetime] = {}
        follows: list[datetime | None] = [None] * len(handled)
        for position in range(len(handled) - 1, -1, -1):
            event = handled[position]
            follows[position] = next_handled.get(event.ticket_id)
            next_handled[event.ticket_id] = event.created_at

        firings: list[Firing] = []
        instants: list[tuple[datetime, int, int]] = []  # (due, ticket id, rule id), a heap
        set_already: set[tuple[datetime, int, int]] = set()

        def replay_instants(upto: datetime) -> None:
            while instants and instants[0][0] <= upto:
                due, ticket_id, rule_id = heapq.heappop(instants)
                if due < since:
                    continue
                ticket, messages, changes = histories[ticket_id]
                facts = self.facts(ticket, messages, changes, due)
                firings.extend(
                    cascade(
                        rules, Happening(Event.TIME, ticket_id, due, only=rule_id), facts, apply_to_facts, self.limits
                    )
                )

        for event, following in zip(handled, follows, strict=True):
            replay_instants(event.created_at)
            ticket, messages, changes = histories[event.ticket_id]
            if since <= event.created_at:
                # The message or change the event announced, and nothing after it.
                upto = [m for m in messages if event.message_id is None or m.id <= event.message_id]
                firings.extend(
                    cascade(
                        rules,
                        Happening(_EVENTS[event.type], ticket.id, event.created_at),
                        self.facts(ticket, upto, changes, event.created_at),
                        apply_to_facts,
                        self.limits,
                    )
                )
            if shortest:
                # The ticket's last change once the rules' writes for this event were done: before the
                # ticket's next event, and before any instant this event sets.
                settled_by = event.created_at + shortest
                if following is not None:
                    settled_by = min(settled_by, following)
                settled = self.facts(ticket, messages, changes, settled_by - _INSTANT).changed_at or event.created_at
                for rule, due in time_instants(rules, max(settled, event.created_at)):
                    if (due, ticket.id, rule.id) not in set_already:
                        set_already.add((due, ticket.id, rule.id))
                        heapq.heappush(instants, (due, ticket.id, rule.id))
        replay_instants(until)
        return firings

    def _events_between(self, since: datetime, until: datetime) -> Iterator[EventRecord]:
        """The event log's events the rules react to, created between ``since`` and ``until``, in order."""
        after = 0
        while events := self.desk.store.events_after(after, limit=500):
            for event in events:
                after = event.id
                if event.type in _EVENTS and since <= event.created_at <= until:
                    yield event

    def _rules_event(self, event: EventRecord, history: tuple[Ticket, list[Message], list[TicketChange]]) -> bool:
        """Whether the rules caused ``event`` (judged on the history up to it, as the live run judged it)."""
        _ticket, messages, changes = history
        upto = [m for m in messages if event.message_id is None or m.id <= event.message_id]
        done = [c for c in changes if c.changed_at <= event.created_at]
        return self.caused_by_rules(str(event.type), event.message_id, upto, done)


def _deliverer(notifier: Notifier) -> Callable[[Job], None]:
    """A ``notify`` action's job, handed to ``notifier`` as a delivery of its document."""

    def deliver(job: Job) -> None:
        notice = job.payload["notice"]
        notifier.deliver(
            Delivery(job.id, notifier.name, job.id, notice, DeliveryStatus.SENDING, job.attempts - 1, None)
        )

    return deliver
