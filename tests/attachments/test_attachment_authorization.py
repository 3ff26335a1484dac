"""The authorisation matrix on every attachment route and URL, through both adapters.

Callers: nobody, bad and expired credentials, another user, the wrong audience,
and for the bytes: expired signatures, signatures for another attachment or the
other variant, tampered ones, and signatures presented alongside other credentials.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..api.conftest import PREFIX, expired_user_token
from . import files
from .conftest import AttachmentApi, upload

OWNER, STRANGER = 5, 6


def _bad_callers(att: AttachmentApi) -> dict[str, tuple[dict[str, str], int, str]]:
    return {
        "no credentials": ({}, 401, "not_authenticated"),
        "bad token": ({"Authorization": "Bearer sca_not-a-real-token"}, 401, "not_authenticated"),
        "expired user token": (
            {"Authorization": f"Bearer {expired_user_token(att.users, OWNER)}"},
            401,
            "not_authenticated",
        ),
    }


def _upload_as(att: AttachmentApi, path: str, headers: dict[str, str]) -> Any:
    return upload(att.client, PREFIX + path, headers, "a.png", files.png(), "image/png")


def test_the_admin_upload_route_is_for_admins_only(att: AttachmentApi) -> None:
    ticket = att.ticket_for(OWNER)
    path = f"/tickets/{ticket.id}/attachments"
    for who, (headers, status, code) in {
        **_bad_callers(att),
        "the owner": (att.user(OWNER), 403, "forbidden"),
    }.items():
        reply = _upload_as(att, path, headers)
        assert (reply.status, reply.json()["error"]["code"]) == (status, code), who
    assert list(att.attachments.blobs.keys()) == []
    assert _upload_as(att, "/tickets/999999/attachments", att.admin).status == 404
    assert _upload_as(att, path, att.admin).status == 200


def test_the_user_upload_route_is_for_the_owner_only(att: AttachmentApi) -> None:
    ticket = att.ticket_for(OWNER)
    own = f"/user/{OWNER}/tickets/{ticket.id}/attachments"
    for who, (path, headers, status, code) in {
        **{name: (own, h, s, c) for name, (h, s, c) in _bad_callers(att).items()},
        "an admin": (own, att.admin, 403, "forbidden"),
        "another user, as the owner": (own, att.user(STRANGER), 403, "forbidden"),
        "another user, as themselves": (
            f"/user/{STRANGER}/tickets/{ticket.id}/attachments",
            att.user(STRANGER),
            404,
            "ticket_not_found",
        ),
    }.items():
        reply = _upload_as(att, path, headers)
        assert (reply.status, reply.json()["error"]["code"]) == (status, code), who
    assert list(att.attachments.blobs.keys()) == []
    assert _upload_as(att, own, att.user(OWNER)).status == 200


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


def _get(att: AttachmentApi, url: str, headers: dict[str, str] | None = None) -> tuple[int, str | None]:
    reply = att.client.request("GET", url, headers=headers or {})
    code = reply.json()["error"]["code"] if reply.status >= 400 else None
    return reply.status, code


def test_the_bytes_are_for_the_owner_and_admins_by_signature_or_credentials(att: AttachmentApi) -> None:
    mine, theirs = att.ticket_for(OWNER), att.ticket_for(STRANGER)
    first = _upload_as(att, f"/user/{OWNER}/tickets/{mine.id}/attachments", att.user(OWNER)).json()["data"]
    other = _upload_as(att, f"/user/{STRANGER}/tickets/{theirs.id}/attachments", att.user(STRANGER)).json()["data"]
    plain = f"{PREFIX}/attachments/{first['id']}"
    signed, thumb = first["url"], first["thumbnail_url"]
    other_query = urlsplit(other["url"]).query
    matrix: dict[str, tuple[str, dict[str, str], tuple[int, str | None]]] = {
        "the owner's signature": (signed, {}, (200, None)),
        "the owner's thumbnail signature": (thumb, {}, (200, None)),
        "the owner's credentials": (plain, att.user(OWNER), (200, None)),
        "an admin's credentials": (plain, att.admin, (200, None)),
        "no credentials": (plain, {}, (401, "not_authenticated")),
        "a bad token": (plain, {"Authorization": "Bearer sca_nope"}, (401, "not_authenticated")),
        "another user's credentials": (plain, att.user(STRANGER), (404, "attachment_not_found")),
        "a signature for another attachment": (f"{plain}?{other_query}", {}, (404, "attachment_not_found")),
        "another's signature, with another's credentials": (
            f"{plain}?{other_query}",
            att.user(STRANGER),
            (404, "attachment_not_found"),
        ),
        "the thumbnail's signature for the file": (_with(thumb, variant="file"), {}, (404, "attachment_not_found")),
        "the file's signature for the thumbnail": (
            _with(signed, variant="thumbnail"),
            {},
            (404, "attachment_not_found"),
        ),
        "a signature made out to someone else": (
            _with(signed, viewer=f"u{STRANGER}"),
            {},
            (404, "attachment_not_found"),
        ),
        "a signature made out to an admin": (_with(signed, viewer="a1"), {}, (404, "attachment_not_found")),
        "a later expiry": (_with(signed, expires=str(int(att.time.now) + 10**6)), {}, (404, "attachment_not_found")),
        "a forged signature": (_with(signed, sig="A" * 43), {}, (404, "attachment_not_found")),
        "an unknown variant": (_with(signed, variant="original"), {}, (404, "attachment_not_found")),
        "an unknown attachment": (f"{PREFIX}/attachments/999999", att.admin, (404, "attachment_not_found")),
        "an id beyond every id": (
            f"{PREFIX}/attachments/99999999999999999999",
            att.admin,
            (404, "attachment_not_found"),
        ),
    }
    for who, (url, headers, expected) in matrix.items():
        assert _get(att, url, headers) == expected, who
    # A signature for another ticket's attachment opens that one only, and never for the stranger's own ticket.
    assert _get(att, other["url"]) == (200, None)
    # Expired: refused as such without other credentials; the owner's own credentials still open it.
    att.time.now += 3601
    assert _get(att, signed) == (401, "url_expired")
    assert _get(att, signed, att.user(STRANGER)) == (404, "attachment_not_found")
    assert _get(att, signed, att.user(OWNER)) == (200, None)
    # Reading the thread mints fresh URLs: an admin's opens the bytes without credentials.
    cited = att.call(
        "POST",
        f"/tickets/{mine.id}/user-message",
        headers=att.user(OWNER),
        json={"message": "x", "attachment_id": first["id"]},
    )
    assert cited.status == 200
    thread = att.call("GET", f"/tickets/{mine.id}", headers=att.admin).json()["data"]
    assert _get(att, thread["messages"][-1]["file_url"]) == (200, None)


def test_citing_an_upload_needs_the_right_to_write_in_its_ticket(att: AttachmentApi) -> None:
    mine, theirs = att.ticket_for(OWNER), att.ticket_for(STRANGER)
    uploaded = _upload_as(att, f"/user/{OWNER}/tickets/{mine.id}/attachments", att.user(OWNER)).json()["data"]
    stolen = att.call(
        "POST",
        f"/tickets/{theirs.id}/user-message",
        headers=att.user(STRANGER),
        json={"message": "mira", "attachment_id": uploaded["id"]},
    )
    assert stolen.status == 422 and stolen.json()["error"]["details"]["field"] == "attachment_id"
    into_mine = att.call(
        "POST",
        f"/tickets/{mine.id}/user-message",
        headers=att.user(STRANGER),
        json={"message": "mira", "attachment_id": uploaded["id"]},
    )
    assert into_mine.status == 404
    assert att.store.list_messages(theirs.id, after_id=0, limit=10)[1:] == []
