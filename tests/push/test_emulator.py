"""The FCM emulator refuses what FCM and Google's token endpoint refuse (so the other tests can fail)."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from supportchat.push import FcmError
from supportchat.push.fcm import ErrorClass
from supportchat.push.message import collapse_key, fcm_message
from supportchat.push.texts import BODY_CHARACTERS, Text

from ..push_emulator import FcmEmulator
from ..push_emulator.server import GOOGLE_TOKEN_AUDIENCE, JWT_BEARER, SCOPE, Invalid, validate_message
from .conftest import fcm_client


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _assertion(emulator: FcmEmulator, key: rsa.RSAPrivateKey | None = None, **claims: object) -> str:
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": emulator.account["private_key_id"]}
    body = {
        "iss": emulator.account["client_email"],
        "aud": GOOGLE_TOKEN_AUDIENCE,
        "scope": SCOPE,
        "iat": now,
        "exp": now + 3600,
    }
    body.update(claims)
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    signature = (key or emulator.private_key).sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing}.{_b64(signature)}"


def _grant(emulator: FcmEmulator, assertion: str, grant_type: str = JWT_BEARER) -> httpx.Response:
    return httpx.post(emulator.token_uri, data={"grant_type": grant_type, "assertion": assertion})


def test_the_token_endpoint_verifies_the_jwt_bearer_assertion(emulator: FcmEmulator) -> None:
    assert _grant(emulator, _assertion(emulator)).json()["token_type"] == "Bearer"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = [
        _grant(emulator, _assertion(emulator, other_key)),
        _grant(emulator, _assertion(emulator, aud="https://example.com/token")),
        _grant(emulator, _assertion(emulator, iss="someone@else.iam.gserviceaccount.com")),
        _grant(emulator, _assertion(emulator, exp=int(time.time()) + 7200)),
        _grant(emulator, _assertion(emulator, exp=int(time.time()) - 10)),
        _grant(emulator, _assertion(emulator, scope="https://www.googleapis.com/auth/cloud-platform.read-only")),
        _grant(emulator, _assertion(emulator), grant_type="client_credentials"),
        _grant(emulator, "not.a.jwt"),
    ]
    assert [r.status_code for r in refused] == [400] * len(refused)
    assert refused[0].json() == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    assert emulator.grants == 1


def _message(**overrides: object) -> dict[str, object]:
    message = fcm_message("t:1", {"event": "admin_reply", "ticket_id": "1"}, Text("t", "b"), key=collapse_key(1))
    message.update(overrides)
    return message


@pytest.mark.parametrize(
    ("message", "where"),
    [
        (_message(unknown=1), "message"),
        (_message(data={"n": 1}), "message.data[0].value"),
        (_message(data={"from": "x"}), "message.data"),
        (_message(data={"google.x": "x"}), "message.data"),
        (_message(topic="news"), "message"),
        ({"data": {}}, "message"),
        (_message(android={"priority": "URGENT"}), "message.android.priority"),
        (_message(android={"ttl": "1 day"}), "message.android.ttl"),
        (_message(apns={"headers": {"apns-collapse-id": "x" * 65}}), "message.apns.headers"),
        (_message(apns={"headers": {"apns-priority": "7"}}), "message.apns.headers"),
        (_message(apns={"headers": {"apns-push-type": "background", "apns-priority": "10"}}), "message.apns"),
        (_message(webpush={"headers": {"Topic": "ticket 1!"}}), "message.webpush.headers"),
        (_message(notification={"title": "t", "body": "x" * 5000}), "message"),
        (_message(notification={"title": 5}), "message.notification.title"),
    ],
)
def test_fcm_schema_violations_are_refused(message: dict[str, object], where: str) -> None:
    with pytest.raises(Invalid) as refused:
        validate_message({"message": message})
    assert refused.value.field == where


def test_our_messages_pass_at_their_largest_with_and_without_text() -> None:
    longest = "ñ" * BODY_CHARACTERS
    data = {
        "event": "admin_reply",
        "ticket_id": "9223372036854775807",
        "ticket_number": "TKT-ABCDEFGH",
        "message_id": "1",
    }
    for text in (Text(longest, longest), None):
        checked = validate_message({"message": fcm_message("t:" + "x" * 300, data, text, key=collapse_key(2**63 - 1))})
        assert checked["android"]["priority"] == "HIGH"
    assert validate_message({"message": {"token": "t", "fcmOptions": {"analyticsLabel": "x"}}})  # lowerCamel too


def test_sends_need_a_live_token_of_the_project(emulator: FcmEmulator) -> None:
    client = fcm_client(emulator)
    try:
        client.send(_message())
        emulator.expire_tokens()
        with pytest.raises(FcmError) as expired:
            client.send(_message())
        assert expired.value.error_class is ErrorClass.AUTH and expired.value.http_status == 401
        client.send(_message())  # the 401 dropped the cached token: a new grant
        assert emulator.grants == 2
        other = httpx.post(
            f"{emulator.url}/v1/projects/another/messages:send",
            json={"message": _message()},
            headers={"Authorization": emulator.accepted[-1].authorization},
        )
        assert other.status_code == 403 and other.json()["error"]["status"] == "PERMISSION_DENIED"
    finally:
        client.close()
