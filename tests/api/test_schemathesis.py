"""`schemathesis run --checks all` against a live server finds no failure, on both adapters (issue 12 #9).

Each adapter serves its OpenAPI document at ``{prefix}/openapi.json``; the
schemathesis CLI reads it and runs every phase (examples, coverage, fuzzing
and the stateful phase, which follows the document's links from
``create_ticket`` and the listings to the ticket routes) with every check,
once with an admin token over the whole API and once with a user's JWT over
the user routes. The seed is fixed so that CI is repeatable; set
``SUPPORTCHAT_SCHEMATHESIS_SEED`` to explore others.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens

from .conftest import PREFIX, SECRET, seeded_desk
from .live_server import serve

pytest.importorskip("schemathesis")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SEED = os.environ.get("SUPPORTCHAT_SCHEMATHESIS_SEED", "1")
#: Cases per operation and phase: enough to reach every route, small enough for about a minute per run.
MAX_EXAMPLES = "10"
USER_ID = 1


def schemathesis_run(
    url: str, token: str, workdir: Path, *extra: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        *(["--config-file", str(config)] if config else []),
        "run",
        f"{url}{PREFIX}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        # Server-Sent-Events responses never end; tests/api/test_events.py covers them.
        "--exclude-path-regex",
        "/events$",
        *extra,
    ]
    # The working directory takes hypothesis' example database and any report.
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=200, check=False)


@pytest.mark.parametrize("caller", ["admin", "user"])
def test_schemathesis_finds_no_failure(adapter: str, caller: str, tmp_path: Path) -> None:
    tokens = InMemoryAdminTokens()
    _, admin_token = tokens.create("fuzzer")
    users = UserTokens(SECRET)
    with serve(adapter, seeded_desk(USER_ID), authenticator=TokenAuthenticator(tokens, users)) as url:
        if caller == "admin":
            result = schemathesis_run(url, admin_token, tmp_path)
        else:
            # The user routes, reached through the links from create_ticket's response (which names the
            # caller's own user_id); no parameter is forced, since schemathesis would then count a case
            # whose bad value it replaced as accepted bad data.
            result = schemathesis_run(url, users.mint(USER_ID), tmp_path, "--include-tag", "user")
    (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
    summary = _failures(result.stdout) + result.stderr[-2000:]
    assert result.returncode == 0, summary
    # The stateful phase followed the document's links to the ticket routes.
    covered = re.search(r"API Links:\s+(\d+) covered", result.stdout)
    assert covered is not None and int(covered.group(1)) > 0, summary


def _failures(output: str) -> str:
    """The report's failures section, each line cut short (generated bodies can be megabytes)."""
    start = output.find("FAILURES")
    return "\n".join(line[:300] for line in output[start if start >= 0 else 0 :].splitlines()[:200])
