"""Staff side of activities: admins create, edit and cancel; volunteers check members in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tortoise.timezone import now

from qingyuan.activities import (
    Activity,
    Shift,
    activities,
    attendance,
    checkin,
    exports,
    figures,
    volunteers,
)
from qingyuan.matchmakers import consultations
from qingyuan.platform.errors import (
    Conflict,
    NotFound,
    RateLimited,
    UserError,
    ValidationFailed,
)
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User
from qingyuan.web.bodies import read_form, read_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.routes.activities import ACTIVITY_SCHEMA, config_of
from qingyuan.web.security import guard, kernel_of, logged_in_user
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
    user = await logged_in_user(request)
    return user


def _form(request: Request, body: dict[str, Any]) -> activities.ActivityForm:
    return activities.validate(body, kernel_of(request).settings.timezone)


@guard(roles=ADMIN)
async def create_api(request: Request) -> Response:
    form = _form(request, await read_json(request))
    activity = await activities.create_activity(await _staff(request), form)
    return JSONResponse({"id": activity.id}, status_code=201)


@guard(roles=ADMIN)
async def update_api(request: Request) -> Response:
    form = _form(request, await read_json(request))
    activity = await activities.update_activity(
        await _staff(request), request.path_params["activity_id"], form
    )
    return JSONResponse({"id": activity.id})


@guard(roles=ADMIN)
async def cancel_api(request: Request) -> Response:
    body = await read_json(request)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(fields={"reason": _("Say why the activity is cancelled.")})
    await activities.cancel_activity(
        await _staff(request), request.path_params["activity_id"], reason.strip()[:500]
    )
    return JSONResponse({"status": "cancelled"})


@guard(roles=STAFF)
async def checkin_api(request: Request) -> Response:
    body = await read_json(request)
    code = body.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 200:
        raise ValidationFailed(fields={"code": _("Scan the QR code or type the ticket code.")})
    activity_id = body.get("activity_id")
    if activity_id is not None and (
        isinstance(activity_id, bool) or not isinstance(activity_id, int)
    ):
        raise ValidationFailed(fields={"activity_id": _("Choose an activity.")})
    entry = await checkin.check_in(
        config_of(request),
        kernel_of(request).redis,
        await _staff(request),
        code,
        activity_id=activity_id,
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
    shown = recent[:200]
    counts = await activities.counts_of(a.id for a in shown)
    rows = [(a, counts[a.id]) for a in shown]
    return await render(request, "admin/activities.html", {"rows": rows})


async def _form_page(
    request: Request,
    form: dict[str, str],
    *,
    activity_id: int | None = None,
    error: UserError | None = None,
) -> Response:
    editing = activity_id is not None
    return await render(
        request,
        "admin/activity_form.html",
        {
            "form": form,
            "kinds": _kinds(),
            "error": error,
            "heading": _("Edit activity") if editing else _("New activity"),
            "submit": _("Save changes") if editing else _("Create activity"),
            "action": f"/admin/activities/{activity_id}/edit" if editing else "/admin/activities",
        },
        status_code=error.status if error else 200,
    )


def _form_of(activity: Activity, quotas: dict[str, int], timezone: str) -> dict[str, str]:
    """The activity as the form shows it: local times, numbers as text."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    return {
        "title": activity.title,
        "kind": activity.kind.value,
        "place": activity.place,
        "starts_at": local(activity.starts_at),
        "ends_at": local(activity.ends_at),
        "registration_closes_at": local(activity.registration_closes_at),
        "cancel_deadline": local(activity.cancel_deadline),
        "capacity": str(activity.capacity),
        "quota_male": str(quotas["male"]) if quotas else "",
        "quota_female": str(quotas["female"]) if quotas else "",
        "quota_tolerance": str(activity.quota_tolerance),
        "description": activity.description,
    }


async def _posted_form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await read_form(request)).items() if k in FORM_FIELDS}


