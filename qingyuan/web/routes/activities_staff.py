"""Staff side of activities: admins create, edit and cancel; volunteers check members in."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.timezone import now

from qingyuan.activities import (
    Activity,
    Attendance,
    Shift,
    activities,
    attendance,
    checkin,
    exports,
    figures,
    volunteers,
)
from qingyuan.activities.schemas import (
    ActivityBody,
    AddShift,
    Assign,
    AssignToShift,
    AttendanceSet,
    CancelActivity,
    CheckedIn,
    CheckInBody,
    Created,
    Export,
    Figures,
    SetAttendance,
    Staffing,
    Status,
)
from qingyuan.matchmakers import consultations
from qingyuan.matchmakers.schemas import OfferSlot
from qingyuan.platform.errors import (
    Conflict,
    NotFound,
    RateLimited,
    UserError,
    ValidationFailed,
)
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User
from qingyuan.platform.settings import PlatformSettings
from qingyuan.platform.validation import validate
from qingyuan.web.bodies import model_response, parse_form, parse_json, read_form
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.routes.activities import config_of
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render

ADMIN = (Role.ADMIN,)
STAFF = (Role.ADMIN, Role.MATCHMAKER)


async def _staff(request: Request) -> User:
    user = await logged_in_user(request)
    return user


def _settings(request: Request) -> PlatformSettings:
    return kernel_of(request).settings


def _activity_of(request: Request, form: dict[str, str]) -> ActivityBody:
    """The admin page's form as `ActivityBody`: the API's model serves both."""
    body: dict[str, object] = {k: v for k, v in form.items() if v.strip() and k in BODY_FIELDS}
    male, female = form.get("quota_male", ""), form.get("quota_female", "")
    if male or female:
        body["quotas"] = {"male": male, "female": female}
    return validate(ActivityBody.configured(_settings(request)), body, strict=False)


@guard(roles=ADMIN)
async def create_api(request: Request) -> Response:
    body = await parse_json(request, ActivityBody)
    activity = await activities.create_activity(await _staff(request), body)
    return model_response(Created(id=activity.id), 201)


@guard(roles=ADMIN)
async def update_api(request: Request) -> Response:
    body = await parse_json(request, ActivityBody)
    activity = await activities.update_activity(
        await _staff(request), request.path_params["activity_id"], body
    )
    return model_response(Created(id=activity.id))


@guard(roles=ADMIN)
async def cancel_api(request: Request) -> Response:
    body = await parse_json(request, CancelActivity)
    await activities.cancel_activity(
        await _staff(request), request.path_params["activity_id"], body.reason
    )
    return model_response(Status(status="cancelled"))


@guard(roles=STAFF)
async def checkin_api(request: Request) -> Response:
    entry = await _check_in(request, await parse_json(request, CheckInBody))
    return model_response(
        CheckedIn(
            status="checked_in",
            registration_id=entry.registration.id,
            activity_id=entry.activity.id,
            activity_title=entry.activity.title,
            gender=entry.registration.gender,
        )
    )


async def _check_in(request: Request, body: CheckInBody) -> checkin.CheckIn:
    """The page and the API check in alike."""
    return await checkin.check_in(
        config_of(request),
        kernel_of(request).redis,
        await _staff(request),
        body.code,
        activity_id=body.activity_id,
    )


BODY_FIELDS = frozenset(ActivityBody.model_fields)
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
            await _staff(request), _activity_of(request, form)
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
            await _staff(request), activity_id, _activity_of(request, form)
        )
    except (ValidationFailed, Conflict) as error:
        return await _form_page(request, form, activity_id=activity_id, error=error)
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


@guard(roles=ADMIN)
async def shift_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    form = await parse_form(request, AddShift)
    await volunteers.add_shift(await _staff(request), activity_id, form)
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


@guard(roles=ADMIN)
async def assignment_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    form = await parse_form(request, AssignToShift)
    if not await Shift.exists(id=form.shift_id, activity_id=activity_id):
        raise NotFound()
    await volunteers.assign(await _staff(request), form.shift_id, form.volunteer_id)
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
    form = await parse_form(request, Export)
    text = await exports.attendee_csv(
        kernel_of(request).cipher, await _staff(request), activity.id, form.reason
    )
    return _csv_response(activity.id, text)


@guard(roles=ADMIN)
async def cancel_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    form = await parse_form(request, CancelActivity)
    await activities.cancel_activity(await _staff(request), activity_id, form.reason)
    return RedirectResponse(f"/admin/activities/{activity_id}", status_code=303)


async def _checkin_page(
    request: Request,
    *,
    result: checkin.CheckIn | None = None,
    error: UserError | None = None,
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
    raw_activity = str((await read_form(request)).get("activity_id", ""))
    chosen = int(raw_activity) if raw_activity.isdigit() else None
    try:
        entry = await _check_in(request, await parse_form(request, CheckInBody))
    except (ValidationFailed, checkin.CheckInRefused, RateLimited) as error:
        return await _checkin_page(request, error=error, chosen=chosen)
    return await _checkin_page(request, result=entry, chosen=chosen)


@guard(roles=ADMIN)
async def figures_api(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    timezone = kernel_of(request).settings.timezone
    found = await figures.activity_figures(activity.id, timezone)
    return model_response(Figures.model_validate(found))


@guard(roles=ADMIN)
async def export_api(request: Request) -> Response:
    body = await parse_json(request, Export)
    activity = await activities.get_activity(request.path_params["activity_id"])
    text = await exports.attendee_csv(
        kernel_of(request).cipher, await _staff(request), activity.id, body.reason
    )
    return _csv_response(activity.id, text)


@guard(roles=ADMIN)
async def attendance_api(request: Request) -> Response:
    body = await parse_json(request, SetAttendance)
    await attendance.set_attendance(
        await _staff(request),
        request.path_params["registration_id"],
        Attendance(body.attendance),
        body.reason,
    )
    return model_response(AttendanceSet(attendance=body.attendance))


@guard(roles=ADMIN)
async def add_shift_api(request: Request) -> Response:
    body = await parse_json(request, AddShift)
    shift = await volunteers.add_shift(
        await _staff(request), request.path_params["activity_id"], body
    )
    return model_response(Created(id=shift.id), 201)


@guard(roles=ADMIN)
async def assign_api(request: Request) -> Response:
    body = await parse_json(request, Assign)
    await volunteers.assign(
        await _staff(request), request.path_params["shift_id"], body.volunteer_id
    )
    return model_response(Status(status="assigned"))


@guard(roles=ADMIN)
async def unassign_api(request: Request) -> Response:
    await volunteers.unassign(
        await _staff(request), request.path_params["shift_id"], request.path_params["volunteer_id"]
    )
    return model_response(Status(status="unassigned"))


@guard(roles=ADMIN)
async def staffing_api(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    shifts = await volunteers.staffing(activity.id)
    return model_response(Staffing.model_validate({"shifts": shifts}, strict=False))


@guard(roles=(Role.MATCHMAKER,))
async def offer_slot_api(request: Request) -> Response:
    body = await parse_json(request, OfferSlot)
    slot = await consultations.offer_slot(
        await _staff(request), body.starts_at, body.ends_at, body.place.strip()
    )
    return model_response(Created(id=slot.id), 201)


ADMIN_PATH = "/api/v1/admin/activities"
routes = [
    ApiRoute(
        ADMIN_PATH,
        create_api,
        method="POST",
        summary="Create an activity (admins)",
        body=ActivityBody,
        errors=(404,),
        responses={201: Created},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}",
        update_api,
        method="PUT",
        summary="Edit an activity (admins); seats already taken must still fit",
        body=ActivityBody,
        errors=(404, 409),
        responses={200: Created},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/cancellation",
        cancel_api,
        method="POST",
        summary="Cancel an activity and notify everyone registered (admins)",
        body=CancelActivity,
        errors=(404,),
        responses={200: Status},
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
        responses={200: Figures},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/export",
        export_api,
        method="POST",
        summary="Attendee list as CSV, personal data masked; audit-logged with the reason",
        body=Export,
        errors=(404,),
        responses={200: None},
    ),
    ApiRoute(
        "/api/v1/admin/registrations/{registration_id:id}/attendance",
        attendance_api,
        method="PUT",
        summary="Correct attendance (attended / no_show / excused), audited with the reason",
        body=SetAttendance,
        errors=(404,),
        responses={200: AttendanceSet},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/shifts",
        add_shift_api,
        method="POST",
        summary="Add a volunteer role and shift to an activity",
        body=AddShift,
        errors=(404,),
        responses={201: Created},
    ),
    ApiRoute(
        "/api/v1/admin/shifts/{shift_id:id}/assignments",
        assign_api,
        method="POST",
        summary="Assign a volunteer matchmaker to a shift",
        body=Assign,
        errors=(404,),
        responses={200: Status},
    ),
    ApiRoute(
        "/api/v1/admin/shifts/{shift_id:id}/assignments/{volunteer_id:id}",
        unassign_api,
        method="DELETE",
        summary="Take a volunteer off a shift",
        errors=(404,),
        responses={200: Status},
    ),
    ApiRoute(
        f"{ADMIN_PATH}/{{activity_id:id}}/staffing",
        staffing_api,
        method="GET",
        summary="Shifts, who is on them, and the staffing gaps",
        errors=(404,),
        responses={200: Staffing},
    ),
    ApiRoute(
        "/api/v1/staff/consultation-slots",
        offer_slot_api,
        method="POST",
        summary="Offer a 1:1 consultation slot (matchmakers)",
        body=OfferSlot,
        errors=(404,),
        responses={201: Created},
    ),
    ApiRoute(
        "/api/v1/staff/checkins",
        checkin_api,
        method="POST",
        summary="Check a member in by scanned QR token or typed code (admins, and volunteers "
        "with a shift at the ticket's activity; 429 after QINGYUAN_RATE_CHECKIN_CODE wrong typed "
        "codes)",
        body=CheckInBody,
        errors=(404, 409, 429),
        responses={200: CheckedIn},
    ),
]
