"""How the CLI talks: Rich for people, JSON for scripts, one line for errors.

Every command runs inside :func:`handled`: a mistake of the user's (a bad
value, an unknown ticket, a database that cannot be reached) is printed as
one ``Error: …`` line on stderr with exit code 1, never as a traceback; a bug
(any other exception, a model refusing data included) as one ``Internal
error: …`` line with exit code 3.
Progress bars go to stderr and only when it is a terminal, so piped output
stays clean.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import BaseModel
from pydantic import ValidationError as ModelValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..errors import SupportChatError, ValidationError

__all__ = [
    "INTERNAL_ERROR_EXIT",
    "UserError",
    "emit_json",
    "emit_listing",
    "error_console",
    "handled",
    "out",
    "progress_bar",
    "to_jsonable",
]

#: Exit code of an unexpected failure (a bug); user errors exit with 1.
INTERNAL_ERROR_EXIT = 3
DEBUG_VARIABLE = "SUPPORTCHAT_DEBUG"

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class UserError(Exception):
    """Something the user can fix; printed as one line, exit code 1."""


#: Width of tables written to a pipe or file (a terminal gives its own).
PIPE_WIDTH = 160


def out() -> Console:
    """The console of the command's results (stdout); made per call so tests can capture it."""
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, soft_wrap=False, width=PIPE_WIDTH)
    return console


def error_console() -> Console:
    return Console(stderr=True, highlight=False)


def to_jsonable(value: Any) -> Any:
    """Models, lists of models and plain data, as JSON-ready Python data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    return value


def emit_json(value: Any) -> None:
    """Write ``value`` as one JSON document on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def emit_listing(
    items: Sequence[T],
    *,
    json_output: bool,
    empty: str,
    columns: Sequence[str],
    row: Callable[[T], Sequence[str]],
) -> None:
    """A listing command's output: the items as JSON, ``empty`` when there are none, else a table of rows."""
    if json_output:
        emit_json(list(items))
        return
    if not items:
        out().print(empty)
        return
    from rich.table import Table

    table = Table(*columns)
    for item in items:
        table.add_row(*row(item))
    out().print(table)


def _message_of(exc: BaseException) -> str:
    if isinstance(exc, ValidationError) and exc.allowed:
        return f"{exc.message} (allowed: {', '.join(exc.allowed)})"
    if isinstance(exc, SupportChatError):
        return exc.message
    return str(exc)


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command with user errors turned into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader went away (``supportchat export | head``): stop quietly,
            # and keep Python from complaining again when it flushes stdout at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(1) from None
        except ModelValidationError as exc:
            # A ValueError, but never the user's: every value a user types is
            # checked (and refused as a UserError or the desk's ValidationError)
            # before a model is built, so a model refusing one is a bug.
            _internal_error(exc)
        except (UserError, SupportChatError, OSError, ValueError) as exc:
            error_console().print(f"[bold red]Error:[/] {_escape(_message_of(exc))}")
            raise typer.Exit(1) from None
        except Exception as exc:
            _internal_error(exc)

    return run


def _internal_error(exc: Exception) -> NoReturn:
    """Report a bug: one line and :data:`INTERNAL_ERROR_EXIT`, or the traceback with ``SUPPORTCHAT_DEBUG``."""
    if os.environ.get(DEBUG_VARIABLE):
        raise exc
    error_console().print(
        f"[bold red]Internal error:[/] {_escape(f'{exc.__class__.__name__}: {exc}')}\n"
        f"Set {DEBUG_VARIABLE}=1 to see the traceback, and please report it."
    )
    raise typer.Exit(INTERNAL_ERROR_EXIT) from None


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr if it is a terminal (else nothing); yields ``advance(n)``."""
    console = error_console()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total)

        def advance(amount: int = 1) -> None:
            progress.advance(task, amount)

        yield advance


def tapped(items: Iterable[T], advance: Callable[[int], None], size: Callable[[T], int] | None = None) -> Iterator[T]:
    """``items`` unchanged, calling ``advance`` with each one's ``size`` (default 1) as it passes."""
    for item in items:
        advance(1 if size is None else size(item))
        yield item
