"""The real ``supportchat worker`` in a subprocess, for the tests that kill one and start another."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Variables of the developer's shell that would switch on capabilities a test did not ask for.
_UNASKED = ("SUPPORTCHAT_WEBHOOK_URL", "SUPPORTCHAT_BOT_AGENT_ID", "SUPPORTCHAT_AUTOMATION_AGENT_ID")


def start_worker(
    url: str, *args: str, expect_kind: str, environ: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """``supportchat worker --database-url URL ARGS…`` once it says it runs ``expect_kind``."""
    env = {key: value for key, value in os.environ.items() if key not in _UNASKED}
    env.update({"PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1", **(environ or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "supportchat", "worker", "--database-url", url, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("Worker"), line + process.stdout.read()
    assert expect_kind in line, line
    return process


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
