"""Rules on a real desk through the job runner: event rules, chains, the cap, time triggers, and the dry run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportchat import Actor, SupportDesk
from supportchat.automation.engine import Limits, Rule
from supportchat.automation.rule_runner import TIME_KIND, RuleRunner
from supportchat.automation.service import Automation
from supportchat.jobs import JobRunner, JobStatus
from supportchat.models import Priority, TicketStatus
from supportchat.stores import InMemoryStore

AGENT = 950
USER = Actor.user(21)


def _rule(rule_id: int, **fields: object) -> Rule:
    return Rule.model_validate({"id": rule_id, "name": f"rule {rule_id}", **fields})


class SteppingClock:
    """A clock the test moves; each reading is a millisecond after the last, so no two writes share an instant."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def _desk(
    rules: list[Rule], limits: Limits | None = None, clock: SteppingClock | None = None
) -> tuple[SupportDesk, RuleRunner, JobRunner]:
    desk = SupportDesk(InMemoryStore(), clock=clock) if clock else SupportDesk(InMemoryStore())
    automation = Automation(desk)
    automation.add_canned(
        Actor.system(), {"short_code": "ack", "title": "Ack", "content": "Recibido {{ticket.number}}"}
    )
    runner = RuleRunner(desk, agent_id=AGENT, limits=limits, clock=clock)
    for rule in rules:
        definition = rule.model_dump(mode="json", exclude={"id", "version", "enabled"})
        runner.automation.add_rule(definition, enabled=True)  # the store gives the id
    jobs = JobRunner(desk.store, runner.kinds(), poll_interval=0.05)
    jobs.start_cursors()
    return desk, runner, jobs


def _drain(jobs: JobRunner) -> None:
    for _ in range(50):
        if jobs.run_once() == 0:
            return


def _stored_rules(runner: RuleRunner) -> list[Rule]:
    return runner.rules()


def _wait(clock: SteppingClock, runner: RuleRunner, jobs: JobRunner, delta: timedelta) -> None:
    """Let ``delta`` pass on ``clock``: each time job due by then runs at its instant, in order, as a worker would.

    The clock is years ahead of the wall clock, so the job runner never takes a
    time job by itself; the test takes each at its instant.
    """
    target = clock.now + delta
    while True:
        due = [
            job
            for job in jobs.jobs.list_jobs(kind=TIME_KIND, status=JobStatus.PENDING)
            if datetime.fromisoformat(job.payload["due"]) <= target
        ]
        if not due:
            break
        instant = min(datetime.fromisoformat(job.payload["due"]) for job in due)
        clock.now = instant
        for job in jobs.jobs.claim("test", kinds=[TIME_KIND], lease=60, limit=100, now=instant.timestamp()):
            runner.handle_time(job)
            jobs.jobs.complete(job, "test", now=instant.timestamp())
        _drain(jobs)
    clock.now = max(clock.now, target)


def test_an_urgent_ticket_is_assigned_and_acknowledged_and_the_firing_recorded_with_its_version() -> None:
    desk, runner, jobs = _desk(
        [
            _rule(
                1,
                trigger={"kind": "event", "events": ["ticket_created"]},
                conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
                actions=[{"kind": "assign", "value": 5}, {"kind": "reply", "value": 1}],
            )
        ]
    )
    urgent = desk.create_ticket(USER, subject="Caído", description="Nada funciona", priority="urgent")
    calm = desk.create_ticket(USER, subject="Duda", description="Una pregunta", priority="low")
    _drain(jobs)
    assert desk.store.get_ticket(urgent.id).assigned_to == 5  # type: ignore[union-attr]
    (ack,) = desk.store.list_messages(urgent.id)
    assert ack.automated and ack.message == f"Recibido {urgent.ticket_number}" and ack.sender_id == AGENT
    assert desk.store.get_ticket(calm.id).assigned_to is None  # type: ignore[union-attr]
    (firing,) = runner.automation.list_firings()
    assert (firing.rule_id, firing.rule_version, firing.ticket_id) == (runner.rules()[0].id, 1, urgent.id)


def test_rules_do_not_loop_and_replies_stop_at_the_cap() -> None:
    # Each rule's change triggers the other; an endless ping-pong without the chain rules.
    desk, runner, jobs = _desk(
        [
            _rule(
                1,
                trigger={"kind": "event", "events": ["message_created", "ticket_updated"]},
                actions=[{"kind": "set_priority", "value": "high"}, {"kind": "reply", "value": 1}],
            ),
            _rule(
                2,
                trigger={"kind": "event", "events": ["ticket_updated", "message_created"]},
                actions=[{"kind": "set_priority", "value": "low"}, {"kind": "reply", "value": 1}],
            ),
        ],
        Limits(messages_per_hour=2),
    )
    ticket = desk.create_ticket(USER, subject="Hola", description="Prueba")
    for text in ("uno", "dos", "tres"):
        desk.post_message(USER, ticket.id, text)
        _drain(jobs)
    automated = [m for m in desk.store.list_messages(ticket.id) if m.automated]
    assert len(automated) == 2, "at most two automatic messages per ticket per hour"
    for firing in runner.automation.list_firings():
        assert firing.rule_id not in firing.chain[:-1] and len(firing.chain) <= 3


