"""``serve`` answers at once with several workers too: ``TCP_NODELAY`` on every connection.

uvicorn binds the listening socket itself when it runs several workers, as
``socket.socket(family)`` (protocol number 0), and asyncio sets
``TCP_NODELAY`` only on sockets whose protocol is TCP's: every response then
waited for the client's delayed ACK, about 40 ms.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from supportchat.cli.connections import without_delay

from .serving import STATISTICS, clean_environment, serving

ROOT = Path(__file__).resolve().parents[2]


def _accepted_socket_delay(on_connection: Callable[[asyncio.BaseTransport], None]) -> int:
    """TCP_NODELAY of a connection accepted on a socket bound the way uvicorn's workers bind it."""

    async def main() -> int:
        listening = socket.socket(socket.AF_INET)  # as uvicorn.Config.bind_socket
        listening.bind(("127.0.0.1", 0))
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                on_connection(transport)
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname())
            try:
                return await asyncio.wait_for(accepted, 5)
            finally:
                writer.close()

    return asyncio.run(main())


def test_asyncio_leaves_nagle_on_for_such_a_socket_and_without_delay_turns_it_off() -> None:
    assert _accepted_socket_delay(lambda transport: None) == 0  # the premise
    assert _accepted_socket_delay(without_delay) != 0


@pytest.mark.timeout(120)
def test_serve_with_two_workers_answers_without_waiting_for_delayed_acks(tmp_path: Path) -> None:
    env = clean_environment(tmp_path, PYTHONPATH=str(ROOT / "src"))
    with serving([sys.executable, "-m", "supportchat"], env, tmp_path, options=["--workers", "2"]) as server:
        deadline = time.monotonic() + 60
        token = server.admin_token(deadline)
        assert server.get(STATISTICS, deadline, token).status_code == 200
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
            for _ in range(5):
                client.get(STATISTICS)  # one kept-alive connection, warmed up
            took = []
            for _ in range(20):
                start = time.perf_counter()
                client.get(STATISTICS)
                took.append(time.perf_counter() - start)
    # A delayed ACK costs 40 ms a response (44 ms measured); an answer takes about 1 ms.
    assert statistics.median(took) < 0.02, took
