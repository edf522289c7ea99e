"""Notifications: the member's latest notices, read state, and the unread count's reset."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from qingyuan.platform import notifications
from qingyuan.platform.schemas import MarkRead, Notifications, NotificationsQuery, Unread
from qingyuan.web.bodies import model_response, parse_form, parse_json, parse_query
from qingyuan.web.notices import notice_of
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, logged_in_user

PAGE_SIZE = 20


@guard(login=True)
async def list_api(request: Request) -> Response:
    user = await logged_in_user(request)
    query = await parse_query(request, NotificationsQuery)
    rows = await notifications.latest(user.id, PAGE_SIZE, before=query.before)
    return model_response(
        Notifications(
            unread=await notifications.unread_count(user.id),
            notifications=[notice_of(n) for n in rows],
        )
    )


@guard(login=True)
async def read_api(request: Request) -> Response:
    user = await logged_in_user(request)
    body = await parse_json(request, MarkRead)
    return model_response(Unread(unread=await notifications.mark_read(user.id, body.up_to)))


@guard(login=True)
async def read_page(request: Request) -> Response:
    user = await logged_in_user(request)
    form = await parse_form(request, MarkRead)
    await notifications.mark_read(user.id, form.up_to)
    return RedirectResponse("/home", status_code=303)


routes = [
    ApiRoute(
        "/api/v1/notifications",
        list_api,
        method="GET",
        summary="The latest notifications, newest first, and the unread count",
        query=NotificationsQuery,
        responses={200: Notifications},
    ),
    ApiRoute(
        "/api/v1/notifications/read",
        read_api,
        method="POST",
        summary="Mark notifications read: all, or those up to the id given",
        body=MarkRead,
        responses={200: Unread},
    ),
    Route("/notifications/read", read_page, methods=["POST"]),
]
