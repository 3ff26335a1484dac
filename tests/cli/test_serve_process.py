"""The real ``supportchat serve`` process: first start on the embedded default, then HTTP to it."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def wait_for_token(lines: queue.Queue[str], deadline: float, seen: list[str]) -> str:
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith("Admin token: "):
            return line.removeprefix("Admin token: ").strip()
    raise AssertionError("serve printed no admin token:\n" + "".join(seen))


@pytest.mark.timeout(120)
def test_serve_starts_on_the_embedded_default_and_answers_with_the_printed_token(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SUPPORTCHAT_", "SUPABASE_"))}
    env.update(PYTHONPATH=str(ROOT / "src"), XDG_DATA_HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "supportchat", "serve", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        token = wait_for_token(lines, deadline, seen)
        assert any(f"http://127.0.0.1:{port}" in line for line in seen)
        url = f"http://127.0.0.1:{port}/admin/api/support/statistics"
        reply = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                reply = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert reply is not None, "the server never answered:\n" + "".join(seen)
        assert reply.status_code == 200
        body = reply.json()
        assert body["success"] is True and body["data"]["total_tickets"] == 0
        assert httpx.get(url, timeout=2).status_code == 401
        assert (tmp_path / "supportchat" / "supportchat.db").exists()
        assert (tmp_path / "supportchat" / "secret").exists()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    assert process.returncode == 0, "".join(seen)
