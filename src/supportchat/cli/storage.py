"""``supportchat storage status`` / ``replay``: the hybrid Supabase + SQLite store (spec §9).

Only meaningful when ``SUPABASE_URL`` and ``SUPABASE_KEY`` make Supabase the
primary store; with a single SQL database there is nothing to fail over.
"""

from __future__ import annotations

from typing import Any, Protocol

import typer

from ..models import utc_iso
from .config import open_session
from .options import DatabaseUrl, JsonOutput
from .output import UserError, emit_json, handled, out, progress_bar

__all__ = ["storage_app"]

storage_app = typer.Typer(
    help="The hybrid store: which side serves, and replaying the outage journal.", no_args_is_help=True
)


class _Hybrid(Protocol):
    def state(self) -> Any: ...

    def replay(self, *, progress: Any = None) -> Any: ...


def _hybrid(store: object) -> _Hybrid:
    if not (callable(getattr(store, "state", None)) and callable(getattr(store, "replay", None))):
        raise UserError("this desk runs on a single database; the hybrid store needs SUPABASE_URL and SUPABASE_KEY")
    return store  # type: ignore[return-value]


def _state_json(state: Any) -> dict[str, Any]:
    fields = ("serving", "breaker", "pending_writes", "conflicts", "last_error", "last_error_at", "mirror_failures")
    data = {name: getattr(state, name, None) for name in fields}
    if data["last_error_at"] is not None:
        data["last_error_at"] = utc_iso(data["last_error_at"])
    if data["breaker"] is not None:
        data["breaker"] = str(getattr(data["breaker"], "value", data["breaker"]))
    return data


@storage_app.command("status")
@handled
def status(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Which store serves, and how many outage writes wait to reach the primary."""
    with open_session(database_url) as session:
        state = _state_json(_hybrid(session.store).state())
    if json_output:
        emit_json(state)
        return
    console = out()
    colour = "green" if state["serving"] == "primary" else "yellow"
    console.print(f"Serving: [{colour}]{state['serving']}[/] (breaker {state['breaker']})")
    console.print(f"Writes waiting for the primary: {state['pending_writes']}; conflicts parked: {state['conflicts']}")
    if state["last_error"]:
        console.print(f"Last error at {state['last_error_at']}: {state['last_error']}", markup=False)


@storage_app.command("replay")
@handled
def replay(database_url: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """Send every write made during an outage to the primary now, in order."""
    with open_session(database_url) as session:
        hybrid = _hybrid(session.store)
        pending = hybrid.state().pending_writes
        with progress_bar("Replaying", pending) as advance:
            done = [0]

            def progress(replayed: int, _total: int) -> None:
                advance(replayed - done[0])
                done[0] = replayed

            report = hybrid.replay(progress=progress)
    result = {name: getattr(report, name, None) for name in ("applied", "already_there", "conflicts", "remaining")}
    error = getattr(report, "error", None)
    result["error"] = None if error is None else str(error)
    if json_output:
        emit_json(result)
    else:
        out().print(
            f"Replayed {result['applied']} writes ({result['already_there']} were already there, "
            f"{result['conflicts']} conflicts parked); {result['remaining']} remain."
        )
    if error is not None:
        raise UserError(f"the primary is still unavailable: {error}")
