"""Jinja2 templates: autoescaped, translated through the request's locale, mobile-first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from qingyuan.connections.chat import unread_counts
from qingyuan.platform import i18n, notifications
from qingyuan.platform.models import Role, User
from qingyuan.verification import status
from qingyuan.web.security import csrf_token, current_user, remember_visitor

LARGE_TEXT_COOKIE = "qy_large"
LANGUAGE_COOKIE = "qy_lang"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    # jinja2.ext.i18n adds this method when the environment is built; jinja2's types lack it.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        degree_text=status.degree_text,
        employment_text=status.employment_text,
        department_checks_for=status.department_checks_for,
        status_text=status.status_text,
    )
    return env


def _context(request: Request) -> dict[str, Any]:
    locale = i18n.get_locale()
    zone = ZoneInfo(request.app.state.kernel.settings.timezone)
    return {
        "local_time": lambda moment, fmt="%Y-%m-%d %H:%M": _local(moment, zone, fmt),
        "local_time_iso": lambda text, fmt="%m-%d %H:%M": _local(
            datetime.fromisoformat(text), zone, fmt
        ),
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "large_text": request.cookies.get(LARGE_TEXT_COOKIE) == "1",
        "csrf_token": csrf_token(request),
        "user": request.scope.get("qingyuan", {}).get("user"),
        "path": request.url.path,
    }


def _local(moment: datetime, zone: ZoneInfo, fmt: str) -> str:
    """A stored (UTC) time as people in the platform's time zone read it."""
    return moment.astimezone(zone).strftime(fmt)


templates = Jinja2Templates(env=_environment(), context_processors=[_context])


async def unread_by_connection(request: Request, user: User) -> dict[int, int]:
    """The member's unread messages per connection, counted once per request (the
    navigation and the connections page both show them)."""
    cache = request.scope.setdefault("qingyuan", {})
    if "unread_by_connection" not in cache:
        cache["unread_by_connection"] = await unread_counts(user.id)
    return cache["unread_by_connection"]


async def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a page for the current user (navigation, CSRF token need them loaded first).

    Also sets the pre-login visitor cookie that the page's forms' CSRF token relies on.
    """
    user = await current_user(request)
    unread = await notifications.unread_count(user.id) if user else 0
    messages = 0
    if user is not None and user.role == Role.MEMBER:  # unread chat messages, in the navigation
        messages = sum((await unread_by_connection(request, user)).values())
    navigation = {"unread_notices": unread, "unread_messages": messages}
    response = templates.TemplateResponse(
        request, name, {**navigation, **(context or {})}, status_code=status_code
    )
    remember_visitor(request, response)
    return response
