"""Who is asking, and may they: sessions, CSRF, Origin checks and role guards for endpoints.

Every endpoint is wrapped by `guard(...)`. For unsafe methods it checks the Origin (or
Referer) against the request's own host and then the synchronizer CSRF token, from the
`csrf_token` form field or the `X-CSRF-Token` header. Before login there is no server-side
session yet, so forms carry a token derived (HMAC) from a random `qy_anon` cookie; after
login the token is the random one stored in the session.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from qingyuan.parts import Services
from qingyuan.platform.errors import Forbidden, NotAuthenticated, NotFound
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import Role, User
from qingyuan.platform.sessions import Session
from qingyuan.platform.settings import PlatformSettings
from qingyuan.verification import Member
from qingyuan.verification.status import check_verified, member_with_user
from qingyuan.web.bodies import read_form

SESSION_COOKIE = "qy_session"
# Over HTTPS the session cookie is a `__Host-` cookie: browsers accept it only with Secure,
# Path=/ and no Domain, so neither a plain-http page nor a sibling subdomain can plant one.
SECURE_SESSION_COOKIE = "__Host-qy_session"
ANON_COOKIE = "qy_anon"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PREFERENCE_SECONDS = 365 * 24 * 3600

Endpoint = Callable[[Request], Awaitable[Response]]


def kernel_of(request: Request) -> Kernel:
    return request.app.state.kernel


def services_of(connection: HTTPConnection) -> Services:
    """The app's typed per-part services (built in the lifespan by `qingyuan.parts`)."""
    return cast(Services, connection.app.state.services)


def session_cookie_name(settings: PlatformSettings) -> str:
    """`__Host-qy_session` where cookies must be Secure, `qy_session` in plain-http dev."""
    return SECURE_SESSION_COOKIE if settings.secure_cookies else SESSION_COOKIE


async def current_session(request: Request) -> Session | None:
    """The live session of this request, loaded once per request."""
    if "session" not in request.scope.setdefault("qingyuan", {}):
        session_id = request.cookies.get(session_cookie_name(kernel_of(request).settings))
        session = await kernel_of(request).sessions.load(session_id) if session_id else None
        request.scope["qingyuan"]["session"] = session
    return request.scope["qingyuan"]["session"]


async def current_user(request: Request) -> User | None:
    """The viewer, loaded once per request; a member's verification record comes with it."""
    cache = request.scope.setdefault("qingyuan", {})
    if "user" not in cache:
        session = await current_session(request)
        member = None
        if session and session.role == Role.MEMBER.value:
            member = await member_with_user(session.user_id)
        user = member.user if member else None
        if session and user is None:
            user = await User.get_or_none(id=session.user_id, is_active=True)
        cache["user"], cache["viewer_member"] = user, member
    return cache["user"]


async def current_member(request: Request) -> Member | None:
    """The viewer's verification record (None for staff and the unregistered), per request."""
    await current_user(request)
    return request.scope["qingyuan"]["viewer_member"]


async def verified_member(request: Request) -> Member:
    """The viewer's verification record if verified, else the Forbidden that says why."""
    return await check_verified(await current_member(request))


async def logged_in_user(request: Request) -> User:
    """The user `guard(login=True)` let in: a 401, never an assert, if there is none."""
    user = await current_user(request)
    if user is None:
        raise NotAuthenticated()
    return user


def anonymous_id(request: Request) -> str:
    """The visitor's random pre-login id; a new one is set as a cookie by `remember_visitor`."""
    cache = request.scope.setdefault("qingyuan", {})
    if "anon" not in cache:
        cache["anon"] = request.cookies.get(ANON_COOKIE) or secrets.token_urlsafe(24)
    return cache["anon"]


def _anonymous_token(request: Request, anon_id: str) -> str:
    key = kernel_of(request).settings.secret_key.get_secret_value()
    return hmac.new(key, f"csrf\x00{anon_id}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token forms must echo; call after `current_session` has run for this request."""
    session = request.scope.get("qingyuan", {}).get("session")
    return session.csrf_token if session else _anonymous_token(request, anonymous_id(request))


def set_private_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """A browser-session cookie scripts cannot read, sent same-site only (HTTPS in production)."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=kernel_of(request).settings.secure_cookies,
        path="/",
    )


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    name = session_cookie_name(kernel_of(request).settings)
    set_private_cookie(request, response, name, session_id)


def clear_session_cookie(request: Request, response: Response) -> None:
    """Expire the session cookie with the flags it was set with (a `__Host-` cookie is only
    replaced by one that is Secure too)."""
    settings = kernel_of(request).settings
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def set_preference_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """A long-lived display preference (language, large text): Secure like every cookie here
    whenever the deployment says cookies must be."""
    response.set_cookie(
        name,
        value,
        max_age=PREFERENCE_SECONDS,
        samesite="lax",
        secure=kernel_of(request).settings.secure_cookies,
        path="/",
    )


def remember_visitor(request: Request, response: Response) -> None:
    """Set the `qy_anon` cookie when this request invented one (it backs pre-login forms)."""
    anon = request.scope.get("qingyuan", {}).get("anon")
    if anon and request.cookies.get(ANON_COOKIE) != anon:
        set_private_cookie(request, response, ANON_COOKIE, anon)


def _same_origin(request: Request, url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[": not a URL, so not ours
        return False
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


def check_origin(request: Request) -> None:
    """Refuse unsafe requests that a browser marks as coming from another site."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and (origin == "null" or not _same_origin(request, origin)):
        raise Forbidden(_("This request came from another site and was refused."))


async def check_csrf(request: Request) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        field = (await read_form(request)).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    session = await current_session(request)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        if session is None and request.cookies.get(
            session_cookie_name(kernel_of(request).settings)
        ):
            raise NotAuthenticated()  # the session ended: logging in again is the remedy
        raise Forbidden(_("Your form has expired. Please reload the page and try again."))


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def guard(
    *, login: bool = False, roles: tuple[Role, ...] = (), csrf: bool = True
) -> Callable[[Endpoint], Endpoint]:
    """Wrap an endpoint with the Origin/CSRF checks and the login and role requirements.

    Staff areas answer 404 to other roles: their existence is not advertised.
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            unsafe = request.method not in SAFE_METHODS
            if unsafe:
                check_origin(request)
            # Without a live session the answer is "log in" (401), whatever token was sent:
            # a client that logs in again on 401 recovers; a 403 would leave it stuck.
            needs_user = login or bool(roles)
            user = await current_user(request) if needs_user else None
            if needs_user and user is None:
                return _login_required(request)
            if unsafe and csrf:
                try:
                    await check_csrf(request)  # 403 only for a mismatch within a live session
                except NotAuthenticated:
                    return _login_required(request)
            if roles and (user is None or user.role not in roles):
                raise NotFound()
            return await endpoint(request)

        return guarded

    return decorate


def _login_required(request: Request) -> Response:
    if is_api(request):
        raise NotAuthenticated()
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths are followed after login or a preference change (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