@guard(roles=ADMIN)
async def new_page(request: Request) -> Response:
    return await _form_page(request, {})


@guard(roles=ADMIN)
async def create_page(request: Request) -> Response:
    form = await _posted_form(request)
    try:
        activity = await activities.create_activity(
            await _staff(request), _form(request, form_body(form))
        )
    except ValidationFailed as error:
        return await _form_page(request, form, error=error)
    return RedirectResponse(f"/admin/activities/{activity.id}", status_code=303)


@guard(roles=ADMIN)
async def edit_page(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    quotas = dict(await activity.quotas.all().values_list("gender", "seats"))
    form = _form_of(activity, quotas, kernel_of(request).settings.timezone)
    return await _form_page(request, form, activity_id=activity.id)


@guard(roles=ADMIN)
async def update_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    form = await _posted_form(request)
    try:
        await activities.update_activity(
            await _staff(request), activity_id, _form(request, form_body(form))
        )
    except (ValidationFailed, Conflict) as error:
        return await _form_page(request, form, activity_id=activity_id, error=error)
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


@guard(roles=ADMIN)
async def shift_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    form = await read_form(request)
    timezone = kernel_of(request).settings.timezone
    starts = activities.parse_time(str(form.get("starts_at", "")), timezone)
    ends = activities.parse_time(str(form.get("ends_at", "")), timezone)
    needed = str(form.get("needed", ""))
    if starts is None or ends is None or not needed.isdigit():
        raise ValidationFailed(fields={"starts_at": _("Enter a valid time.")})
    await volunteers.add_shift(
        await _staff(request), activity_id, str(form.get("role", "")), starts, ends, int(needed)
    )
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


@guard(roles=ADMIN)
async def assignment_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    form = await read_form(request)
    shift, volunteer = str(form.get("shift_id", "")), str(form.get("volunteer_id", ""))
    if not shift.isdigit() or not volunteer.isdigit():
        raise ValidationFailed(fields={"volunteer_id": _("Choose an active volunteer matchmaker.")})
    if not await Shift.exists(id=int(shift), activity_id=activity_id):
        raise NotFound()
    await volunteers.assign(await _staff(request), int(shift), int(volunteer))
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


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
            "figures": await figures.activity_figures(
                activity.id, kernel_of(request).settings.timezone
            ),
            "staffing": await volunteers.staffing(activity.id),
            "volunteers": await User.filter(role=Role.MATCHMAKER, is_active=True).order_by("id"),
        },
    )


