"""A PostgREST emulator for tests: the real ``supabase`` client over an ``httpx`` transport
that runs its requests as SQL on a real PostgreSQL database, under the roles, JWT claims
and row-level security of the SQL supportchat ships for Supabase.

Typical use::

    with EmulatedProject.create() as project:
        store = project.store()                    # service role, sees everything
        alice = project.store(token=user_token(7))  # user 7 under row-level security
"""

from __future__ import annotations

from .database import EmulatedDatabase
from .project import EmulatedProject
from .tokens import JWT_SECRET, anon_key, mint, service_role_key, user_token
from .transport import PostgrestEmulator

__all__ = [
    "JWT_SECRET",
    "EmulatedDatabase",
    "EmulatedProject",
    "PostgrestEmulator",
    "anon_key",
    "mint",
    "service_role_key",
    "user_token",
]
