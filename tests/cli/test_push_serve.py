"""``supportchat serve`` with FCM configured: its embedded worker pushes an admin reply to the user's device."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx
import pytest

from supportchat.http import UserTokens

from ..push_emulator import FcmEmulator
from .serving import clean_environment, serving

ROOT = Path(__file__).resolve().parents[2]
SECRET = "serve-push-secret-0123456789-abcdefghijkl"
PREFIX = "/admin/api/support"


@pytest.mark.timeout(120)
def test_the_standalone_server_pushes_an_admin_reply_through_fcm(tmp_path: Path) -> None:
    with FcmEmulator() as emulator:
        key = tmp_path / "firebase.json"
        key.write_text(json.dumps(emulator.account))
        env = clean_environment(
            tmp_path,
            PYTHONPATH=str(ROOT / "src"),
            SUPPORTCHAT_SECRET=SECRET,
            SUPPORTCHAT_FCM_CREDENTIALS=str(key),
            SUPPORTCHAT_FCM_ENDPOINT=emulator.url,
            SUPPORTCHAT_PUSH_QUIET_SECONDS="0",
            SUPPORTCHAT_PUSH_LANGUAGE="en",
        )
        with serving([sys.executable, "-m", "supportchat"], env, tmp_path) as server:
            deadline = time.monotonic() + 60
            admin = {"Authorization": f"Bearer {server.admin_token(deadline)}"}
            user = {"Authorization": f"Bearer {UserTokens(SECRET).mint(5)}"}
            base = f"http://127.0.0.1:{server.port}{PREFIX}"
            assert server.get(f"{PREFIX}/push/status", deadline, admin.get("Authorization", "")[7:]).json()["data"][
                "configured"
            ]
            with httpx.Client(base_url=base, timeout=10) as http:
                device = {"token": "serve-phone:APA91b", "platform": "android"}
                assert http.post("/user/5/devices", json=device, headers=user).status_code == 200
                created = http.post(
                    "/create-ticket", json={"user_id": 5, "subject": "Hello", "description": "Help"}, headers=user
                )
                ticket = created.json()["data"]
                reply = http.post(f"/tickets/{ticket['id']}/messages", json={"message": "On it"}, headers=admin)
                assert reply.status_code == 200, reply.text
                while not emulator.accepted:
                    assert time.monotonic() < deadline, server.output
                    time.sleep(0.1)
            [sent] = emulator.accepted
            assert sent.token == "serve-phone:APA91b"
            assert sent.message["notification"] == {
                "title": f"Support replied on {ticket['ticket_number']}",
                "body": "On it",
            }
    assert server.process.returncode == 0, server.output
