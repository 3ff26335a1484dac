"""The standalone agents and contacts tables, registered for every store class.

Importing this module registers the :class:`~supportchat.people.AgentStore`
and :class:`~supportchat.people.ContactStore` implementations with
:mod:`supportchat.extensions`; :func:`supportchat.people.agent_store` and
:func:`~supportchat.people.contact_store` import it on first use. The
Supabase implementations are registered only when the Supabase client is
installed. A host with a store class of its own registers its own
implementations the same way.
"""

from __future__ import annotations

from .extensions import register_extension
from .people import AgentStore, ContactStore
from .stores.directories_fallback import FallbackAgentStore, FallbackContactStore
from .stores.directories_memory import MemoryAgentStore, MemoryContactStore
from .stores.directories_sql import SQLAgentStore, SQLContactStore
from .stores.fallback import FallbackStore
from .stores.memory import InMemoryStore
from .stores.sql import SQLStore

__all__: list[str] = []

register_extension(AgentStore, InMemoryStore, MemoryAgentStore)  # type: ignore[type-abstract]
register_extension(ContactStore, InMemoryStore, MemoryContactStore)  # type: ignore[type-abstract]
register_extension(AgentStore, SQLStore, SQLAgentStore)  # type: ignore[type-abstract]
register_extension(ContactStore, SQLStore, SQLContactStore)  # type: ignore[type-abstract]
register_extension(AgentStore, FallbackStore, FallbackAgentStore)  # type: ignore[type-abstract]
register_extension(ContactStore, FallbackStore, FallbackContactStore)  # type: ignore[type-abstract]

try:
    from .stores.directories_supabase import SupabaseAgentStore, SupabaseContactStore
    from .stores.supabase import SupabaseStore
except ImportError:  # pragma: no cover - without the supabase extra
    pass
else:
    register_extension(AgentStore, SupabaseStore, SupabaseAgentStore)  # type: ignore[type-abstract]
    register_extension(ContactStore, SupabaseStore, SupabaseContactStore)  # type: ignore[type-abstract]
