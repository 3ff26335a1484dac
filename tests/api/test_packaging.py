"""Optional parts stay optional: no framework on ``import supportchat``; a clear error without one."""

from __future__ import annotations

import subprocess
import sys

import pytest

SRC = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src")


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"PYTHONPATH": SRC}, check=False
    )


def test_importing_supportchat_imports_no_framework() -> None:
    result = run(
        "import sys, supportchat, supportchat.http;"
        "print(sorted(m for m in ('flask', 'fastapi', 'starlette', 'jwt', 'typer', 'supabase') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("framework,extra", [("flask", "flask"), ("fastapi", "fastapi")])
def test_adapter_without_its_framework_names_the_extra(framework: str, extra: str) -> None:
    result = run(f"import sys; sys.modules[{framework!r}] = None; import supportchat.adapters.{framework}")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError") and f"pip install 'supportchat[{extra}]'" in last
