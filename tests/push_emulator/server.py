"""FCM HTTP v1 and the OAuth2 token endpoint, emulated on 127.0.0.1 (an emulator: not Google's service).

What it checks, from FCM's and Google's documentation:

- ``POST /token``: the JWT-bearer grant (RFC 7523): ``grant_type`` is
  ``urn:ietf:params:oauth:grant-type:jwt-bearer``; the assertion is an RS256
  JWT whose signature verifies with the test service account's real RSA
  public key, whose ``kid`` is the key's id, ``iss`` the account's email,
  ``aud`` Google's token endpoint (as documented, whatever URL it is
  posted to), ``scope`` FCM's, and which expires at most an hour after it
  was issued. It answers ``{"access_token", "expires_in",
  "token_type"}`` or ``400 {"error": "invalid_grant", …}``.
- ``POST /v1/projects/{id}/messages:send``: a bearer token this endpoint
  issued and that has not expired (else ``401 UNAUTHENTICATED``); the
  project of the account (else ``403 PERMISSION_DENIED``); the body
  ``{"message": {…}, "validate_only"?}`` with only documented fields (snake
  or lowerCamel case) of the documented types; exactly one target; string
  data values, no reserved data keys (``from``, ``message_type``, ``google…``,
  ``gcm…``); Android ``priority`` ``NORMAL``/``HIGH`` and ``ttl`` a duration;
  APNs headers strings, ``apns-collapse-id`` at most 64 bytes,
  ``apns-priority`` 5 or 10, a background push with priority 5 and
  ``content-available: 1``; web push ``Topic`` at most 32 URL-safe
  characters; the payload at most 4096 bytes. A violation is ``400
  INVALID_ARGUMENT`` with a ``google.rpc.BadRequest`` field violation.
- Errors are FCM's documented bodies: ``{"error": {"code", "message",
  "status", "details": [{"@type": "…FcmError", "errorCode": …}]}}``.

Faults are scripted per send request (:meth:`FcmEmulator.script`): ``503``,
``500``, ``429`` (with ``Retry-After``), ``hang`` (no answer until the
client gives up), ``401``; tokens can be made unregistered or of another
sender.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
#: Google documents the assertion's audience as always this, whichever endpoint it is posted to.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
PAYLOAD_LIMIT = 4096


def service_account(
    token_uri: str, *, project_id: str = "supportchat-test"
) -> tuple[dict[str, Any], rsa.RSAPrivateKey]:
    """A service-account key file's JSON with a fresh 2048-bit RSA key, and that key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": f"push@{project_id}.iam.gserviceaccount.com",
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    return info, key


@dataclass(frozen=True)
class Received:
    """A send request the emulator accepted (answered 200)."""

    body: bytes
    message: dict[str, Any]
    authorization: str
    name: str
    at: float

    @property
    def token(self) -> str:
        return str(self.message.get("token"))


@dataclass
class _Seen:
    path: str
    status: int
    at: float
    fault: str | None


class Invalid(Exception):
    def __init__(self, field_path: str, description: str) -> None:
        super().__init__(description)
        self.field = field_path
        self.description = description


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


# -- the message schema (FCM v1 reference: Message, AndroidConfig, ApnsConfig, WebpushConfig) --

_STRING = "string"
_MAP = "map<string,string>"
_OBJECT = "object"
_BOOL = "bool"
_NOTIFICATION = {"title": _STRING, "body": _STRING, "image": _STRING}
_ANDROID_NOTIFICATION = {
    name: _STRING
    for name in (
        "title",
        "body",
        "icon",
        "color",
        "sound",
        "tag",
        "click_action",
        "body_loc_key",
        "title_loc_key",
        "channel_id",
        "ticker",
        "image",
        "notification_priority",
        "visibility",
    )
} | {"body_loc_args": "list<string>", "title_loc_args": "list<string>", "sticky": _BOOL, "default_sound": _BOOL}
_SCHEMA: dict[str, Any] = {
    "name": _STRING,
    "data": _MAP,
    "notification": _NOTIFICATION,
    "token": _STRING,
    "topic": _STRING,
    "condition": _STRING,
    "fcm_options": {"analytics_label": _STRING},
    "android": {
        "collapse_key": _STRING,
        "priority": ("NORMAL", "HIGH"),
        "ttl": "duration",
        "restricted_package_name": _STRING,
        "data": _MAP,
        "notification": _ANDROID_NOTIFICATION,
        "fcm_options": {"analytics_label": _STRING},
        "direct_boot_ok": _BOOL,
    },
    "apns": {"headers": _MAP, "payload": _OBJECT, "fcm_options": {"analytics_label": _STRING, "image": _STRING}},
    "webpush": {
        "headers": _MAP,
        "data": _MAP,
        "notification": _OBJECT,
        "fcm_options": {"link": _STRING, "analytics_label": _STRING},
    },
}
_DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_RESERVED_DATA = re.compile(r"^(from|message_type|notification|google.*|gcm.*)$")


