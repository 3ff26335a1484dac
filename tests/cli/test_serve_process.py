"""The real ``supportchat serve`` process: first start on the embedded default, then HTTP to it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .serving import STATISTICS, clean_environment, serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(120)
def test_serve_starts_on_the_embedded_default_and_answers_with_the_printed_token(tmp_path: Path) -> None:
    env = clean_environment(tmp_path, PYTHONPATH=str(ROOT / "src"))
    with serving([sys.executable, "-m", "supportchat"], env, tmp_path) as server:
        deadline = time.monotonic() + 60
        token = server.admin_token(deadline)
        assert f"http://127.0.0.1:{server.port}" in server.output
        reply = server.get(STATISTICS, deadline, token)
        assert reply.status_code == 200, reply.text
        assert reply.json()["success"] is True and reply.json()["data"]["total_tickets"] == 0
        assert server.get(STATISTICS, deadline).status_code == 401
        assert f"http://127.0.0.1:{server.port}/admin/support" in server.output
        panel = server.get("/admin/support", deadline)
        assert panel.status_code == 200 and "text/html" in panel.headers["content-type"]
        assert "script-src 'self'" in panel.headers["content-security-policy"]
        login = httpx.post(f"http://127.0.0.1:{server.port}/admin/support/login", json={"token": token}, timeout=5)
        assert login.status_code == 200, login.text
        assert "HttpOnly" in login.headers["set-cookie"]
        assert (tmp_path / "supportchat" / "supportchat.db").exists()
        assert (tmp_path / "supportchat" / "secret").exists()
    assert server.process.returncode == 0, server.output


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_readme_command_works_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    """README: ``pip install 'supportchat[all]' && supportchat serve``, in a new venv, from this checkout."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_environment(home)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", f"{ROOT}[all]"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    with serving([str(venv / "bin" / "supportchat")], env, home) as server:
        deadline = time.monotonic() + 90
        token = server.admin_token(deadline)
        reply = server.get(STATISTICS, deadline, token)
        assert reply.status_code == 200, reply.text
        assert reply.json()["data"]["by_status"] == {"open": 0, "in_progress": 0, "resolved": 0, "closed": 0}
    assert server.process.returncode == 0, server.output
