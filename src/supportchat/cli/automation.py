"""``supportchat automation …``: canned responses, the bot's knowledge base, what the bot did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import SupportChatError
from ..models import Actor
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, emit_listing, handled, out

__all__ = ["automation_app"]

automation_app = typer.Typer(
    help="Canned responses, the bot's knowledge base and what the bot did.", no_args_is_help=True
)
canned_app = typer.Typer(
    help="Canned responses: /short_code expands to the text in the reply box.", no_args_is_help=True
)
kb_app = typer.Typer(help="The knowledge base the bot answers from.", no_args_is_help=True)
rules_app = typer.Typer(help="Automation rules: triggers, conditions, actions; versioned.", no_args_is_help=True)
ack_app = typer.Typer(
    help="The auto-acknowledgement of new tickets: texts in and out of business hours.", no_args_is_help=True
)
automation_app.add_typer(canned_app, name="canned")
automation_app.add_typer(ack_app, name="ack")
automation_app.add_typer(kb_app, name="kb")
automation_app.add_typer(rules_app, name="rules")

AgentOption = Annotated[
    int | None, typer.Option("--agent", min=1, help="Act as this agent (their personal responses); default: shared.")
]


def _actor(agent: int | None) -> Actor:
    return Actor.admin(agent) if agent is not None else Actor.system()


@canned_app.command("list")
@handled
def canned_list(database_url: DatabaseUrl = None, agent: AgentOption = None, json_output: JsonOutput = False) -> None:
    """The shared responses (and the agent's personal ones with --agent)."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        found = Automation(session.desk).list_canned(_actor(agent))
    emit_listing(
        found,
        json_output=json_output,
        empty="No canned responses.",
        columns=("id", "code", "title", "owner"),
        row=lambda c: (str(c.id), "/" + c.short_code, c.title, "shared" if c.owner_id is None else str(c.owner_id)),
    )


@canned_app.command("add")
@handled
def canned_add(
    short_code: str,
    title: str,
    content: str,
    database_url: DatabaseUrl = None,
    agent: AgentOption = None,
    json_output: JsonOutput = False,
) -> None:
    """Save a response (variables such as {{ticket.number}} are checked now); personal with --agent."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        made = Automation(session.desk).add_canned(
            _actor(agent), {"short_code": short_code, "title": title, "content": content}, personal=agent is not None
        )
    if json_output:
        emit_json(made.model_dump(mode="json"))
    else:
        out().print(f"Saved /{made.short_code} (id {made.id}).", markup=False)


@canned_app.command("remove")
@handled
def canned_remove(canned_id: int, database_url: DatabaseUrl = None, agent: AgentOption = None) -> None:
    """Delete a response."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        Automation(session.desk).delete_canned(_actor(agent), canned_id)
    out().print(f"Deleted canned response {canned_id}.", markup=False)


@kb_app.command("list")
@handled
def kb_list(
    database_url: DatabaseUrl = None,
    language: Annotated[str | None, typer.Option(help="Only es or en.")] = None,
    json_output: JsonOutput = False,
) -> None:
    """The articles of the knowledge base."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        found = Automation(session.desk).store.list_articles(language)
    emit_listing(
        found,
        json_output=json_output,
        empty="The knowledge base is empty.",
        columns=("id", "lang", "title", "tags"),
        row=lambda a: (str(a.id), a.language, a.title, ", ".join(a.tags)),
    )


@kb_app.command("import")
@handled
def kb_import(file: Path, database_url: DatabaseUrl = None) -> None:
    """Add the articles of a JSON file: a list of {"title", "body", "language", "tags"?}."""
    from ..automation.records import KnowledgeArticleInput
    from ..automation.service import Automation, parse_input
    from .config import open_session

    try:
        articles = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{file}: {exc}") from None
    if not isinstance(articles, list):
        raise UserError(f"{file}: expected a JSON list of articles")
    # Every article is checked before any is added: a file with one bad article adds none.
    checked = []
    for index, article in enumerate(articles):
        fields = {k: v for k, v in article.items() if k in ("title", "body", "language", "tags")}
        try:
            checked.append(parse_input(KnowledgeArticleInput, fields))
        except SupportChatError as exc:
            raise UserError(f"{file}: article {index + 1}: {exc}") from None
    with open_session(database_url) as session:
        automation = Automation(session.desk)
        for article in checked:
            automation.add_article(Actor.system(), article.model_dump())
    out().print(f"Added {len(articles)} articles.", markup=False)


@kb_app.command("remove")
@handled
def kb_remove(article_id: int, database_url: DatabaseUrl = None) -> None:
    """Remove an article."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        Automation(session.desk).delete_article(Actor.system(), article_id)
    out().print(f"Removed article {article_id}.", markup=False)


@automation_app.command("bot")
@handled
def bot_status(
    database_url: DatabaseUrl = None,
    status: Annotated[str | None, typer.Option(help="in_charge, handed_off or solved.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    json_output: JsonOutput = False,
) -> None:
    """What the bot did with the newest tickets it saw."""
    from ..automation.records import BotStatus
    from ..automation.service import Automation
    from ..rules import parse_choice
    from .config import open_session

    wanted = None if not status else parse_choice("status", status, BotStatus)
    with open_session(database_url) as session:
        found = Automation(session.desk).store.list_bot_sessions(wanted, limit=limit)
    emit_listing(
        found,
        json_output=json_output,
        empty="The bot has seen no ticket.",
        columns=("ticket", "status", "turns", "why handed over", "lang"),
        row=lambda s: (str(s.ticket_id), s.status.value, str(s.turns), s.handoff_reason or "", s.language),
    )


@rules_app.command("list")
@handled
def rules_list(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Every rule at its current version."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        found = Automation(session.desk).list_rules(Actor.system())
    emit_listing(
        found,
        json_output=json_output,
        empty="No rules.",
        columns=("id", "version", "enabled", "name"),
        row=lambda r: (str(r.id), str(r.version), "yes" if r.enabled else "no", str(r.definition.get("name", ""))),
    )


@rules_app.command("add")
@handled
def rules_add(file: Path, database_url: DatabaseUrl = None) -> None:
    """Add the rule in a JSON file (see docs/automation.md), validated first."""
    from ..automation.service import Automation
    from .config import open_session

    try:
        definition = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{file}: {exc}") from None
    with open_session(database_url) as session:
        made = Automation(session.desk).add_rule(Actor.system(), definition)
    out().print(f"Added rule {made.id} (version {made.version}).", markup=False)


@rules_app.command("remove")
@handled
def rules_remove(rule_id: int, database_url: DatabaseUrl = None) -> None:
    """Delete a rule."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        Automation(session.desk).delete_rule(Actor.system(), rule_id)
    out().print(f"Deleted rule {rule_id}.", markup=False)


@rules_app.command("dry-run")
@handled
def rules_dry_run(
    since: Annotated[str, typer.Option("--from", help="ISO 8601 instant")],
    until: Annotated[str, typer.Option("--to", help="ISO 8601 instant")],
    database_url: DatabaseUrl = None,
    agent: Annotated[int, typer.Option(min=1, help="The agent id the rules act as.")] = 1,
    json_output: JsonOutput = False,
) -> None:
    """What the stored rules would have done between two instants (writes nothing)."""
    from ..automation.engine import Rule
    from ..automation.rule_runner import RuleRunner
    from ..automation.service import parse_instant
    from .config import open_session

    with open_session(database_url) as session:
        runner = RuleRunner(session.desk, agent_id=agent)
        rules = [Rule.model_validate(s.definition) for s in runner.automation.list_rules()]
        firings = runner.dry_run(rules, parse_instant("--from", since), parse_instant("--to", until))
    if json_output:
        emit_json(
            [
                {
                    "rule_id": f.rule_id,
                    "rule_version": f.rule_version,
                    "ticket_id": f.ticket_id,
                    "at": f.at.isoformat(),
                    "actions": [a.model_dump(mode="json") for a in f.actions],
                    "chain": list(f.chain),
                }
                for f in firings
            ]
        )
        return
    emit_listing(
        firings,
        json_output=json_output,
        empty="The rules would have done nothing.",
        columns=("rule", "ticket", "at", "actions"),
        row=lambda f: (
            str(f.rule_id),
            str(f.ticket_id),
            f.at.isoformat(),
            ", ".join(f"{a.kind.value} {a.value}" for a in f.actions),
        ),
    )


def _print_acknowledgement(view: object, json_output: bool) -> None:
    from ..automation.service import AcknowledgementView

    assert isinstance(view, AcknowledgementView)
    if json_output:
        emit_json(view.model_dump(mode="json"))
        return
    if view.rule_id is None:
        out().print("The auto-acknowledgement is not set up.", markup=False)
        return

    def texts(by_language: dict[str, int]) -> str:
        return ", ".join(f"{language} #{canned}" for language, canned in sorted(by_language.items()))

    out().print(
        f"The auto-acknowledgement is {'on' if view.enabled else 'off'} (rule {view.rule_id}, "
        f"version {view.rule_version}); calendar {view.calendar}; inside hours {texts(view.inside)}; "
        f"outside {texts(view.outside)}; default language {view.default_language}.",
        markup=False,
    )


@ack_app.command("show")
@handled
def ack_show(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Whether new tickets are acknowledged, and with which canned responses."""
    from ..automation.service import Automation
    from .config import open_session

    with open_session(database_url) as session:
        view = Automation(session.desk).acknowledgement(Actor.system())
    _print_acknowledgement(view, json_output)


CannedOption = Annotated[int | None, typer.Option(min=1, help="A canned response's id.")]


@ack_app.command("set")
@handled
def ack_set(
    database_url: DatabaseUrl = None,
    enabled: Annotated[bool, typer.Option("--on/--off", help="Acknowledge new tickets, or stop.")] = True,
    calendar: Annotated[str | None, typer.Option(help="The SLA calendar whose working hours choose the text.")] = None,
    inside_es: CannedOption = None,
    inside_en: CannedOption = None,
    outside_es: CannedOption = None,
    outside_en: CannedOption = None,
    default_language: Annotated[str | None, typer.Option(help="es or en: for contacts of another language.")] = None,
    json_output: JsonOutput = False,
) -> None:
    """Turn the acknowledgement on or off and choose its calendar and canned responses (what is left out stays)."""
    from ..automation.service import Automation
    from .config import open_session

    body: dict[str, object] = {"enabled": enabled}
    for name, given in (
        ("inside", {"es": inside_es, "en": inside_en}),
        ("outside", {"es": outside_es, "en": outside_en}),
    ):
        chosen = {language: canned for language, canned in given.items() if canned is not None}
        if chosen:
            body[name] = chosen
    if calendar is not None:
        body["calendar"] = calendar
    if default_language is not None:
        body["default_language"] = default_language
    with open_session(database_url) as session:
        view = Automation(session.desk).set_acknowledgement(Actor.system(), body)
    _print_acknowledgement(view, json_output)