def _csv_response(activity_id: int, text: str) -> Response:
    disposition = f'attachment; filename="activity-{activity_id}-attendees.csv"'
    return Response(
        "\ufeff" + text,  # the BOM makes spreadsheet apps read the CSV as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@guard(roles=ADMIN)
async def export_page(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    reason = str((await read_form(request)).get("reason", ""))
    text = await exports.attendee_csv(
        kernel_of(request).cipher, await _staff(request), activity.id, reason
    )
    return _csv_response(activity.id, text)


@guard(roles=ADMIN)
async def cancel_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    reason = str((await read_form(request)).get("reason", "")).strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the activity is cancelled.")})
    await activities.cancel_activity(await _staff(request), activity_id, reason[:500])
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


async def _checkin_page(
    request: Request,
    *,
    result: checkin.CheckIn | None = None,
    error: checkin.CheckInRefused | RateLimited | None = None,
    chosen: int | None = None,
) -> Response:
    start = now()
    query = Activity.filter(
        status=activities.ActivityStatus.SCHEDULED,
        starts_at__lte=start + timedelta(hours=12),
        ends_at__gte=start,
    )
    staff = await _staff(request)
    if staff.role != Role.ADMIN:  # volunteers check in where they have a shift
        query = query.filter(shifts__assignments__volunteer_id=staff.id).distinct()
    today = await query.order_by("starts_at")
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
    form = await read_form(request)
    raw_activity = str(form.get("activity_id", ""))
    chosen = int(raw_activity) if raw_activity.isdigit() else None
    try:
        entry = await checkin.check_in(
            config_of(request),
            kernel_of(request).redis,
            await _staff(request),
            str(form.get("code", ""))[:200],
            activity_id=chosen,
        )
    except (checkin.CheckInRefused, RateLimited) as error:
        return await _checkin_page(request, error=error, chosen=chosen)
    return await _checkin_page(request, result=entry, chosen=chosen)


@guard(roles=ADMIN)
async def figures_api(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    timezone = kernel_of(request).settings.timezone
    return JSONResponse(await figures.activity_figures(activity.id, timezone))


@guard(roles=ADMIN)
async def export_api(request: Request) -> Response:
    body = await read_json(request)
    activity = await activities.get_activity(request.path_params["activity_id"])
    reason = value if isinstance(value := body.get("reason"), str) else ""
    text = await exports.attendee_csv(
        kernel_of(request).cipher, await _staff(request), activity.id, reason
    )
    return _csv_response(activity.id, text)


@guard(roles=ADMIN)
async def attendance_api(request: Request) -> Response:
    body = await read_json(request)
    reason = value if isinstance(value := body.get("reason"), str) else ""
    await attendance.set_attendance(
        await _staff(request),
        request.path_params["registration_id"],
        str(body.get("attendance", "")),
        reason[:200],
    )
    return JSONResponse({"attendance": body["attendance"]})


@guard(roles=ADMIN)
async def add_shift_api(request: Request) -> Response:
    body = await read_json(request)
    timezone = kernel_of(request).settings.timezone
    starts = activities.parse_time(body.get("starts_at"), timezone)
    ends = activities.parse_time(body.get("ends_at"), timezone)
    needed = body.get("needed", 1)
    if starts is None or ends is None or isinstance(needed, bool) or not isinstance(needed, int):
        raise ValidationFailed(fields={"starts_at": _("Enter a valid time.")})
    role = value if isinstance(value := body.get("role"), str) else ""
    shift = await volunteers.add_shift(
        await _staff(request), request.path_params["activity_id"], role, starts, ends, needed
    )
    return JSONResponse({"id": shift.id}, status_code=201)


@guard(roles=ADMIN)
async def assign_api(request: Request) -> Response:
    body = await read_json(request)
    volunteer_id = body.get("volunteer_id")
    if isinstance(volunteer_id, bool) or not isinstance(volunteer_id, int):
        raise ValidationFailed(fields={"volunteer_id": _("Choose an active volunteer matchmaker.")})
    await volunteers.assign(await _staff(request), request.path_params["shift_id"], volunteer_id)
    return JSONResponse({"status": "assigned"})


@guard(roles=ADMIN)
async def unassign_api(request: Request) -> Response:
    await volunteers.unassign(
        await _staff(request), request.path_params["shift_id"], request.path_params["volunteer_id"]
    )
    return JSONResponse({"status": "unassigned"})


@guard(roles=ADMIN)
async def staffing_api(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    return JSONResponse({"shifts": await volunteers.staffing(activity.id)})


@guard(roles=(Role.MATCHMAKER,))
async def offer_slot_api(request: Request) -> Response:
    body = await read_json(request)
    timezone = kernel_of(request).settings.timezone
    starts = activities.parse_time(body.get("starts_at"), timezone)
    ends = activities.parse_time(body.get("ends_at"), timezone)
    if starts is None or ends is None:
        raise ValidationFailed(fields={"starts_at": _("Enter a valid time.")})
    place = value if isinstance(value := body.get("place"), str) else ""
    slot = await consultations.offer_slot(await _staff(request), starts, ends, place)
    return JSONResponse({"id": slot.id}, status_code=201)


ADMIN_PATH = "/api/v1/admin/activities"
STATUS_SCHEMA = {"type": "object", "properties": {"status": {"type": "string"}}}
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
        f"{ADMIN_PATH}/{{activity_id:id}}",
        update_api,
        method="PUT",
        summary="Edit an activity (admins); seats already taken must still fit",
        body=ACTIVITY_BODY,
        errors=(404, 409),
        responses={200: ID_SCHEMA},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/cancellation",
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
    Route("/admin/activities/{activity_id:id}", detail_page),
    Route("/admin/activities/{activity_id:id}/edit", edit_page),
    Route("/admin/activities/{activity_id:id}/edit", update_page, methods=["POST"]),
    Route("/admin/activities/{activity_id:id}/shifts", shift_page, methods=["POST"]),
    Route("/admin/activities/{activity_id:id}/assignments", assignment_page, methods=["POST"]),
    Route("/admin/activities/{activity_id:id}/cancellation", cancel_page, methods=["POST"]),
    Route("/admin/activities/{activity_id:id}/export", export_page, methods=["POST"]),
    Route("/staff/checkin", checkin_page),
    Route("/staff/checkin", checkin_submit, methods=["POST"]),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/figures",
        figures_api,
        method="GET",
        summary="Sign-ups over time, confirmed / waitlisted / attended / no-show, pairs formed",
        errors=(404,),
        responses={200: {"type": "object"}},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/export",
        export_api,
        method="POST",
        summary="Attendee list as CSV, personal data masked; audit-logged with the reason",
        body={
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string"}},
        },
        errors=(404,),
        responses={200: None},
    ),
    ApiRoute(
        "/api/v1/admin/registrations/{registration_id:id}/attendance",
        attendance_api,
        method="PUT",
        summary="Correct attendance (attended / no_show / excused), audited with the reason",
        body={
            "type": "object",
            "required": ["attendance"],
            "properties": {
                "attendance": {"type": "string", "enum": ["attended", "no_show", "excused"]},
                "reason": {"type": "string"},
            },
        },
        errors=(404,),
        responses={200: {"type": "object"}},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/shifts",
        add_shift_api,
        method="POST",
        summary="Add a volunteer role and shift to an activity",
        body={
            "type": "object",
            "required": ["role", "starts_at", "ends_at"],
            "properties": {
                "role": {"type": "string"},
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
                "needed": {"type": "integer"},
            },
        },
        errors=(404,),
        responses={201: ID_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/admin/shifts/{shift_id:id}/assignments",
        assign_api,
        method="POST",
        summary="Assign a volunteer matchmaker to a shift",
        body={
            "type": "object",
            "required": ["volunteer_id"],
            "properties": {"volunteer_id": {"type": "integer"}},
        },
        errors=(404,),
        responses={200: STATUS_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/admin/shifts/{shift_id:id}/assignments/{volunteer_id:id}",
        unassign_api,
        method="DELETE",
        summary="Take a volunteer off a shift",
        errors=(404,),
        responses={200: STATUS_SCHEMA},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/staffing",
        staffing_api,
        method="GET",
        summary="Shifts, who is on them, and the staffing gaps",
        errors=(404,),
        responses={200: {"type": "object", "properties": {"shifts": {"type": "array"}}}},
    ),
    ApiRoute(
        "/api/v1/staff/consultation-slots",
        offer_slot_api,
        method="POST",
        summary="Offer a 1:1 consultation slot (matchmakers)",
        body={
            "type": "object",
            "required": ["starts_at", "ends_at", "place"],
            "properties": {
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
                "place": {"type": "string"},
            },
        },
        errors=(404,),
        responses={201: ID_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/staff/checkins",
        checkin_api,
        method="POST",
        summary="Check a member in by scanned QR token or typed code (admins, and volunteers "
        "with a shift at the ticket's activity; 429 after QINGYUAN_RATE_CHECKIN_CODE wrong typed "
        "codes)",
        body={
            "type": "object",
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "activity_id": {"type": "integer"}},
        },
        errors=(404, 409, 429),
        responses={200: CHECKIN_SCHEMA},
    ),
]
