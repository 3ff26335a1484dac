"""The panel's page and assets ship inside the wheel, so an installed package serves them offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSETS = sorted(p.name for p in (ROOT / "src" / "supportchat" / "panel" / "static").iterdir())


def test_the_wheel_carries_the_panel_assets(tmp_path: Path) -> None:
    try:
        import hatchling  # noqa: F401
    except ImportError:
        message = "hatchling (the build backend) is missing: pip install -e '.[dev]'"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    source = tmp_path / "source"
    # Only the files git tracks, as a release build would see them.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    for name in ASSETS:  # not yet committed while developing: still part of the package
        shutil.copy2(ROOT / "src/supportchat/panel/static" / name, source / "src/supportchat/panel/static" / name)
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = out.glob("supportchat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {Path(n).name: archive.read(n) for n in archive.namelist() if "/panel/static/" in n}
    assert sorted(shipped) == ASSETS == ["panel.css", "panel.html", "panel.js"]
    for name, data in shipped.items():
        assert data == (ROOT / "src/supportchat/panel/static" / name).read_bytes()
