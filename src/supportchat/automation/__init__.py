"""Automation (spec §18): canned responses, the knowledge-base bot.

- :mod:`.templates`: canned-response templates and their variables (pure);
- :mod:`.matching`: which article answers a question, with an explainable score (pure);
- :mod:`.conversation`: what the bot does with each user text (pure).
"""

from __future__ import annotations

from typing import Any

from ..extensions import extension, register_extension
from ..stores.fallback import FallbackStore
from ..stores.memory import InMemoryStore
from ..stores.sql import SQLStore
from .base import AutomationRecordNotFound, AutomationStore, ShortCodeTaken
from .memory import MemoryAutomationStore
from .records import BotSession, BotStatus, CannedResponse, CannedResponseInput, KnowledgeArticle, KnowledgeArticleInput
from .sql import SQLAutomationStore

__all__ = [
    "AutomationRecordNotFound",
    "AutomationStore",
    "BotSession",
    "BotStatus",
    "CannedResponse",
    "CannedResponseInput",
    "KnowledgeArticle",
    "KnowledgeArticleInput",
    "MemoryAutomationStore",
    "SQLAutomationStore",
    "ShortCodeTaken",
]


def _fallback_automation(store: FallbackStore) -> Any:
    # The desk's configuration lives in the local fallback database, like its jobs:
    # a Supabase outage must not take the canned responses and the bot away.
    return extension(store.fallback, AutomationStore)  # type: ignore[type-abstract]


# (mypy does not take a Protocol for type[E]; the registry is keyed by protocol on purpose.)
register_extension(AutomationStore, SQLStore, SQLAutomationStore)  # type: ignore[type-abstract]
register_extension(AutomationStore, InMemoryStore, MemoryAutomationStore)  # type: ignore[type-abstract]
register_extension(AutomationStore, FallbackStore, _fallback_automation)  # type: ignore[type-abstract]
