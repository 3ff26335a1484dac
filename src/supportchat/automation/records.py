"""What the automation capability stores, and the rules its inputs follow (validated before any store sees them)."""

from __future__ import annotations

import enum
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ValidationError
from ..models import UTCDateTime
from ..rules import sanitize
from .templates import check_template

__all__ = [
    "LANGUAGES",
    "BotSession",
    "BotStatus",
    "CannedResponse",
    "CannedResponseInput",
    "FiringRecord",
    "KnowledgeArticle",
    "KnowledgeArticleInput",
    "StoredRule",
]

#: The languages the bot and the templates speak (the contacts' locales are cut to these).
LANGUAGES = ("es", "en")
_SHORT_CODE = re.compile(r"[a-z0-9_-]{1,32}")
#: An article tag is a keyword in any language (``facturación``): letters, digits, - and _.
_TAG = re.compile(r"[^\W_][\w-]{0,31}")


def _clean(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    text = sanitize(value)
    if not text:
        raise ValidationError(field, "must not be empty")
    if len(text) > limit:
        raise ValidationError(field, f"at most {limit} characters")
    return text


class CannedResponseInput(BaseModel):
    """A canned response as an agent writes it: ``/short_code`` expands to ``content`` in the reply box."""

    model_config = ConfigDict(frozen=True)

    short_code: str = Field(description="Lower case letters, digits, - and _, 1–32 characters; typed as /short_code.")
    title: str = Field(description="What the panel lists (1–120 characters).")
    content: str = Field(
        description="The reply, with variables such as {{ticket.number}}, {{user.name}}, {{agent.name}}."
    )

    @field_validator("short_code", mode="before")
    @classmethod
    def _code(cls, value: object) -> str:
        code = value.strip().lower().removeprefix("/") if isinstance(value, str) else ""
        if not _SHORT_CODE.fullmatch(code):
            raise ValidationError("short_code", "1–32 characters of a-z 0-9 - _")
        return code

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: object) -> str:
        return _clean(value, "title", 120)

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: object) -> str:
        text = _clean(value, "content", 5000)
        check_template(text)
        return text


class CannedResponse(BaseModel):
    """A stored canned response (its text was validated on the way in)."""

    model_config = ConfigDict(frozen=True)

    id: int
    short_code: str
    title: str
    content: str
    #: The agent whose personal response it is; ``None`` for a shared one.
    owner_id: int | None
    created_at: UTCDateTime
    updated_at: UTCDateTime


class KnowledgeArticleInput(BaseModel):
    """A knowledge-base article the bot may answer with."""

    model_config = ConfigDict(frozen=True)

    title: str = Field(description="1–200 characters; the bot's answer starts with it.")
    body: str = Field(description="The answer itself (1–10,000 characters).")
    language: str = Field(description="es or en: the bot answers a ticket only with articles of its language.")
    tags: tuple[str, ...] = Field(default=(), description="Extra words the article is about (letters, digits, - _).")

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: object) -> str:
        return _clean(value, "title", 200)

    @field_validator("body", mode="before")
    @classmethod
    def _body(cls, value: object) -> str:
        return _clean(value, "body", 10_000)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> str:
        if value not in LANGUAGES:
            raise ValidationError("language", "not a language the bot speaks", allowed=LANGUAGES)
        return str(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or len(value) > 20:
            raise ValidationError("tags", "a list of at most 20 tags")
        tags = tuple(dict.fromkeys(str(t).strip().lower() for t in value))
        if not all(_TAG.fullmatch(t) for t in tags):
            raise ValidationError("tags", "each tag is 1–32 letters, digits, - or _")
        return tags


class KnowledgeArticle(BaseModel):
    """A stored article (validated on the way in)."""

    model_config = ConfigDict(frozen=True)

    id: int
    title: str
    body: str
    language: str
    tags: tuple[str, ...] = ()
    created_at: UTCDateTime
    updated_at: UTCDateTime


class StoredRule(BaseModel):
    """A rule as kept: its definition (an :class:`~.engine.Rule` as JSON) at its current version."""

    model_config = ConfigDict(frozen=True)

    id: int
    version: int
    enabled: bool
    definition: dict[str, object]
    updated_at: UTCDateTime


class FiringRecord(BaseModel):
    """One automatic action set a rule took on a ticket, as recorded (spec §18: rule and version)."""

    model_config = ConfigDict(frozen=True)

    id: int
    rule_id: int
    rule_version: int
    ticket_id: int
    at: UTCDateTime
    actions: list[dict[str, object]]
    dropped: list[dict[str, object]] = []
    chain: list[int] = []


class BotStatus(enum.StrEnum):
    IN_CHARGE = "in_charge"
    HANDED_OFF = "handed_off"
    SOLVED = "solved"


class BotSession(BaseModel):
    """What the bot remembers of one ticket."""

    model_config = ConfigDict(frozen=True)

    ticket_id: int
    status: BotStatus
    language: str
    turns: int = 0
    #: The article of its last answer, while it waits to hear whether that helped.
    awaiting_article_id: int | None = None
    #: Why it handed the ticket over (a :class:`~.conversation.HandoffReason` value).
    handoff_reason: str | None = None
    updated_at: UTCDateTime

    def touched(self, now: datetime, **changes: object) -> BotSession:
        return self.model_copy(update={**changes, "updated_at": now})
