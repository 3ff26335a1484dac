"""Automation rules at work: the job kinds that run them on desk events and at their time, and the dry run.

:class:`RuleRunner` reads the enabled rules from the automation store and,
for every desk event a person or a user caused, builds the ticket's
:class:`~.engine.Facts` and runs :func:`~.engine.cascade` with an ``apply``
that writes the actions through the desk as its own agent (the bot's id, or
another) — replies are canned responses, expanded for the ticket and marked
``automated``. Every firing is recorded with its rule's id and version.

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

import heapq
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..desk import SupportDesk
from ..errors import Conflict
from ..extensions import extension
from ..jobs import Job, JobKind, JobStore, NewJob, PermanentFailure
from ..models import Actor, ActorKind, EventRecord, EventType, Message, SenderType, Ticket, TicketChange
from ..people import directories_of
from .base import AutomationStore
from .engine import (
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
from .service import Automation

__all__ = ["RULES_KIND", "SUPPORTED_ACTIONS", "TIME_KIND", "RuleRunner", "check_supported"]

RULES_KIND = "automation.rules"
TIME_KIND = "automation.rules.time"
#: What the desk can do for a rule today (tags, notes, transfer and notify come with their features).
SUPPORTED_ACTIONS = frozenset({ActionKind.SET_PRIORITY, ActionKind.SET_STATUS, ActionKind.ASSIGN, ActionKind.REPLY})
_EVENTS: dict[str, Event] = {
    EventType.TICKET_CREATED: Event.TICKET_CREATED,
    EventType.TICKET_UPDATED: Event.TICKET_UPDATED,
    EventType.MESSAGE_CREATED: Event.MESSAGE_CREATED,
}
_HOUR = timedelta(hours=1)
#: The smallest step of time: what "just before" an instant means.
_INSTANT = timedelta(microseconds=1)


def check_supported(rule: Rule) -> None:
    """Refuse a rule with an action the desk cannot take yet (a clear 422 when it is saved)."""
    from ..errors import ValidationError

    for action in rule.actions:
        if action.kind not in SUPPORTED_ACTIONS:
            raise ValidationError(
                "actions",
                f"{action.kind.value} is not available yet",
                allowed=sorted(a.value for a in SUPPORTED_ACTIONS),
            )


class RuleRunner:
    """Runs ``desk``'s automation rules, writing as agent ``agent_id``."""

    def __init__(
        self,
        desk: SupportDesk,
        *,
        agent_id: int,
        limits: Limits | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.desk = desk
        self.actor = Actor.admin(agent_id)
        self.limits = limits or Limits()
        self.automation: AutomationStore = extension(desk.store, AutomationStore)  # type: ignore[type-abstract]
        self._clock = clock or (lambda: datetime.now(UTC))

    def kinds(self) -> list[JobKind]:
        # Resolved now, when a worker is assembled: the directories' first import takes seconds, and
        # would otherwise make the first reply after a (re)start late by as much.
        directories_of(self.desk)
        return [JobKind(RULES_KIND, self.handle_event, reaction=self.reaction), JobKind(TIME_KIND, self.handle_time)]

    @staticmethod
    def reaction(event: EventRecord) -> Mapping[str, Any] | None:
        if event.type not in _EVENTS:
            return None
        return {"ticket_id": event.ticket_id, "type": str(event.type), "message_id": event.message_id}

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
        )

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
        at = self._clock()
        firings = cascade(
            rules,
            Happening(_EVENTS[EventType(kind)], ticket.id, at),
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
        for index, action in enumerate(firing.actions):
            try:
                if action.kind is ActionKind.SET_PRIORITY and facts.priority != action.value:
                    self.desk.set_priority(self.actor, firing.ticket_id, action.value)
                elif action.kind is ActionKind.SET_STATUS and facts.status != action.value:
                    self.desk.change_status(self.actor, firing.ticket_id, action.value)
                elif action.kind is ActionKind.ASSIGN and facts.assigned_to != action.value:
                    self.desk.assign(self.actor, firing.ticket_id, action.value)
                elif action.kind is ActionKind.REPLY:
                    text = Automation(self.desk).expand(Actor.system(), int(action.value), firing.ticket_id)
                    self.desk.post_message(
                        self.actor,
                        firing.ticket_id,
                        text,
                        automated=True,
                        client_message_id=f"rule-{firing.rule_id}-{firing.ticket_id}-{int(firing.at.timestamp())}-{index}",
                    )
            except Conflict:
                continue  # a closed ticket, a transition the lifecycle refuses: the next action still runs
        return apply_to_facts(firing, facts)

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
