"""Against the real FCM, when a real service-account file is given (skipped otherwise).

``SUPPORTCHAT_FCM_LIVE_CREDENTIALS``: the path of a Firebase project's
service-account key; ``SUPPORTCHAT_FCM_LIVE_TOKEN`` (optional): a real
device's registration token. Messages are sent with ``validate_only``, so
no device shows anything.
"""

from __future__ import annotations

import os

import pytest

from supportchat.push import ErrorClass, FcmClient, FcmError
from supportchat.push.message import collapse_key, fcm_message
from supportchat.push.texts import Text

CREDENTIALS = os.environ.get("SUPPORTCHAT_FCM_LIVE_CREDENTIALS")
DEVICE = os.environ.get("SUPPORTCHAT_FCM_LIVE_TOKEN")

pytestmark = pytest.mark.skipif(
    not CREDENTIALS, reason="set SUPPORTCHAT_FCM_LIVE_CREDENTIALS to a service-account file"
)


def test_real_fcm_takes_our_token_and_our_message() -> None:
    assert CREDENTIALS is not None
    client = FcmClient.from_service_account(CREDENTIALS)
    try:
        assert client.tokens.token().startswith("ya29.")
        message = fcm_message(
            DEVICE or "not-a-real-registration-token",
            {"event": "admin_reply", "ticket_id": "1", "ticket_number": "TKT-00000000", "message_id": "1"},
            Text("Support replied on TKT-00000000", "Live test"),
            key=collapse_key(1),
        )
        try:
            name = client.send(message, validate_only=True)
        except FcmError as error:
            # A made-up token is refused as a token, never as our credentials or our message's shape.
            assert DEVICE is None, error
            assert error.error_class in (ErrorClass.INVALID_ARGUMENT, ErrorClass.UNREGISTERED), error
            assert "registration token" in error.detail, error
        else:
            assert name.startswith(f"projects/{client.project_id}/messages/")
    finally:
        client.close()
