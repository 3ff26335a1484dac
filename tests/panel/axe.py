"""axe-core in the panel's browser tests: WCAG 2 A and AA rules, run inside the page.

axe-core comes from the npm registry at the version ``tests/panel/axe/package-lock.json``
pins; :func:`axe_source` installs it there with ``npm ci`` on first use (under a file
lock, since xdist workers start together) and returns ``axe.min.js``. Without npm or
the registry it skips outside CI and fails in CI, like the browser itself.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "axe"
SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets of WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason + " — CI must provide it")
    pytest.skip(reason)


@functools.cache
def axe_source() -> str:
    if not SCRIPT.exists():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed (needed to install axe-core)")
        with open(HERE / ".install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not SCRIPT.exists():
                done = subprocess.run(
                    [str(npm), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                    cwd=HERE,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if done.returncode != 0:
                    _unavailable(f"npm ci of axe-core failed: {done.stderr.strip()[-500:]}")
    return SCRIPT.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG 2 A/AA violations on what ``page`` shows now, one entry per rule with its nodes.

    The script is evaluated through the DevTools protocol, which the panel's
    Content-Security-Policy does not govern, so the page runs unchanged.
    """
    page.evaluate(axe_source())
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))",
        WCAG_AA,
    )
    return list(found)


def assert_accessible(page: Any, view: str) -> None:
    found = violations(page)
    assert found == [], f"{view}: " + "; ".join(
        f"{v['id']} ({len(v['nodes'])} nodes: {', '.join(n['target'] for n in v['nodes'][:5])})" for v in found
    )
