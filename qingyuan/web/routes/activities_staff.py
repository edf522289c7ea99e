"""Staff side of activities: admins create, edit and cancel; volunteers check members in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tortoise.timezone import now

from qingyuan.events import activities, checkin
from qingyuan.events.models import Activity
from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.routes.activities import ACTIVITY_SCHEMA, config_of
from qingyuan.web.routes.api import json_body
from qingyuan.web.security import current_user, guard, kernel_of
from qingyuan.web.templating import render

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


FORM_FIELDS = (
    "title",
    "kind",
    "place",
    "starts_at",
    "ends_at",
    "registration_closes_at",
    "cancel_deadline",
    "capacity",
    "quota_male",
    "quota_female",
    "quota_tolerance",
    "description",
)


def _number(text: str) -> int | str:
    """A form's number as an int, or the text itself for the validator to refuse."""
    return int(text) if text.strip().isdigit() else text


def form_body(form: dict[str, str]) -> dict[str, Any]:
    """The admin form as the API's body: the same validation serves both."""
    body: dict[str, Any] = {k: form.get(k, "") for k in FORM_FIELDS[:7]}
    body["description"] = form.get("description", "")
    body["capacity"] = _number(form.get("capacity", ""))
    body["quota_tolerance"] = _number(form.get("quota_tolerance", "") or "0")
    male, female = form.get("quota_male", ""), form.get("quota_female", "")
    body["quotas"] = {"male": _number(male), "female": _number(female)} if male or female else None
    return body


def _kinds() -> list[tuple[str, str]]:
    return [(k.value, activities.kind_label(k)) for k in activities.ActivityKind]


@guard(roles=ADMIN)
async def list_page(request: Request) -> Response:
    recent = await Activity.filter(ends_at__gt=now() - timedelta(days=30)).order_by("starts_at")
    rows = [(a, await activities.counts(a.id)) for a in recent[:200]]
    return await render(request, "admin/activities.html", {"rows": rows})


@guard(roles=ADMIN)
async def new_page(request: Request) -> Response:
    return await render(
        request, "admin/activity_form.html", {"form": {}, "kinds": _kinds(), "error": None}
    )


@guard(roles=ADMIN)
async def create_page(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k in FORM_FIELDS}
    try:
        activity = await activities.create_activity(
            await _staff(request), _form(request, form_body(form))
        )
    except ValidationFailed as error:
        return await render(
            request,
            "admin/activity_form.html",
            {"form": form, "kinds": _kinds(), "error": error},
            status_code=error.status,
        )
    return RedirectResponse(f"/admin/activities/{activity.id}", status_code=303)


@guard(roles=ADMIN)
async def detail_page(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    return await render(
        request,
        "admin/activity.html",
        {
            "activity": activity,
            "counts": await activities.counts(activity.id),
            "kind_label": activities.kind_label,
        },
    )


@guard(roles=ADMIN)
async def cancel_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    reason = str((await request.form()).get("reason", "")).strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the activity is cancelled.")})
    await activities.cancel_activity(await _staff(request), activity_id, reason[:500])
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


async def _checkin_page(
    request: Request, *, result=None, error=None, chosen: int | None = None
) -> Response:
    start = now()
    today = await Activity.filter(
        status=activities.ActivityStatus.SCHEDULED,
        starts_at__lte=start + timedelta(hours=12),
        ends_at__gte=start,
    ).order_by("starts_at")
    return await render(
        request,
        "staff/checkin.html",
        {"today": today, "result": result, "error": error, "chosen": chosen},
        status_code=error.status if error else 200,
    )


@guard(roles=STAFF)
async def checkin_page(request: Request) -> Response:
    return await _checkin_page(request)


@guard(roles=STAFF)
async def checkin_submit(request: Request) -> Response:
    form = await request.form()
    raw_activity = str(form.get("activity_id", ""))
    chosen = int(raw_activity) if raw_activity.isdigit() else None
    try:
        entry = await checkin.check_in(
            config_of(request),
            await _staff(request),
            str(form.get("code", ""))[:200],
            activity_id=chosen,
        )
    except checkin.CheckInRefused as error:
        return await _checkin_page(request, error=error, chosen=chosen)
    return await _checkin_page(request, result=entry, chosen=chosen)


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
    Route("/admin/activities", list_page),
    Route("/admin/activities/new", new_page),
    Route("/admin/activities", create_page, methods=["POST"]),
    Route("/admin/activities/{activity_id:int}", detail_page),
    Route("/admin/activities/{activity_id:int}/cancellation", cancel_page, methods=["POST"]),
    Route("/staff/checkin", checkin_page),
    Route("/staff/checkin", checkin_submit, methods=["POST"]),
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
