"""The pieces of the standalone server's connection bounds (the real process is in test_slow_clients.py)."""

from __future__ import annotations

import pickle
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from supportchat.cli.connections import (
    FILE_DESCRIPTOR_RESERVE,
    BoundedH11Protocol,
    ConnectionLimits,
    bounded_server_options,
    default_max_connections,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_open_file_limit_is_raised_to_the_hard_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip("the hard limit leaves nothing to raise")
    script = (
        "import resource\n"
        "from supportchat.cli.connections import raise_open_file_limit\n"
        "_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "print(raise_open_file_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src")}
    )
    assert done.returncode == 0, done.stderr
    reported, soft, hard_there = (int(v) for v in done.stdout.split())
    assert reported == soft > 256
    if hard_there != resource.RLIM_INFINITY:
        assert soft == hard_there


def test_limits_are_positive_and_reach_every_worker() -> None:
    assert default_max_connections(20_000) == 20_000 - FILE_DESCRIPTOR_RESERVE
    assert default_max_connections(100) == 64
    for bad in ({"max_connections": 0}, {"max_connections": 5, "request_timeout": 0}):
        with pytest.raises(ValueError):
            ConnectionLimits(**bad)  # type: ignore[arg-type]
    options = bounded_server_options(300, 7.5)
    protocol = options["http"]
    assert protocol.func is BoundedH11Protocol
    assert protocol.keywords["limits"] == ConnectionLimits(max_connections=300, request_timeout=7.5)
    # Worker processes receive uvicorn's configuration pickled.
    assert pickle.loads(pickle.dumps(protocol)).keywords == protocol.keywords
