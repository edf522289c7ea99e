"""Pages of the platform kernel: landing, login, logout, home, preferences, admin audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from qingyuan.platform import login, notifications
from qingyuan.platform.actions import action_text
from qingyuan.platform.errors import RateLimited, ValidationFailed
from qingyuan.platform.i18n import LOCALES
from qingyuan.platform.models import AuditEntry, Role
from qingyuan.verification.review import member_of
from qingyuan.web.bodies import read_form
from qingyuan.web.notices import notice_of
from qingyuan.web.routes.api import client_ip
from qingyuan.web.security import (
    clear_session_cookie,
    current_session,
    guard,
    kernel_of,
    logged_in_user,
    safe_next,
    set_preference_cookie,
    set_session_cookie,
)
from qingyuan.web.templating import LANGUAGE_COOKIE, LARGE_TEXT_COOKIE, render

HOME_NOTICES = 5


@guard()
async def landing(request: Request) -> Response:
    return await render(request, "landing.html")


@guard()
async def login_form(request: Request) -> Response:
    if await current_session(request):
        return RedirectResponse(safe_next(request.query_params.get("next"), "/home"), 303)
    context = {"next": request.query_params.get("next", ""), "error": None, "phone": ""}
    return await render(request, "login.html", context)


@guard()
async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    phone, next_path = str(form.get("phone", "")), str(form.get("next", ""))
    try:
        _, session = await login.log_in(
            kernel_of(request),
            phone,
            str(form.get("password", "")),
            client_ip(request),
            await current_session(request),
        )
    except (ValidationFailed, RateLimited) as error:
        context = {"error": error, "phone": phone, "next": next_path}
        return await render(request, "login.html", context, status_code=error.status)
    response = RedirectResponse(safe_next(next_path, "/home"), status_code=303)
    set_session_cookie(request, response, session.id)
    return response


@guard()
async def logout(request: Request) -> Response:
    await login.log_out(kernel_of(request), await current_session(request))
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(request, response)
    return response


@guard(login=True)
async def home(request: Request) -> Response:
    user = await logged_in_user(request)
    member = await member_of(user)
    latest = await notifications.latest(user.id, HOME_NOTICES)
    notices = [notice_of(n).model_dump(mode="json") for n in latest]
    return await render(request, "home.html", {"member": member, "notices": notices})


@guard()
async def set_language(request: Request) -> Response:
    form = await read_form(request)
    language = str(form.get("language", ""))
    response = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
    if language in LOCALES:
        set_preference_cookie(request, response, LANGUAGE_COOKIE, language)
    return response


@guard()
async def set_large_text(request: Request) -> Response:
    form = await read_form(request)
    enabled = "1" if form.get("large_text") == "1" else "0"
    response = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
    set_preference_cookie(request, response, LARGE_TEXT_COOKIE, enabled)
    return response


@guard(roles=(Role.ADMIN,))
async def audit_log(request: Request) -> Response:
    entries = await AuditEntry.all().limit(100).prefetch_related("actor")
    context = {"entries": entries, "action_text": action_text}
    return await render(request, "admin/audit.html", context)


routes = [
    Route("/", landing),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/home", home),
    Route("/preferences/language", set_language, methods=["POST"]),
    Route("/preferences/large-text", set_large_text, methods=["POST"]),
    Route("/admin/audit", audit_log),
]
