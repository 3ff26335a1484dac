"""The response headers the panel sends: security policy, caching and the session cookie."""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "clear_cookie",
    "session_cookie",
]

#: No inline script or style, nothing from another origin, no plugins, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)

#: Sent with every panel response (the page, its assets and its JSON).
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def session_cookie(name: str, value: str, *, path: str, secure: bool, lifetime: timedelta) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Strict, Secure over https."""
    parts = [
        f"{name}={value}",
        f"Path={path}",
        f"Max-Age={int(lifetime.total_seconds())}",
        "HttpOnly",
        "SameSite=Strict",
    ]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def clear_cookie(name: str, *, path: str, secure: bool) -> str:
    """A ``Set-Cookie`` value that makes the browser drop the cookie."""
    return session_cookie(name, "", path=path, secure=secure, lifetime=timedelta(0))
