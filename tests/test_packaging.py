"""The package's promises about itself: what it imports, and that it type-checks and lints clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_fresh(code: str) -> None:
    """Run ``code`` in a new interpreter on this checkout's sources (nothing imported yet)."""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src")})


def test_import_pulls_in_no_framework() -> None:
    run_fresh(
        "import supportchat, sys; "
        "leaked = {'flask', 'fastapi', 'supabase', 'typer', 'starlette', 'uvicorn'} & set(sys.modules); "
        "assert not leaked, leaked"
    )


def test_the_desk_loads_no_store_backend() -> None:
    run_fresh(
        "import supportchat.desk, sys; "
        "loaded = [m for m in sys.modules if m.startswith('supportchat.stores') or m == 'sqlalchemy']; "
        "assert not loaded, loaded"
    )


def test_public_surface_is_deliberate() -> None:
    import supportchat

    assert sorted(supportchat.__all__) == sorted(set(supportchat.__all__))
    for name in supportchat.__all__:
        assert hasattr(supportchat, name), name


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["mypy"]],
    ids=["ruff", "mypy-strict"],
)
def test_static_checks_are_clean(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is not installed; install the dev extra: pip install -e '.[dev]'")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
