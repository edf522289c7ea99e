"""Notifications: the member's latest notices, read state, and the unread count's reset."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from qingyuan.platform import notifications
from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.web.bodies import read_form, read_json
from qingyuan.web.notices import notice_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, logged_in_user

PAGE_SIZE = 20
NOTICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "text", "url", "created_at", "read"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "description": "e.g. match.proposed, connection.created"},
        "text": {"type": "string", "description": "In the reader's language"},
        "url": {"type": "string", "description": "The page the notice is about"},
        "created_at": {"type": "string", "format": "date-time"},
        "read": {"type": "boolean"},
    },
}
UNREAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["unread"],
    "properties": {"unread": {"type": "integer"}},
}
LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["unread", "notifications"],
    "properties": {
        "unread": {"type": "integer"},
        "notifications": {"type": "array", "items": NOTICE_SCHEMA},
    },
}


def _optional_id(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or not 1 <= number < 2**63:  # beyond BIGINT the driver raises
        raise ValidationFailed(fields={field: _("Give the id of a notification.")})
    return number


@guard(login=True)
async def list_api(request: Request) -> Response:
    user = await logged_in_user(request)
    before = _optional_id(request.query_params.get("before"), "before")
    rows = await notifications.latest(user.id, PAGE_SIZE, before=before)
    return JSONResponse(
        {
            "unread": await notifications.unread_count(user.id),
            "notifications": [notice_json(n) for n in rows],
        }
    )


@guard(login=True)
async def read_api(request: Request) -> Response:
    user = await logged_in_user(request)
    up_to = _optional_id((await read_json(request)).get("up_to"), "up_to")
    return JSONResponse({"unread": await notifications.mark_read(user.id, up_to)})


@guard(login=True)
async def read_page(request: Request) -> Response:
    user = await logged_in_user(request)
    form = await read_form(request)
    await notifications.mark_read(user.id, _optional_id(form.get("up_to"), "up_to"))
    return RedirectResponse("/home", status_code=303)


routes = [
    ApiRoute(
        "/api/v1/notifications",
        list_api,
        method="GET",
        summary="The latest notifications, newest first, and the unread count",
        query={"before": {"type": "integer", "description": "Page back: ids below this one"}},
        errors=(422,),
        responses={200: LIST_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/notifications/read",
        read_api,
        method="POST",
        summary="Mark notifications read: all, or those up to the id given",
        body={
            "type": "object",
            "properties": {"up_to": {"type": ["integer", "null"]}},
        },
        responses={200: UNREAD_SCHEMA},
    ),
    Route("/notifications/read", read_page, methods=["POST"]),
]
