"""FCM HTTP v1 over httpx: ``POST {endpoint}/v1/projects/{id}/messages:send``, OAuth2 from a service account.

:class:`ServiceAccountTokens` gets access tokens with ``google-auth``'s
service-account credentials (the JWT-bearer grant: an RS256 assertion signed
with the account's private key, posted to the file's ``token_uri``), over
the same httpx client, and keeps each token until google-auth deems it
expired (its refresh threshold before ``expires_in``). :class:`FcmClient`
sends one message and turns every failure into an :class:`FcmError` with an
:class:`~.base.ErrorClass` (FCM's ``errorCode`` from the ``FcmError``
detail, else the HTTP status) and the ``Retry-After`` FCM asked for.

Not ``firebase-admin``: it pins httpx and brings Firestore and gRPC along.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from .base import ErrorClass

__all__ = ["DEFAULT_ENDPOINT", "SCOPE", "FcmClient", "FcmError", "ServiceAccountTokens", "classify"]

DEFAULT_ENDPOINT = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"

#: google.rpc status → our class, when no FcmError detail names the code.
_BY_STATUS = {
    "UNAVAILABLE": ErrorClass.UNAVAILABLE,
    "INTERNAL": ErrorClass.INTERNAL,
    "RESOURCE_EXHAUSTED": ErrorClass.QUOTA_EXCEEDED,
    "NOT_FOUND": ErrorClass.UNREGISTERED,
    "INVALID_ARGUMENT": ErrorClass.INVALID_ARGUMENT,
    "UNAUTHENTICATED": ErrorClass.AUTH,
    "PERMISSION_DENIED": ErrorClass.AUTH,
}
_BY_HTTP = {
    400: ErrorClass.INVALID_ARGUMENT,
    401: ErrorClass.AUTH,
    403: ErrorClass.AUTH,
    404: ErrorClass.UNREGISTERED,
    429: ErrorClass.QUOTA_EXCEEDED,
    500: ErrorClass.INTERNAL,
    503: ErrorClass.UNAVAILABLE,
}


class FcmError(Exception):
    """A send that did not deliver: why (``error_class``), FCM's HTTP status and what it asked."""

    def __init__(
        self,
        error_class: ErrorClass,
        detail: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{error_class.value}: {detail}")
        self.error_class = error_class
        self.detail = detail
        self.http_status = http_status
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110); ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def classify(status: int, body: bytes, headers: Mapping[str, str]) -> FcmError:
    """The :class:`FcmError` an FCM error response stands for."""
    error_class = _BY_HTTP.get(status, ErrorClass.UNAVAILABLE if status >= 500 else ErrorClass.UNKNOWN)
    detail = f"HTTP {status}"
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        error = None
    if isinstance(error, dict):
        detail = str(error.get("message") or detail)
        error_class = _BY_STATUS.get(str(error.get("status")), error_class)
        for item in error.get("details") or ():
            if isinstance(item, dict) and item.get("@type") == _FCM_ERROR_TYPE:
                with contextlib.suppress(ValueError):
                    error_class = ErrorClass(str(item.get("errorCode")))
    return FcmError(
        error_class, detail, http_status=status, retry_after=retry_after_seconds(headers.get("retry-after"))
    )


class _HttpxRequest:
    """google-auth's transport ``Request`` over an httpx client."""

    def __init__(self, client: httpx.Client, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        from google.auth import exceptions

        try:
            response = self._client.request(
                method, url, content=body, headers=dict(headers or {}), timeout=timeout or self._timeout
            )
        except httpx.HTTPError as exc:
            raise exceptions.TransportError(exc) from exc  # type: ignore[no-untyped-call]
        return _HttpxResponse(response)


class _HttpxResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)
        self.data = response.content


class ServiceAccountTokens:
    """OAuth2 access tokens for FCM from a service-account key (a file's path or its parsed JSON).

    One token is shared by every thread and kept until it is about to
    expire; ``refreshes`` counts the grants made.
    """

    def __init__(self, key: str | Path | Mapping[str, Any], *, http: httpx.Client, timeout: float = 10.0) -> None:
        from google.oauth2 import service_account

        info = dict(key) if isinstance(key, Mapping) else json.loads(Path(key).read_text(encoding="utf-8"))
        self.project_id: str = info.get("project_id", "")
        self.client_email: str = info.get("client_email", "")
        self._credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=[SCOPE]
        )
        self._request = _HttpxRequest(http, timeout)
        self._lock = threading.Lock()
        self.refreshes = 0

    def token(self) -> str:
        """A valid access token (a new grant only when the cached one is about to expire)."""
        from google.auth import exceptions

        with self._lock:
            if not self._credentials.valid:
                try:
                    self._credentials.refresh(self._request)
                except exceptions.RefreshError as exc:
                    raise FcmError(
                        ErrorClass.AUTH,
                        f"the token endpoint refused the service account {self.client_email}: {exc}",
                    ) from exc
                except exceptions.TransportError as exc:
                    timed_out = isinstance(exc.__cause__, httpx.TimeoutException)
                    raise FcmError(
                        ErrorClass.TIMEOUT if timed_out else ErrorClass.NETWORK,
                        f"the token endpoint could not be reached: {exc}",
                    ) from exc
                self.refreshes += 1
            return str(self._credentials.token)

    def forget(self) -> None:
        """Drop the cached token (FCM refused it): the next send asks for a new one."""
        with self._lock:
            self._credentials.token = None


class FcmClient:
    """Sends FCM v1 messages for ``project_id`` with tokens from ``tokens``.

    ``timeout`` bounds one request (connect, read, write): a hung FCM is a
    ``TIMEOUT`` to retry, never a worker stuck past its lease.
    """

    def __init__(
        self,
        tokens: ServiceAccountTokens,
        *,
        http: httpx.Client,
        project_id: str | None = None,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 10.0,
    ) -> None:
        self.tokens = tokens
        self.project_id = project_id or tokens.project_id
        if not self.project_id:
            raise ValueError("FCM needs a project id: the service account's project_id, or project_id=")
        self.url = f"{endpoint.rstrip('/')}/v1/projects/{self.project_id}/messages:send"
        self._http = http
        self._timeout = timeout

    @classmethod
    def from_service_account(
        cls, key: str | Path | Mapping[str, Any], *, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 10.0
    ) -> FcmClient:
        """A client with its own httpx connection pool, for a service-account key."""
        http = httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=20))
        return cls(ServiceAccountTokens(key, http=http, timeout=timeout), http=http, endpoint=endpoint, timeout=timeout)

    def send(self, message: Mapping[str, Any], *, validate_only: bool = False) -> str:
        """Send ``message`` (FCM's ``Message`` object); the name FCM gave it. Raises :class:`FcmError`."""
        body: dict[str, Any] = {"message": message}
        if validate_only:
            body["validate_only"] = True
        access = self.tokens.token()
        try:
            response = self._http.post(
                self.url,
                content=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
                headers={"Authorization": f"Bearer {access}", "Content-Type": "application/json; charset=UTF-8"},
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            raise FcmError(ErrorClass.TIMEOUT, f"FCM did not answer within {self._timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise FcmError(ErrorClass.NETWORK, f"FCM could not be reached: {exc}") from exc
        if response.status_code == 200:
            return str(response.json().get("name", ""))
        error = classify(response.status_code, response.content, response.headers)
        if response.status_code == 401:
            self.tokens.forget()
        raise error

    def close(self) -> None:
        self._http.close()
