"""The real ``supportchat serve`` process: first start on the embedded default, then HTTP to it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from .serving import STATISTICS, Server, clean_environment, free_port, serving

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


def readme_first_command() -> str:
    """The first shell command of the README, exactly as written there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.DOTALL)
    assert block is not None, "the README has no bash block"
    return block.group(1).strip()


def test_the_readme_first_command_installs_from_the_checkout_and_serves() -> None:
    command = readme_first_command()
    # What a fresh clone has: this checkout, not a package index (it is not published).
    assert command == "pip install '.[all]' && supportchat serve"


def fresh_copy(destination: Path) -> Path:
    """The checkout's files as a fresh clone has them (tracked and not ignored), without build leftovers."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_readme_first_command_works_as_written_in_a_fresh_clone(tmp_path: Path) -> None:
    """The README's first command, run by bash in a fresh copy of the checkout and a new venv."""
    clone = fresh_copy(tmp_path / "clone")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    env = clean_environment(home, SUPPORTCHAT_PORT=str(port), VIRTUAL_ENV=str(venv))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    process = subprocess.Popen(
        ["bash", "-c", readme_first_command()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=clone,
        start_new_session=True,  # pip, then supportchat: stopped together with Ctrl-C
    )
    server = Server(process, port)
    threading.Thread(target=lambda: [server.lines.put(line) for line in process.stdout or ()], daemon=True).start()
    try:
        deadline = time.monotonic() + 900  # the install comes first
        token = server.admin_token(deadline)
        reply = server.get(STATISTICS, time.monotonic() + 90, token)
        assert reply.status_code == 200, reply.text
        assert reply.json()["data"]["by_status"] == {"open": 0, "in_progress": 0, "resolved": 0, "closed": 0}
        assert (venv / "bin" / "supportchat").exists()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    assert process.returncode == 0, server.output
