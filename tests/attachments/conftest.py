"""An API with the attachments feature over each adapter, and helpers to upload."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from supportchat import InMemoryStore, SupportDesk
from supportchat.attachments import Attachments, AttachmentSettings, LocalBlobStore, UrlSigner
from supportchat.attachments.feature import feature
from supportchat.stores import Store

from ..api.clients import ApiClient, Reply
from ..api.conftest import SECRET, Api, adapter, make_api

__all__ = ["adapter"]  # the fixture: every test here runs on both adapters


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class AttachmentApi:
    api: Api
    attachments: Attachments
    time: FakeTime
    spool: Path

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)


def multipart(filename: str | None, data: bytes, content_type: str | None, field: str = "file") -> tuple[bytes, str]:
    boundary = "----supportchat" + uuid.uuid4().hex
    disposition = f'form-data; name="{field}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    body = head.encode("utf-8") + b"\r\n" + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(
    client: ApiClient,
    path: str,
    headers: dict[str, str],
    filename: str | None,
    data: bytes,
    content_type: str | None = "application/octet-stream",
) -> Reply:
    body, media_type = multipart(filename, data, content_type)
    return client.request("POST", path, headers={**headers, "Content-Type": media_type}, content=body)


def build(adapter: str, store: Store, root: Path, **settings: Any) -> AttachmentApi:
    clock = FakeTime()
    spool = root / "spool"
    attachments = Attachments(
        LocalBlobStore(root / "blobs"),
        UrlSigner(SECRET, clock=clock),
        settings=AttachmentSettings(**settings),
        spool=spool,
        clock=clock,
    )
    api = make_api(adapter, SupportDesk(store), store, features=[feature(attachments)])
    return AttachmentApi(api, attachments, clock, spool)


@pytest.fixture
def att(adapter: str, tmp_path: Path) -> Iterator[AttachmentApi]:
    """The attachments API over an in-memory desk and a local blob directory, once per adapter."""
    yield build(adapter, InMemoryStore(), tmp_path)
