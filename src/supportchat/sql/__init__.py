"""SQL shipped with supportchat, read from the installed package."""

from __future__ import annotations

from importlib.resources import files

__all__ = ["supabase_sql"]


def supabase_sql() -> str:
    """The SQL that prepares a Supabase project for :class:`~supportchat.stores.supabase.SupabaseStore`.

    Tables, indexes, CHECK constraints, the functions the store calls,
    row-level security and the Realtime publication. Idempotent: running it
    again, or on a project holding the seed's tables, keeps every row.
    """
    return files(__package__).joinpath("supabase.sql").read_text(encoding="utf-8")
