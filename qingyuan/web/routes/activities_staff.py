"""Staff side of activities: admins create, edit and cancel; volunteers check members in."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from qingyuan.events import activities, checkin
from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.routes.activities import ACTIVITY_SCHEMA, config_of
from qingyuan.web.routes.api import json_body
from qingyuan.web.security import current_user, guard, kernel_of

ADMIN = (Role.ADMIN,)
STAFF = (Role.ADMIN, Role.MATCHMAKER)
ACTIVITY_BODY: dict[str, Any] = {
    "type": "object",
    "required": [
        "title",
        "kind",
        "starts_at",
        "ends_at",
        "place",
        "capacity",
        "quotas",
        "registration_closes_at",
        "cancel_deadline",
    ],
    "properties": {
        name: schema
        for name, schema in ACTIVITY_SCHEMA["properties"].items()
        if name not in ("id", "kind_label", "status")
    }
    | {"requires_verification": {"type": "boolean"}},
}
ID_SCHEMA = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
CHECKIN_SCHEMA = {
    "type": "object",
    "required": ["status", "registration_id", "activity_id"],
    "properties": {
        "status": {"type": "string", "enum": ["checked_in"]},
        "registration_id": {"type": "integer"},
        "activity_id": {"type": "integer"},
        "activity_title": {"type": "string"},
        "gender": {"type": "string"},
    },
}


async def _staff(request: Request) -> User:
    user = await current_user(request)
    assert user is not None
    return user


def _form(request: Request, body: dict[str, Any]) -> activities.ActivityForm:
    return activities.validate(body, kernel_of(request).settings.timezone)


@guard(roles=ADMIN)
async def create_api(request: Request) -> Response:
    form = _form(request, await json_body(request))
    activity = await activities.create_activity(await _staff(request), form)
    return JSONResponse({"id": activity.id}, status_code=201)


@guard(roles=ADMIN)
async def update_api(request: Request) -> Response:
    form = _form(request, await json_body(request))
    activity = await activities.update_activity(
        await _staff(request), request.path_params["activity_id"], form
    )
    return JSONResponse({"id": activity.id})


@guard(roles=ADMIN)
async def cancel_api(request: Request) -> Response:
    body = await json_body(request)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(fields={"reason": _("Say why the activity is cancelled.")})
    await activities.cancel_activity(
        await _staff(request), request.path_params["activity_id"], reason.strip()[:500]
    )
    return JSONResponse({"status": "cancelled"})


@guard(roles=STAFF)
async def checkin_api(request: Request) -> Response:
    body = await json_body(request)
    code = body.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 200:
        raise ValidationFailed(fields={"code": _("Scan the QR code or type the ticket code.")})
    activity_id = body.get("activity_id")
    if activity_id is not None and (
        isinstance(activity_id, bool) or not isinstance(activity_id, int)
    ):
        raise ValidationFailed(fields={"activity_id": _("Choose an activity.")})
    entry = await checkin.check_in(
        config_of(request), await _staff(request), code, activity_id=activity_id
    )
    return JSONResponse(
        {
            "status": "checked_in",
            "registration_id": entry.registration.id,
            "activity_id": entry.activity.id,
            "activity_title": entry.activity.title,
            "gender": entry.registration.gender,
        }
    )


ADMIN_PATH = "/api/v1/admin/activities"
routes = [
    ApiRoute(
        ADMIN_PATH,
        create_api,
        method="POST",
        summary="Create an activity (admins)",
        body=ACTIVITY_BODY,
        errors=(404,),
        responses={201: ID_SCHEMA},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:int}}",
        update_api,
        method="PUT",
        summary="Edit an activity (admins); seats already taken must still fit",
        body=ACTIVITY_BODY,
        errors=(404, 409),
        responses={200: ID_SCHEMA},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:int}}/cancellation",
        cancel_api,
        method="POST",
        summary="Cancel an activity and notify everyone registered (admins)",
        body={
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string"}},
        },
        errors=(404,),
        responses={
            200: {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string"}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/staff/checkins",
        checkin_api,
        method="POST",
        summary="Check a member in by scanned QR token or typed code (volunteers, admins)",
        body={
            "type": "object",
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "activity_id": {"type": "integer"}},
        },
        errors=(404, 409),
        responses={200: CHECKIN_SCHEMA},
    ),
]
