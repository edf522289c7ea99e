"""Pure ASGI middleware: locale, security headers, metrics. Small, and cheap per request."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qingyuan.platform import i18n

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

REQUESTS = Counter(
    "qingyuan_http_requests_total", "HTTP requests", ["method", "endpoint", "status"]
)
LATENCY = Histogram("qingyuan_http_request_seconds", "HTTP request latency", ["method", "endpoint"])


def _cookies(scope: Scope) -> SimpleCookie:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookie = SimpleCookie()
            cookie.load(value.decode("latin-1"))
            return cookie
    return SimpleCookie()


def _header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return value.decode("latin-1")
    return ""


class LocaleMiddleware:
    """The language: the `qy_lang` cookie if set, else the browser's Accept-Language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            chosen = _cookies(scope).get("qy_lang")
            locale = chosen.value if chosen else i18n.negotiate(_header(scope, b"accept-language"))
            with i18n.use_locale(locale):
                await self.app(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """docs/brief.md §4 headers on every response; personal responses are never cached."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "geolocation=(), microphone=(), camera=(self)"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if self.hsts:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                if not is_static:
                    headers["Cache-Control"] = "no-store"
                    headers.append("Vary", "Cookie")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class MetricsMiddleware:
    """Request counts and latency per endpoint name (never per raw path: unbounded labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            endpoint = getattr(scope.get("endpoint"), "__name__", "unmatched")
            LATENCY.labels(scope["method"], endpoint).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], endpoint, str(status[0])).inc()
