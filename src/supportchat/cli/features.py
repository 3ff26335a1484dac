"""The features the standalone server and the CLI assemble: one list, one line per capability.

Each :class:`~supportchat.features.Feature` brings its routes (mounted by
``serve``), its job kinds (run by ``worker`` and the embedded worker) and
its command group (added to ``supportchat``). Adding a capability to the
standalone product is one line here; the core's files stay as they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..attachments import Attachments
from ..attachments.feature import feature as attachments_feature
from ..automation.bot import Bot
from ..automation.feature import feature as automation_feature
from ..automation.rule_runner import RuleRunner
from ..automation.webhook_bot import WebhookResponder
from ..desk import SupportDesk
from ..features import Feature
from ..jobs import JobKind
from ..jobs.feature import feature as jobs_feature
from ..models import Actor, Ticket
from ..notify import Notifier, WebhookNotifier, notification_kinds
from ..push.feature import feature as push_feature
from ..reports.feature import feature as reports_feature
from ..sla.feature import feature as sla_feature
from ..sla.policy import Facts as SlaFacts
from ..sla.policy import facts_of
from ..store import Store
from ..teams.base import team_store
from ..teams.feature import feature as teams_feature
from ..teams.service import TeamDesk
from .attachments import attachments_app, configured_attachments
from .automation import automation_app
from .jobs import jobs_app
from .mail import configured_mail, mail_app
from .output import UserError
from .push import push_app, push_configured, push_kinds
from .reports import report_app
from .sla import sla_app
from .teams import teams_app

__all__ = [
    "BOT_AGENT_VARIABLE",
    "BOT_WEBHOOK_SECRET_VARIABLE",
    "BOT_WEBHOOK_TIMEOUT_VARIABLE",
    "BOT_WEBHOOK_URL_VARIABLE",
    "RULES_AGENT_VARIABLE",
    "WEBHOOK_SECRET_VARIABLE",
    "WEBHOOK_URL_VARIABLE",
    "configured_bot_service",
    "configured_notifiers",
    "escalate_to_team",
    "installed_features",
    "sla_facts_with_team",
]

WEBHOOK_URL_VARIABLE = "SUPPORTCHAT_WEBHOOK_URL"
WEBHOOK_SECRET_VARIABLE = "SUPPORTCHAT_WEBHOOK_SECRET"
#: The agent id the knowledge-base bot writes as; unset, the bot is off.
BOT_AGENT_VARIABLE = "SUPPORTCHAT_BOT_AGENT_ID"
#: The host's own bot service, answering for the bot instead of the knowledge base (docs/automation.md).
BOT_WEBHOOK_URL_VARIABLE = "SUPPORTCHAT_BOT_WEBHOOK_URL"
BOT_WEBHOOK_SECRET_VARIABLE = "SUPPORTCHAT_BOT_WEBHOOK_SECRET"
#: Seconds one call to the bot service may take (5 by default).
BOT_WEBHOOK_TIMEOUT_VARIABLE = "SUPPORTCHAT_BOT_WEBHOOK_TIMEOUT"
#: The agent id automation rules act as; unset, rules are stored but not run.
RULES_AGENT_VARIABLE = "SUPPORTCHAT_AUTOMATION_AGENT_ID"


def configured_notifiers(environ: Mapping[str, str] = os.environ) -> list[Notifier]:
    """The notifiers the environment configures: a webhook if ``SUPPORTCHAT_WEBHOOK_URL`` is set."""
    url = environ.get(WEBHOOK_URL_VARIABLE)
    if not url:
        return []
    secret = environ.get(WEBHOOK_SECRET_VARIABLE)
    if not secret:
        raise UserError(f"{WEBHOOK_URL_VARIABLE} is set: set {WEBHOOK_SECRET_VARIABLE} too (receivers verify with it)")
    try:
        return [WebhookNotifier(url, secret)]
    except ValueError as exc:
        raise UserError(f"{WEBHOOK_URL_VARIABLE}: {exc}") from None


def configured_bot_service(environ: Mapping[str, str] = os.environ) -> WebhookResponder | None:
    """The host's bot service if ``SUPPORTCHAT_BOT_WEBHOOK_URL`` is set (the bot asks it, not the knowledge base)."""
    url = environ.get(BOT_WEBHOOK_URL_VARIABLE)
    if not url:
        return None
    secret = environ.get(BOT_WEBHOOK_SECRET_VARIABLE)
    if not secret:
        raise UserError(
            f"{BOT_WEBHOOK_URL_VARIABLE} is set: set {BOT_WEBHOOK_SECRET_VARIABLE} too (the service verifies with it)"
        )
    timeout = environ.get(BOT_WEBHOOK_TIMEOUT_VARIABLE, "5")
    try:
        return WebhookResponder(url, secret, timeout=float(timeout))
    except ValueError as exc:
        raise UserError(f"{BOT_WEBHOOK_URL_VARIABLE}: {exc}") from None


