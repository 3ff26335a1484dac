"""Running a real ``supportchat serve`` process: start it, read its admin token, stop it."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STATISTICS = "/admin/api/support/statistics"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment(home: Path, **extra: str) -> dict[str, str]:
    """The environment without any supportchat configuration, with the embedded database under ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SUPPORTCHAT_", "SUPABASE_")) and key != "PYTHONPATH"
    }
    env.update(XDG_DATA_HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.seen)

    def admin_token(self, deadline: float) -> str:
        """The token ``serve`` prints on its first start."""
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if line.startswith("Admin token: "):
                return line.removeprefix("Admin token: ").strip()
        raise AssertionError("serve printed no admin token:\n" + self.output)

    def get(self, path: str, deadline: float, token: str | None = None) -> httpx.Response:
        """GET ``path`` once the server accepts connections."""
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}{path}", headers=headers, timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("the server never answered:\n" + self.output)


@contextmanager
def serving(
    command: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    options: Sequence[str] = (),
    preexec_fn: Callable[[], object] | None = None,
) -> Iterator[Server]:
    """Run ``command … serve --port P [options]``; stop it with Ctrl-C (SIGINT) at the end, killing it if it hangs.

    ``preexec_fn`` runs in the child before it starts (to give it, say, a low open-file limit).
    """
    port = free_port()
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--log-level", "warning", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
        preexec_fn=preexec_fn,
    )
    server = Server(process, port)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