def _check(value: Any, schema: Any, where: str) -> dict[str, Any] | Any:
    """``value`` checked against ``schema``, with its keys in snake case."""
    if schema == _STRING:
        if not isinstance(value, str):
            raise Invalid(where, f"Invalid value at '{where}' (TYPE_STRING), {json.dumps(value)}")
        return value
    if schema == _BOOL:
        if not isinstance(value, bool):
            raise Invalid(where, f"Invalid value at '{where}' (TYPE_BOOL), {json.dumps(value)}")
        return value
    if schema == "duration":
        if not isinstance(value, str) or not _DURATION.match(value):
            raise Invalid(where, f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Duration)")
        return value
    if schema == "list<string>":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Invalid(where, f"Invalid value at '{where}' (TYPE_STRING)")
        return value
    if isinstance(schema, tuple):
        if value not in schema:
            raise Invalid(where, f"Invalid value at '{where}' (TYPE_ENUM), {json.dumps(value)}")
        return value
    if schema == _MAP:
        if not isinstance(value, dict):
            raise Invalid(where, f"Invalid value at '{where}' (map), {json.dumps(value)}")
        for index, item in enumerate(value.values()):
            if not isinstance(item, str):
                raise Invalid(f"{where}[{index}].value", f"Invalid value at '{where}[{index}].value' (TYPE_STRING)")
        return value
    if schema == _OBJECT:
        if not isinstance(value, dict):
            raise Invalid(where, f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Struct)")
        return value
    if not isinstance(value, dict):
        raise Invalid(where, f"Invalid value at '{where}', {json.dumps(value)}")
    names = {name: name for name in schema} | {_camel(name): name for name in schema}
    checked = {}
    for key, item in value.items():
        if key not in names:
            raise Invalid(
                where, f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
            )
        name = names[key]
        checked[name] = _check(item, schema[name], f"{where}.{name}")
    return checked


def validate_message(body: Any) -> dict[str, Any]:
    """The request body's message, snake-cased; raises :class:`Invalid` as FCM would refuse it."""
    if not isinstance(body, dict):
        raise Invalid("", "Invalid JSON payload received.")
    for key in body:
        if key not in ("message", "validate_only", "validateOnly"):
            raise Invalid("", f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
    if "message" not in body:
        raise Invalid("message", "Request contains an invalid argument.")
    message: dict[str, Any] = _check(body["message"], _SCHEMA, "message")
    targets = [name for name in ("token", "topic", "condition") if name in message]
    if len(targets) != 1:
        raise Invalid("message", "Exactly one of token, topic or condition must be specified.")
    for key in message.get("data", {}):
        if _RESERVED_DATA.match(key):
            raise Invalid("message.data", f"Invalid data payload key: {key}")
    headers = message.get("apns", {}).get("headers", {})
    if len(headers.get("apns-collapse-id", "").encode()) > 64:
        raise Invalid("message.apns.headers", "apns-collapse-id must be at most 64 bytes")
    if headers.get("apns-priority", "10") not in ("5", "10"):
        raise Invalid("message.apns.headers", "apns-priority must be 5 or 10")
    if headers.get("apns-push-type") == "background":
        aps = message.get("apns", {}).get("payload", {}).get("aps", {})
        if headers.get("apns-priority") != "5" or aps.get("content-available") != 1:
            raise Invalid("message.apns", "a background push needs apns-priority 5 and content-available 1")
    topic = message.get("webpush", {}).get("headers", {}).get("Topic")
    if topic is not None and not _TOPIC.match(topic):
        raise Invalid("message.webpush.headers", "Topic must be at most 32 URL-safe base64 characters")
    payload = {"data": message.get("data", {}), "notification": message.get("notification", {})}
    if len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()) > PAYLOAD_LIMIT:
        raise Invalid("message", "Message is too big")
    return message


def fcm_error(code: int, status: str, message: str, error_code: str | None = None) -> dict[str, Any]:
    details: list[dict[str, Any]] = []
    if error_code is not None:
        details.append({"@type": FCM_ERROR, "errorCode": error_code})
    return {"error": {"code": code, "message": message, "status": status, "details": details}}


_FAULTS: dict[str, tuple[int, dict[str, Any]]] = {
    "503": (503, fcm_error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE")),
    "500": (500, fcm_error(500, "INTERNAL", "Internal error encountered.", "INTERNAL")),
    "429": (
        429,
        fcm_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'.", "QUOTA_EXCEEDED"),
    ),
    "401": (
        401,
        fcm_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        ),
    ),
}


