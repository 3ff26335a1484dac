"""The package's promises about itself: what it imports, and that it type-checks and lints clean."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
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
    [["ruff", "check", "."], ["mypy"], ["lint-imports"]],
    ids=["ruff", "mypy-strict", "import-layers"],
)
def test_static_checks_are_clean(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is not installed; install the dev extra: pip install -e '.[dev]'")
    # lint-imports finds the package on the path: this checkout's sources.
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr


PACKAGE = ROOT / "src" / "supportchat"


def _imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """Each import of a source file: its line, the absolute module and the names taken from it."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    # A package's __init__ is the package itself; a module's package is its folder.
    package = ".".join(("supportchat", *parts[:-1]))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield node.lineno, target, [alias.name for alias in node.names]


def _home(module: str) -> str:
    """The package a module belongs to: ``stores`` for ``supportchat.stores.sql``, ``core`` for a top-level module."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        return parts[1]
    return "core"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_another_packages_private_names() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        home = _home(".".join(("supportchat", *path.relative_to(PACKAGE).with_suffix("").parts)))
        for line, target, names in _imports(path):
            if not target.startswith("supportchat.") or _home(target) == home:
                continue
            private = [part for part in target.split(".") if _private(part)] + [n for n in names if _private(n)]
            if private:
                found.append(f"{path.relative_to(ROOT)}:{line}: {target} {private}")
    assert found == [], "\n".join(found)


def test_the_migrations_import_no_store() -> None:
    # lint-imports does not see the revisions (versions/ is not a package); read them here.
    found = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for path in sorted((PACKAGE / "migrations").rglob("*.py"))
        for line, target, _ in _imports(path)
        if target == "supportchat.stores" or target.startswith("supportchat.stores.")
    ]
    assert found == [], "\n".join(found)
