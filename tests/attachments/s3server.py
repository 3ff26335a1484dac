"""A real S3-compatible server for the tests: moto's server mode on 127.0.0.1 (not AWS)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in a thread on a free port of 127.0.0.1; yields its endpoint URL."""
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = _free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2}),
    )


def new_bucket(client: Any) -> str:
    name = f"attachments-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name