class FcmEmulator:
    """The emulator: a threaded HTTP server on a free loopback port (use as a context manager)."""

    def __init__(self, *, project_id: str = "supportchat-test", token_lifetime: int = 3600) -> None:
        self.project_id = project_id
        self.token_lifetime = token_lifetime
        self.hang_seconds = 30.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.token_uri = self.url + "/token"
        self.account, self.private_key = service_account(self.token_uri, project_id=project_id)
        self._public_key = self.private_key.public_key()
        self._lock = threading.Lock()
        self._faults: list[tuple[str, float | None]] = []
        self._tokens: dict[str, float] = {}
        self._stopping = threading.Event()
        self.unregistered: set[str] = set()
        self.other_sender: set[str] = set()
        self.malformed: set[str] = set()
        self.refuse_grants = False
        self.grants = 0
        self.accepted: list[Received] = []
        self.seen: list[_Seen] = []
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------

    def __enter__(self) -> FcmEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def script(self, faults: Iterable[str | tuple[str, float]]) -> None:
        """Answer the next send requests with these faults, in order (``("429", 2)``: Retry-After 2 s)."""
        with self._lock:
            for fault in faults:
                self._faults.append((fault, None) if isinstance(fault, str) else (fault[0], fault[1]))

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.accepted.clear()
            self.seen.clear()
            self.unregistered.clear()
            self.other_sender.clear()

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (FCM then answers 401)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    @property
    def send_url(self) -> str:
        return f"{self.url}/v1/projects/{self.project_id}/messages:send"

    def sends(self) -> list[_Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.endswith(":send")]

    # -- the endpoints -------------------------------------------------------

    def _grant(self, form: Mapping[str, list[str]]) -> tuple[int, dict[str, Any]]:
        def refused(description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"error": "invalid_grant", "error_description": description}

        if form.get("grant_type") != [JWT_BEARER]:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        if self.refuse_grants:
            return refused("Invalid JWT Signature.")
        try:
            header_part, claims_part, signature_part = form["assertion"][0].split(".")
            header = json.loads(_b64(header_part))
            claims = json.loads(_b64(claims_part))
            signature = _b64(signature_part)
        except (KeyError, ValueError):
            return refused("Invalid JWT: malformed assertion.")
        if header.get("alg") != "RS256" or header.get("kid") != self.account["private_key_id"]:
            return refused("Invalid JWT: alg must be RS256 and kid the key's id.")
        try:
            self._public_key.verify(
                signature, f"{header_part}.{claims_part}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return refused("Invalid JWT Signature.")
        now = time.time()
        if claims.get("iss") != self.account["client_email"] or claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return refused("Invalid JWT: iss or aud do not match the service account.")
        if SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope."}
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or iat > now + 60 or exp <= now or exp - iat > 3600:
            return refused("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = now + self.token_lifetime
            self.grants += 1
        return 200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}

    def _send(
        self, project: str, authorization: str, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str], str | None]:
        with self._lock:
            expiry = self._tokens.get(authorization.removeprefix("Bearer "), 0.0)
            fault = self._faults.pop(0) if self._faults else None
        if not authorization.startswith("Bearer ") or expiry <= time.time():
            status, body = _FAULTS["401"]
            return status, body, {}, "401"
        if project != self.project_id:
            return 403, fcm_error(403, "PERMISSION_DENIED", f"Permission denied on project {project}."), {}, None
        try:
            body = json.loads(raw)
            message = validate_message(body)
        except (ValueError, UnicodeDecodeError):
            return 400, fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."), {}, None
        except Invalid as exc:
            error = fcm_error(400, "INVALID_ARGUMENT", exc.description)
            error["error"]["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": exc.field, "description": exc.description}],
                }
            ]
            return 400, error, {}, None
        if fault is not None:
            kind, retry_after = fault
            if kind == "hang":
                with self._lock:
                    self.seen.append(_Seen(f"/v1/projects/{project}/messages:send", 0, time.time(), "hang"))
                self._stopping.wait(self.hang_seconds)
                return 0, {}, {}, "hang"
            status, error = _FAULTS[kind]
            headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
            return status, error, headers, kind
        token = message.get("token", "")
        if token in self.unregistered:
            return 404, fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"), {}, None
        if token in self.malformed:
            error = fcm_error(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token")
            error["error"]["details"] = [{"@type": FCM_ERROR, "errorCode": "INVALID_ARGUMENT"}]
            return 400, error, {}, None
        if token in self.other_sender:
            error = fcm_error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")
            return 403, error, {}, None
        name = f"projects/{self.project_id}/messages/{secrets.token_hex(8)}"
        if not body.get("validate_only", body.get("validateOnly", False)):
            with self._lock:
                self.accepted.append(Received(raw, message, authorization, name, time.time()))
        return 200, {"name": name}, {}, None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self
        send_path = re.compile(r"^/v1/projects/([^/]+)/messages:send$")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            #: Buffered: the status line, headers and body leave in one segment (no delayed-ACK stall).
            wbufsize = -1

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                headers: dict[str, str] = {}
                fault: str | None = None
                if self.path == "/token":
                    status, body = emulator._grant(urllib.parse.parse_qs(raw.decode()))
                elif found := send_path.match(self.path):
                    status, body, headers, fault = emulator._send(
                        found.group(1), self.headers.get("Authorization", ""), raw
                    )
                else:
                    status, body = 404, fcm_error(404, "NOT_FOUND", "Not found")
                if status == 0:  # hung (recorded when it began): the client gave up long ago
                    self.close_connection = True
                    return
                with emulator._lock:
                    emulator.seen.append(_Seen(self.path, status, time.time(), fault))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


@contextmanager
def running(**options: Any) -> Iterator[FcmEmulator]:
    with FcmEmulator(**options) as emulator:
        yield emulator


__all__ = ["FcmEmulator", "Invalid", "Received", "fcm_error", "running", "service_account", "validate_message"]
