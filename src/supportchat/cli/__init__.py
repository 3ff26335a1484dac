"""The ``supportchat`` command line (``pip install 'supportchat[cli]'``).

Importing :mod:`supportchat` never imports this package; :func:`main`
imports Typer and Rich only when the command runs, and says which extra to
install if they are missing.
"""

from __future__ import annotations

import sys

__all__ = ["CLI_EXTRA_HINT", "main"]

CLI_EXTRA_HINT = "pip install 'supportchat[cli]'"


def main() -> None:
    """Entry point of the ``supportchat`` console script and ``python -m supportchat``."""
    try:
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError as exc:
        sys.stderr.write(f"supportchat: the command line needs {exc.name}: {CLI_EXTRA_HINT}\n")
        raise SystemExit(1) from None
    from .app import app

    app(prog_name="supportchat")
