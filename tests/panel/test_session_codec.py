"""The framework-free session cookie and CSRF token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportchat.panel import CsrfRejected, SessionAuthenticator, SessionCodec
from supportchat.panel.headers import CONTENT_SECURITY_POLICY, session_cookie

from .servers import SECRET


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Request:
    def __init__(self, method: str, cookie: str | None, csrf: str | None = None) -> None:
        self.method = method
        self.cookies = {} if cookie is None else {"supportchat_session": cookie}
        self.headers = {} if csrf is None else {"X-CSRF-Token": csrf}


def test_a_session_reads_back_until_it_expires() -> None:
    clock = Clock()
    codec = SessionCodec(SECRET, lifetime=timedelta(hours=1), clock=clock)
    value, issued = codec.issue(7)
    assert codec.read(value) == issued
    assert issued.admin_id == 7
    clock.now += timedelta(minutes=59)
    assert codec.read(value) is not None
    clock.now += timedelta(minutes=2)
    assert codec.read(value) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v.replace("v2.7.", "v2.8.", 1),  # another admin
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # forged MAC
        lambda v: v.rsplit(".", 1)[0],  # MAC dropped
        lambda v: "",
        lambda v: v + ".extra",
        lambda v: "x" * 600,
    ],
)
def test_a_tampered_cookie_is_refused(tamper: object) -> None:
    codec = SessionCodec(SECRET)
    value, _ = codec.issue(7)
    assert codec.read(tamper(value)) is None  # type: ignore[operator]


def test_another_secret_does_not_verify_and_tokens_are_per_session() -> None:
    codec = SessionCodec(SECRET)
    value, first = codec.issue(7)
    assert SessionCodec(SECRET + "-other").read(value) is None
    _, second = codec.issue(7)
    assert codec.csrf_token(first) != codec.csrf_token(second)
    assert codec.check_csrf(first, codec.csrf_token(first))
    assert not codec.check_csrf(first, codec.csrf_token(second))
    assert not codec.check_csrf(first, None)


def test_writes_with_the_cookie_need_the_csrf_token_reads_do_not() -> None:
    codec = SessionCodec(SECRET)
    value, session = codec.issue(3)
    auth = SessionAuthenticator(codec)
    assert auth.identify(Request("GET", value)) is not None
    with pytest.raises(CsrfRejected) as refused:
        auth.identify(Request("POST", value))
    assert refused.value.status == 403
    with pytest.raises(CsrfRejected):
        auth.identify(Request("PUT", value, csrf="wrong"))
    actor = auth.identify(Request("PUT", value, csrf=codec.csrf_token(session)))
    assert actor is not None and actor.id == 3 and actor.is_staff
    assert auth.identify(Request("POST", None)) is None


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        SessionCodec("short")


def test_csp_allows_no_inline_script_and_cookie_attributes() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    cookie = session_cookie("s", "v", path="/admin", secure=True, lifetime=timedelta(hours=1))
    assert {"HttpOnly", "SameSite=Strict", "Secure", "Path=/admin", "Max-Age=3600"} <= set(cookie.split("; "))
    assert "Secure" not in session_cookie("s", "v", path="/", secure=False, lifetime=timedelta(hours=1))


def test_the_login_throttle_counts_per_client_in_a_window() -> None:
    from supportchat.panel.throttle import LoginThrottle

    clock = Clock()
    throttle = LoginThrottle(clock, failures=3, window=timedelta(minutes=1), max_clients=2)
    for _ in range(3):
        assert throttle.retry_after("a") == 0
        throttle.failed("a")
    assert throttle.retry_after("a") == 61
    assert throttle.retry_after("b") == 0
    clock.now += timedelta(seconds=30)
    assert throttle.retry_after("a") == 31
    clock.now += timedelta(seconds=31)
    assert throttle.retry_after("a") == 0
    throttle.failed("b")
    throttle.failed("c")  # over max_clients: "a", whose failures aged out, is forgotten
    throttle.failed("d")
    assert len(throttle._seen) <= 2


def test_the_login_throttle_keeps_a_bounded_record_however_fast_a_client_fails() -> None:
    from supportchat.panel.throttle import LoginThrottle

    clock = Clock()
    throttle = LoginThrottle(clock, failures=10, window=timedelta(minutes=5))
    for _ in range(10_000):
        throttle.failed("guesser")
    assert len(throttle._seen["guesser"]) == 10
    assert throttle.retry_after("guesser") == 301
    assert throttle.retry_after("someone-else") == 0
