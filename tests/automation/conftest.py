"""Fixtures of the multi-process automation tests: a fresh PostgreSQL database, as the CLI tests make it."""

from __future__ import annotations

from ..cli.conftest import postgres_url

__all__ = ["postgres_url"]
