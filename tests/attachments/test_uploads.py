"""Uploads, the two-phase flow, images made safe, de-duplication and expiry, through both adapters."""

from __future__ import annotations

import io
import os

from PIL import Image

from supportchat import Actor
from supportchat.attachments import EXPIRE_KIND, attachment_records
from supportchat.attachments.feature import feature
from supportchat.extensions import extension
from supportchat.jobs import JobStore

from ..api.conftest import PREFIX
from . import files
from .conftest import AttachmentApi, upload


def user_upload(att: AttachmentApi, user_id: int, ticket_id: int, name: str, data: bytes, kind: str | None) -> dict:
    reply = upload(
        att.client, f"{PREFIX}/user/{user_id}/tickets/{ticket_id}/attachments", att.user(user_id), name, data, kind
    )
    assert reply.status == 200, reply.body
    return reply.json()["data"]


def fetch(att: AttachmentApi, url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    reply = att.client.request("GET", url, headers=headers)
    return reply.status, reply.body, {k.lower(): v for k, v in dict(reply.headers).items()}


def test_a_user_uploads_then_cites_and_every_read_carries_a_fresh_signed_url(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    data = files.docx()
    uploaded = user_upload(att, 5, ticket.id, "contrato.docx", data, "application/octet-stream")
    assert uploaded["kind"] == "file" and uploaded["size"] == len(data) and uploaded["thumbnail_url"] is None
    assert uploaded["content_type"].endswith("wordprocessingml.document")
    sent = att.call(
        "POST",
        f"/tickets/{ticket.id}/user-message",
        headers=att.user(5),
        json={"message": "El contrato", "attachment_id": uploaded["id"]},
    )
    assert sent.status == 200, sent.body
    message = sent.json()["data"]
    assert message["message_type"] == "file" and message["attachment"]["id"] == uploaded["id"]
    assert message["file_url"] == message["attachment"]["url"] and "sig=" in message["file_url"]
    status, body, headers = fetch(att, message["file_url"])
    assert status == 200 and body == data
    assert headers["content-disposition"].startswith("attachment;")
    # Stored: the permanent address, never a signature.
    stored = att.store.list_messages(ticket.id, after_id=0, limit=10)[-1]
    assert stored.file_url == f"http://localhost{PREFIX}/attachments/{uploaded['id']}"
    att.time.now += 10
    admin_view = att.call("GET", f"/tickets/{ticket.id}", headers=att.admin).json()["data"]["messages"][-1]
    owner_view = att.call("GET", f"/user/5/tickets/{ticket.id}", headers=att.user(5)).json()["data"]["messages"][-1]
    polled = att.call("GET", f"/user/5/tickets/{ticket.id}/messages", headers=att.user(5)).json()["data"][-1]
    urls = {admin_view["file_url"], owner_view["file_url"], message["file_url"]}
    assert len(urls) == 3 and "viewer=a" in admin_view["file_url"] and polled["file_url"] == owner_view["file_url"]
    # The seed's external file_url still works beside it.
    external = att.call(
        "POST",
        f"/tickets/{ticket.id}/messages",
        headers=att.admin,
        json={"message": "Mira", "message_type": "image", "file_url": "https://cdn.example.com/a.png"},
    )
    assert external.status == 200 and external.json()["data"]["file_url"] == "https://cdn.example.com/a.png"
    assert external.json()["data"]["attachment"] is None


def test_an_admin_uploads_to_any_ticket_and_the_owner_reads_it(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    path = f"{PREFIX}/tickets/{ticket.ticket_number}/attachments"
    reply = upload(att.client, path, att.admin, "factura.pdf", files.pdf(), "application/pdf")
    assert reply.status == 200, reply.body
    sent = att.call(
        "POST",
        f"/tickets/{ticket.id}/messages",
        headers=att.admin,
        json={"message": "Su factura", "attachment_id": reply.json()["data"]["id"]},
    )
    assert sent.status == 200 and sent.json()["data"]["message_type"] == "file"
    seen = att.call("GET", f"/user/5/tickets/{ticket.id}", headers=att.user(5)).json()["data"]["messages"][-1]
    status, body, headers = fetch(att, seen["attachment"]["url"])
    assert status == 200 and body == files.pdf() and headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("inline;")


def test_the_headers_of_spec_14_and_ranges(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    data = os.urandom(100_000)
    text = b"x" * 50_000 + data.hex().encode()[:50_000]
    uploaded = user_upload(att, 5, ticket.id, "log.txt", text, "text/plain")
    status, body, headers = fetch(att, uploaded["url"])
    assert status == 200 and body == text
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "sandbox"
    assert headers["cache-control"] == "private"
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-disposition"] == "attachment; filename=\"log.txt\"; filename*=UTF-8''log.txt"
    assert headers["accept-ranges"] == "bytes" and headers["content-length"] == str(len(text))
    status, body, headers = fetch(att, uploaded["url"], Range="bytes=100-199")
    assert status == 206 and body == text[100:200] and headers["content-range"] == f"bytes 100-199/{len(text)}"
    status, body, _ = fetch(att, uploaded["url"], Range="bytes=-10")
    assert status == 206 and body == text[-10:]
    status, body, _ = fetch(att, uploaded["url"], Range="bytes=99990-")
    assert status == 206 and body == text[99990:]
    status, _, headers = fetch(att, uploaded["url"], Range=f"bytes={len(text)}-")
    assert status == 416 and headers["content-range"] == f"bytes */{len(text)}"
    status, body, _ = fetch(att, uploaded["url"], Range="bytes=0-1,5-6")
    assert status == 200 and body == text  # several ranges: the whole file
    status, body, _ = fetch(att, uploaded["url"], **{"If-None-Match": f'"{uploaded["sha256"]}"'})
    assert status == 304 and body == b""


def test_a_gps_photo_comes_back_upright_with_no_exif_and_a_thumbnail(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    original = files.phone_photo(orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(files.GPS_IFD)  # the upload has a position
    uploaded = user_upload(att, 5, ticket.id, "IMG_0001.JPG", original, "image/jpeg")
    assert uploaded["kind"] == "image" and (uploaded["width"], uploaded["height"]) == (100, 200)
    status, body, headers = fetch(att, uploaded["url"])
    assert status == 200 and headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(body))
    assert image.size == (100, 200)  # upright: portrait, as the phone showed it
    assert dict(image.getexif()) == {} and "exif" not in image.info and b"Exif" not in body
    assert b"Pixel 8" not in body and "icc_profile" not in image.info
    # The red corner was top-left of the sensor's landscape; turned 90° clockwise, it is top-right.
    assert image.convert("RGB").getpixel((95, 5))[0] > 200 and image.convert("RGB").getpixel((5, 5))[1] > 200
    status, thumb, headers = fetch(att, uploaded["thumbnail_url"])
    assert status == 200 and max(Image.open(io.BytesIO(thumb)).size) <= 320
    assert dict(Image.open(io.BytesIO(thumb)).getexif()) == {}
    # The original bytes are not kept.
    stored = {p.read_bytes() for p in (att.spool.parent / "blobs").rglob("*") if p.is_file()}
    assert original not in stored and body in stored


def test_a_heic_photo_becomes_a_displayable_jpeg(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    uploaded = user_upload(att, 5, ticket.id, "IMG_4032.HEIC", files.heic_photo(), "image/heic")
    assert uploaded["content_type"] == "image/jpeg" and uploaded["filename"] == "IMG_4032.jpg"
    status, body, headers = fetch(att, uploaded["url"])
    assert status == 200 and headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(body))
    assert image.format == "JPEG" and image.size == (120, 80) and dict(image.getexif()) == {}


def test_webp_gif_and_png_keep_their_format_and_lose_their_metadata(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    for name, data, kind, fmt in (
        ("a.webp", files.webp_with_exif(), "image/webp", "WEBP"),
        ("b.gif", files.gif(), "image/gif", "GIF"),
        ("c.png", files.png_with_markup_text(), "image/png", "PNG"),
        ("d.jpg", files.jpeg_with_markup_comment(), "image/jpeg", "JPEG"),
    ):
        uploaded = user_upload(att, 5, ticket.id, name, data, kind)
        _, body, _ = fetch(att, uploaded["url"])
        image = Image.open(io.BytesIO(body))
        assert image.format == fmt and dict(image.getexif()) == {}
        assert b"<script" not in body and b"Phone maker" not in body
        assert not set(image.info) & {"exif", "xmp", "comment", "Comment", "icc_profile"}, image.info


def test_identical_content_is_stored_once_and_removed_with_its_last_user(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    data = files.pdf()
    first = user_upload(att, 5, ticket.id, "a.pdf", data, "application/pdf")
    second = user_upload(att, 5, ticket.id, "b.pdf", data, "application/pdf")
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert list(att.attachments.blobs.keys()) == [first["sha256"]]
    records = attachment_records(att.store)
    att.attachments._drop(att.store, [first["id"]])
    assert list(att.attachments.blobs.keys()) == [first["sha256"]]
    assert att.attachments.forget_ticket(att.store, ticket.id) == 1
    assert list(att.attachments.blobs.keys()) == [] and records.for_ticket(ticket.id) == []


def test_an_upload_nobody_cites_is_removed_after_a_day_by_a_scheduled_job(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    cited = user_upload(att, 5, ticket.id, "a.txt", b"cited", "text/plain")
    att.call(
        "POST",
        f"/tickets/{ticket.id}/user-message",
        headers=att.user(5),
        json={"message": "Adjunto", "attachment_id": cited["id"]},
    )
    lonely = user_upload(att, 5, ticket.id, "b.txt", b"never cited", "text/plain")
    jobs = extension(att.store, JobStore)  # type: ignore[type-abstract]
    [job] = jobs.list_jobs(kind=EXPIRE_KIND)
    assert att.time.now + 24 * 3600 <= job.due_at <= att.time.now + 24 * 3600 + 600
    att.time.now += 24 * 3600 - 60
    assert att.attachments.expire(att.store) == 0
    att.time.now += 120
    [kind] = feature(att.attachments).kinds_for(att.store)
    kind.handler(job)
    records = attachment_records(att.store)
    assert records.get(lonely["id"]) is None and records.get(cited["id"]) is not None
    assert fetch(att, f"{PREFIX}/attachments/{lonely['id']}", **att.admin)[0] == 404
    assert fetch(att, f"{PREFIX}/attachments/{cited['id']}", **att.admin)[0] == 200
    assert list(att.attachments.blobs.keys()) == [cited["sha256"]]


def test_citing_rules(att: AttachmentApi) -> None:
    mine, other = att.ticket_for(5), att.ticket_for(5, "Otro")
    uploaded = user_upload(att, 5, mine.id, "a.txt", b"hola", "text/plain")

    def send(ticket_id: int, **body: object) -> tuple[int, dict]:
        reply = att.call(
            "POST", f"/tickets/{ticket_id}/user-message", headers=att.user(5), json={"message": "x", **body}
        )
        return reply.status, reply.json()

    status, answer = send(other.id, attachment_id=uploaded["id"])
    assert status == 422 and answer["error"]["details"]["field"] == "attachment_id"
    assert send(mine.id, attachment_id=10_000)[0] == 422
    assert send(mine.id, attachment_id="uno")[0] == 422
    status, answer = send(mine.id, attachment_id=uploaded["id"], message_type="text")
    assert status == 422 and answer["error"]["details"]["field"] == "message_type"
    status, answer = send(mine.id, attachment_id=uploaded["id"], file_url="https://example.com/x.png")
    assert status == 422 and answer["error"]["details"]["field"] == "file_url"
    assert send(mine.id, attachment_id=uploaded["id"], client_message_id="m-1")[0] == 200
    assert send(mine.id, attachment_id=uploaded["id"], client_message_id="m-1")[0] == 200  # a retry: the same message
    status, answer = send(mine.id, attachment_id=uploaded["id"])
    assert status == 409 and answer["error"]["code"] == "conflict"


def test_uploads_to_a_closed_ticket_are_refused_and_nothing_is_stored(att: AttachmentApi) -> None:
    ticket = att.ticket_for(5)
    att.desk.change_status(Actor.admin(1), ticket.id, "closed")
    reply = upload(
        att.client, f"{PREFIX}/user/5/tickets/{ticket.id}/attachments", att.user(5), "a.txt", b"x", "text/plain"
    )
    assert reply.status == 409 and reply.json()["error"]["code"] == "ticket_closed"
    assert list(att.attachments.blobs.keys()) == []


def test_the_openapi_document_describes_the_routes(att: AttachmentApi) -> None:
    document = att.call("GET", "/openapi.json").json()
    upload_op = document["paths"][f"{PREFIX}/user/{{user_id}}/tickets/{{ticket_id}}/attachments"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    message = document["paths"][f"{PREFIX}/tickets/{{ticket_id}}/user-message"]["post"]
    assert "attachment_id" in message["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert f"{PREFIX}/attachments/{{attachment_id}}" in document["paths"]