def test_a_time_trigger_fires_once_on_time_and_an_agent_reply_before_it_cancels_it() -> None:
    # "Open, and the user's the last word, for 2 s": an agent's reply makes it false.
    desk, _runner, jobs = _desk(
        [
            _rule(
                1,
                trigger={"kind": "time", "after": 2.0},
                conditions=[
                    {"field": "status", "op": "is", "value": "open"},
                    {"field": "sender", "op": "is", "value": "user"},
                ],
                actions=[{"kind": "reply", "value": 1}],
            )
        ]
    )
    waiting = desk.create_ticket(USER, subject="Sin respuesta", description="¿Hola?")
    answered = desk.create_ticket(USER, subject="Con respuesta", description="¿Hola?")
    jobs.start(desk)
    try:
        time.sleep(1.0)
        desk.post_message(Actor.admin(5), answered.id, "Ya estoy aquí")  # one second before the reply is due
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not [m for m in desk.store.list_messages(waiting.id) if m.automated]:
            time.sleep(0.05)
        time.sleep(3.0)  # past the answered ticket's original instant, and its new one
    finally:
        jobs.stop()
    fired = [m for m in desk.store.list_messages(waiting.id) if m.automated]
    assert len(fired) == 1
    late = fired[0].created_at - (waiting.created_at + timedelta(seconds=2))
    assert late < timedelta(seconds=1.5), f"fired {late} after its instant"
    assert not [m for m in desk.store.list_messages(answered.id) if m.automated], "an agent's reply cancels it"


operations = st.lists(
    st.tuples(st.sampled_from(["user_message", "admin_message", "status", "priority", "wait"]), st.integers(0, 2)),
    min_size=1,
    max_size=10,
)
#: The waits between steps: short of the time triggers, just past the shorter one, past both.
WAITS = [timedelta(minutes=10), timedelta(minutes=31), timedelta(hours=3)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.sampled_from(["low", "urgent"]))
def test_the_dry_run_over_a_past_range_lists_exactly_what_the_live_run_did(
    steps: list[tuple[str, int]], first_priority: str
) -> None:
    rules = [
        _rule(
            1,
            trigger={"kind": "event", "events": ["ticket_created", "message_created"]},
            conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
            actions=[{"kind": "reply", "value": 1}, {"kind": "set_status", "value": "in_progress"}],
        ),
        _rule(
            2,
            trigger={"kind": "event", "events": ["ticket_updated"]},
            conditions=[{"field": "status", "op": "is", "value": "in_progress"}],
            actions=[{"kind": "set_priority", "value": "high"}],
        ),
        _rule(
            3,
            trigger={"kind": "event", "events": ["message_created"]},
            conditions=[{"field": "message", "op": "contains", "value": "urgente"}],
            actions=[{"kind": "set_priority", "value": "urgent"}],
        ),
        # "The user's had the last word for 30 min": a reminder to the user.
        _rule(
            4,
            trigger={"kind": "time", "after": 1800},
            conditions=[
                {"field": "status", "op": "is", "value": "open"},
                {"field": "sender", "op": "is", "value": "user"},
            ],
            actions=[{"kind": "reply", "value": 1}],
        ),
        # "Open and unassigned for 2 h": to agent 5, which may start rule 2's chain.
        _rule(
            5,
            trigger={"kind": "time", "after": 7200},
            conditions=[{"field": "assigned_to", "op": "is", "value": None}],
            actions=[{"kind": "assign", "value": 5}, {"kind": "set_status", "value": "in_progress"}],
        ),
    ]
    # Years ahead of the wall clock: time jobs wait for the test's clock, not the runner's.
    clock = SteppingClock(datetime(2036, 3, 2, 9, 0, tzinfo=UTC))
    desk, runner, jobs = _desk(rules, clock=clock)
    start = clock.now
    ticket = desk.create_ticket(USER, subject="Pago", description="No puedo pagar", priority=first_priority)
    _drain(jobs)
    for kind, n in steps:
        try:
            if kind == "user_message":
                desk.post_message(USER, ticket.id, ["hola", "es urgente", "gracias"][n])
            elif kind == "admin_message":
                desk.post_message(Actor.admin(5), ticket.id, "Lo miro")
            elif kind == "status":
                desk.change_status(
                    Actor.admin(5), ticket.id, [TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED][n]
                )
            elif kind == "priority":
                desk.set_priority(Actor.admin(5), ticket.id, [Priority.LOW, Priority.MEDIUM, Priority.URGENT][n])
            else:
                _wait(clock, runner, jobs, WAITS[n])
                continue
        except Exception:
            continue
        _drain(jobs)
    _wait(clock, runner, jobs, timedelta(hours=3))  # every instant set so far comes
    live = [(f.rule_id, f.ticket_id, f.at, f.actions, f.chain) for f in runner.automation.list_firings(limit=10_000)]
    dry = runner.dry_run(runner.rules(), start, clock.now)
    timed = {rule.id for rule in runner.rules() if rule.trigger.kind == "time"}
    assert [
        (
            f.rule_id,
            f.ticket_id,
            f.at if f.rule_id in timed else None,
            [a.model_dump(mode="json") for a in f.actions],
            list(f.chain),
        )
        for f in dry
    ] == [(rule, ticket, at if rule in timed else None, actions, chain) for rule, ticket, at, actions, chain in live]