def _configured_notifications(store: Store) -> list[JobKind]:
    # Read when a runner is built, not when the CLI starts: `supportchat tickets list`
    # must not fail over a webhook variable it does not use.
    return notification_kinds(store, configured_notifiers())


def _agent_id(variable: str, environ: Mapping[str, str]) -> int | None:
    agent = environ.get(variable)
    if not agent:
        return None
    if not agent.isdigit() or int(agent) < 1:
        raise UserError(f"{variable} must be an agent id (a positive integer), not {agent!r}")
    return int(agent)


def _configured_automation(store: Store, environ: Mapping[str, str] = os.environ) -> list[JobKind]:
    kinds: list[JobKind] = []
    if (bot := _agent_id(BOT_AGENT_VARIABLE, environ)) is not None:
        kinds.append(Bot(SupportDesk(store), agent_id=bot, responder=configured_bot_service(environ)).kind())
    if (rules := _agent_id(RULES_AGENT_VARIABLE, environ)) is not None:
        kinds.extend(RuleRunner(SupportDesk(store), agent_id=rules).kinds())
    return kinds


def _mail_feature(attachments: Attachments) -> Feature:
    # The channel's routes need its settings now; its command group is there either way (`mail status`).
    settings = configured_mail()
    if settings is None:
        return Feature("mail", commands=mail_app)
    from ..mail.feature import feature as mail_feature

    return mail_feature(settings, attachments=attachments, commands=mail_app)


# -- how the installed features serve each other -------------------------------------


def escalate_to_team(desk: SupportDesk, ticket_id: int, team: str) -> None:
    """The SLA's ``assign_team`` escalation, as a forced transfer by the desk itself."""
    TeamDesk(desk).transfer(Actor.system(), ticket_id, team=team, reason="SLA escalation", force=True)


def sla_facts_with_team(desk: SupportDesk, ticket: Ticket) -> SlaFacts:
    """A ticket's SLA facts with its team (policies may be chosen by team)."""
    facts = facts_of(ticket)
    team = team_store(desk.store).ticket_teams([ticket.id]).get(ticket.id)
    return SlaFacts(priority=facts.priority, category=facts.category, tags=facts.tags, team=team)


def installed_features() -> list[Feature]:
    """The features of the standalone product (their job kinds read the environment when asked)."""
    automation = automation_feature(commands=automation_app)
    attachments = configured_attachments()  # one for both: mail's files are served as the uploads are
    return [
        jobs_feature(commands=jobs_app),
        Feature("notify", job_kinds=_configured_notifications),
        Feature(
            automation.name,
            routes=automation.routes,
            job_kinds=_configured_automation,
            commands=automation.commands,
            event_types=automation.event_types,
        ),
        _mail_feature(attachments),
        push_feature(push_kinds, configured=push_configured(), commands=push_app),
        teams_feature(configured_notifiers, commands=teams_app),
        reports_feature(commands=report_app),
        sla_feature(commands=sla_app, assign_team=escalate_to_team, facts=sla_facts_with_team),
        attachments_feature(attachments, commands=attachments_app),
    ]
