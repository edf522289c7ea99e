"""Offline activities for members: list, detail, sign up, cancel, my activities (pages and API)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tortoise.timezone import now

from qingyuan.activities import (
    Activity,
    Registration,
    RegistrationStatus,
    activities,
    calendar,
    checkin,
    feedback,
    registrations,
    waitlist,
)
from qingyuan.activities.seats import SeatPlan
from qingyuan.activities.settings import EventSettings, event_settings
from qingyuan.matching.cards import member_cards
from qingyuan.matching.profiles import city_names
from qingyuan.matchmakers import ConsultationSlot, consultations
from qingyuan.platform.errors import Conflict, Forbidden, NotFound, UserError, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.web.bodies import read_form, read_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render

GENDER_COUNTS: dict[str, Any] = {
    "type": "object",
    "properties": {"male": {"type": "integer"}, "female": {"type": "integer"}},
}
ACTIVITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "title", "kind", "starts_at", "ends_at", "place", "capacity", "status"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "kind": {"type": "string"},
        "kind_label": {"type": "string"},
        "description": {"type": "string"},
        "place": {"type": "string"},
        "city": {"type": ["integer", "null"]},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "capacity": {"type": "integer"},
        "quotas": {"anyOf": [GENDER_COUNTS, {"type": "null"}]},
        "quota_tolerance": {"type": "integer"},
        "registration_opens_at": {"type": ["string", "null"], "format": "date-time"},
        "registration_closes_at": {"type": "string", "format": "date-time"},
        "cancel_deadline": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["scheduled", "cancelled"]},
    },
}
REGISTRATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "waitlist_position"],
    "properties": {
        "status": {
            "type": "string",
            "enum": ["confirmed", "offered", "waitlisted", "cancelled", "expired"],
        },
        "waitlist_position": {"type": ["integer", "null"]},
        "offer_expires_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
DETAIL_SCHEMA: dict[str, Any] = {
    **ACTIVITY_SCHEMA,
    "properties": {
        **ACTIVITY_SCHEMA["properties"],
        "counts": {
            "type": "object",
            "properties": {"confirmed": GENDER_COUNTS, "waitlisted": GENDER_COUNTS},
        },
        "my_registration": {"anyOf": [REGISTRATION_SCHEMA, {"type": "null"}]},
    },
}


def config_of(request: Request) -> EventSettings:
    return event_settings(kernel_of(request).settings)


async def activity_json(activity: Activity) -> dict[str, Any]:
    return (await activities_json([activity]))[0]


async def activities_json(found: Sequence[Activity]) -> list[dict[str, Any]]:
    """Activities as the API shows them, the quotas of all of them read in one query."""
    quotas = await activities.quotas_of(a.id for a in found)
    return [_activity_json(activity, quotas.get(activity.id, {})) for activity in found]


def _activity_json(activity: Activity, quotas: dict[str, int]) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": activity.id,
        "title": activity.title,
        "kind": activity.kind.value,
        "kind_label": activities.kind_label(activity.kind),
        "description": activity.description,
        "place": activity.place,
        "city": activity.city,
        "starts_at": iso(activity.starts_at),
        "ends_at": iso(activity.ends_at),
        "capacity": activity.capacity,
        "quotas": quotas or None,
        "quota_tolerance": activity.quota_tolerance,
        "registration_opens_at": iso(activity.registration_opens_at),
        "registration_closes_at": iso(activity.registration_closes_at),
        "cancel_deadline": iso(activity.cancel_deadline),
        "status": activity.status.value,
    }


async def registration_json(
    registration: Registration, plan: SeatPlan | None = None
) -> dict[str, Any]:
    expires = registration.offer_expires_at
    return {
        "status": registration.status.value,
        "waitlist_position": await waitlist.position(registration, plan),
        "offer_expires_at": expires.isoformat() if expires else None,
    }


async def detail_json(activity: Activity, user: User) -> dict[str, Any]:
    mine = await registrations.active_registration(activity.id, user.id)
    return {
        **await activity_json(activity),
        "counts": await activities.counts(activity.id),
        "my_registration": await registration_json(mine) if mine else None,
    }


def filters(request: Request) -> dict[str, Any]:
    """The list's query-string filters (kind, date, city); bad values are a 422."""
    params = request.query_params
    chosen: dict[str, Any] = {}
    if params.get("kind"):
        if params["kind"] not in {k.value for k in activities.ActivityKind}:
            raise ValidationFailed(fields={"kind": _("Choose a kind of activity.")})
        chosen["kind"] = params["kind"]
    if params.get("city"):
        if not params["city"].isdigit() or len(params["city"]) != 4:
            raise ValidationFailed(fields={"city": _("Choose a city.")})
        chosen["city"] = int(params["city"])
    if params.get("date"):
        try:
            chosen["day"] = date.fromisoformat(params["date"])
        except ValueError as exc:
            raise ValidationFailed(fields={"date": _("Enter a valid date.")}) from exc
    return chosen


async def _user(request: Request) -> User:
    user = await logged_in_user(request)
    return user


@guard(login=True)
async def list_api(request: Request) -> Response:
    found = await activities.upcoming(
        at=now(), timezone=kernel_of(request).settings.timezone, **filters(request)
    )
    return JSONResponse({"activities": await activities_json(found)})


@guard(login=True)
async def detail_api(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    return JSONResponse(await detail_json(activity, await _user(request)))


@guard(login=True)
async def sign_up_api(request: Request) -> Response:
    result = await registrations.sign_up(
        config_of(request), await _user(request), request.path_params["activity_id"]
    )
    return JSONResponse(
        await registration_json(result.registration, result.plan),
        status_code=201 if result.created else 200,
    )


@guard(login=True)
async def cancel_api(request: Request) -> Response:
    await registrations.cancel(
        config_of(request), await _user(request), request.path_params["activity_id"]
    )
    return JSONResponse({"status": "cancelled"})


async def my_ticket(request: Request) -> tuple[Activity, Registration]:
    """The member's confirmed seat at this activity: what the ticket shows. Others: 404."""
    activity = await activities.get_activity(request.path_params["activity_id"])
    mine = await registrations.active_registration(activity.id, (await _user(request)).id)
    if mine is None or mine.status != RegistrationStatus.CONFIRMED:
        raise NotFound()
    return activity, mine


@guard(login=True)
async def ticket_api(request: Request) -> Response:
    _activity, mine = await my_ticket(request)
    return JSONResponse(
        {
            "code": checkin.format_code(mine.code),
            "qr": checkin.qr_token(config_of(request), mine.id),
            "checked_in": mine.checked_in_at is not None,
        }
    )


@guard(login=True)
async def mine_api(request: Request) -> Response:
    user = await _user(request)
    mine = await _my_registrations(user)
    listed = await activities_json([r.activity for r in mine])
    return JSONResponse(
        {
            "registrations": [
                {"activity": activity, **await registration_json(r)}
                for r, activity in zip(mine, listed, strict=True)
            ]
        }
    )


async def _my_registrations(user: User) -> list[Registration]:
    """The member's latest 100 registrations, newest first, each with its activity loaded."""
    query = Registration.filter(user_id=user.id).order_by("-created_at").limit(100)
    return await query.prefetch_related("activity")


def status_label(status: str) -> str:
    return {
        "confirmed": _("Confirmed"),
        "offered": _("Seat offered"),
        "waitlisted": _("On the waiting list"),
        "cancelled": _("Cancelled"),
        "expired": _("Offer expired"),
    }[status]


def page_helpers() -> dict[str, Any]:
    return {"kind_label": activities.kind_label, "status_label": status_label}


@guard(login=True)
async def list_page(request: Request) -> Response:
    error, chosen = None, {}
    try:
        chosen = filters(request)
    except UserError as problem:
        error = problem
    found = await activities.upcoming(
        at=now(), timezone=kernel_of(request).settings.timezone, **chosen
    )
    kinds = [(k.value, activities.kind_label(k)) for k in activities.ActivityKind]
    return await render(
        request,
        "activities.html",
        {
            "activities": found,
            "kinds": kinds,
            "cities": city_names(),
            "chosen": chosen,
            "error": error,
            **page_helpers(),
        },
    )


async def _after_context(request: Request, activity: Activity, user: User) -> dict | None:
    """Feedback and "meet again" for an attendee once the activity has ended, else None."""
    try:
        others = await feedback.attendees(activity.id, user.id)
    except UserError:
        return None
    day = kernel_of(request).settings.local_today()
    cards = await member_cards(others, user.id, day)
    return {
        "attendees": [cards[other] for other in others],
        "ids": others,
        "picked": await feedback.my_picks(activity.id, user.id),
    }


async def _detail_page(request: Request, error: UserError | None = None) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    user = await _user(request)
    mine = await registrations.active_registration(activity.id, user.id)
    context = {
        "after": await _after_context(request, activity, user),
        "activity": activity,
        "quotas": dict(await activity.quotas.all().values_list("gender", "seats")),
        "counts": await activities.counts(activity.id),
        "mine": mine,
        "position": await waitlist.position(mine) if mine else None,
        "error": error,
        **page_helpers(),
    }
    return await render(
        request, "activity.html", context, status_code=error.status if error else 200
    )


@guard(login=True)
async def detail_page(request: Request) -> Response:
    return await _detail_page(request)


@guard(login=True)
async def sign_up_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    try:
        await registrations.sign_up(config_of(request), await _user(request), activity_id)
    except (Conflict, Forbidden) as error:
        return await _detail_page(request, error)
    return RedirectResponse(f"/activities/{activity_id}", status_code=303)


@guard(login=True)
async def cancel_page(request: Request) -> Response:
    activity_id = request.path_params["activity_id"]
    try:
        await registrations.cancel(config_of(request), await _user(request), activity_id)
    except Conflict as error:
        return await _detail_page(request, error)
    return RedirectResponse(f"/activities/{activity_id}", status_code=303)


@guard(login=True)
async def feedback_page(request: Request) -> Response:
    form = await read_form(request)
    rating = str(form.get("rating", ""))
    try:
        await feedback.leave_feedback(
            (await _user(request)).id,
            request.path_params["activity_id"],
            int(rating) if rating.isdigit() else rating,
            str(form.get("comment", "")),
        )
    except UserError as error:
        return await _detail_page(request, error)
    return RedirectResponse(f"/activities/{request.path_params['activity_id']}", status_code=303)


@guard(login=True)
async def pick_page(request: Request) -> Response:
    chosen = str((await read_form(request)).get("member_id", ""))
    try:
        await feedback.pick(
            (await _user(request)).id,
            request.path_params["activity_id"],
            int(chosen) if chosen.isdigit() else chosen,
        )
    except UserError as error:
        return await _detail_page(request, error)
    return RedirectResponse(f"/activities/{request.path_params['activity_id']}", status_code=303)


@guard(login=True)
async def ticket_page(request: Request) -> Response:
    activity, mine = await my_ticket(request)
    config = config_of(request)
    token = checkin.qr_token(config, mine.id)
    return await render(
        request,
        "ticket.html",
        {
            "activity": activity,
            "opens_minutes": config.checkin_opens_minutes,
            "qr": Markup(checkin.qr_svg(token)),  # noqa: S704 (SVG drawn by us from our token)
            "code": checkin.format_code(mine.code),
            "checked_in": mine.checked_in_at is not None,
        },
    )


@guard(login=True)
async def mine_page(request: Request) -> Response:
    user = await _user(request)
    mine = await _my_registrations(user)
    rows = [(r, r.activity, await waitlist.position(r)) for r in mine]
    return await render(request, "my_activities.html", {"rows": rows, **page_helpers()})


@guard(login=True)
async def feedback_api(request: Request) -> Response:
    body = await read_json(request)
    saved = await feedback.leave_feedback(
        (await _user(request)).id,
        request.path_params["activity_id"],
        body.get("rating"),
        body.get("comment", ""),
    )
    return JSONResponse({"rating": saved.rating}, status_code=201)


@guard(login=True)
async def attendees_api(request: Request) -> Response:
    user = await _user(request)
    activity_id = request.path_params["activity_id"]
    others = await feedback.attendees(activity_id, user.id)
    picked = await feedback.my_picks(activity_id, user.id)
    day = kernel_of(request).settings.local_today()
    found = await member_cards(others, user.id, day)
    cards = [found[other] for other in others]
    return JSONResponse(
        {
            "attendees": [
                {"id": other, "nickname": card["nickname"], "picked": other in picked}
                for other, card in zip(others, cards, strict=True)
            ]
        }
    )


@guard(login=True)
async def pick_api(request: Request) -> Response:
    body = await read_json(request)
    connection = await feedback.pick(
        (await _user(request)).id, request.path_params["activity_id"], body.get("member_id")
    )
    return JSONResponse(
        {"mutual": connection is not None, "connection_id": connection.id if connection else None}
    )


def slot_json(slot: ConsultationSlot) -> dict[str, Any]:
    return {
        "id": slot.id,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "place": slot.place,
    }


@guard(login=True)
async def slots_api(request: Request) -> Response:
    return JSONResponse({"slots": [slot_json(s) for s in await consultations.free_slots()]})


@guard(login=True)
async def book_slot_api(request: Request) -> Response:
    slot = await consultations.book(await _user(request), request.path_params["slot_id"])
    return JSONResponse(slot_json(slot))


@guard(login=True)
async def cancel_slot_api(request: Request) -> Response:
    await consultations.cancel_booking(await _user(request), request.path_params["slot_id"])
    return JSONResponse({"status": "cancelled"})


async def _consultations_page(request: Request, error: UserError | None = None) -> Response:
    user = await _user(request)
    mine = await ConsultationSlot.filter(booked_by_id=user.id, starts_at__gt=now()).order_by(
        "starts_at"
    )
    return await render(
        request,
        "consultations.html",
        {"free": await consultations.free_slots(), "mine": mine, "error": error},
        status_code=error.status if error else 200,
    )


@guard(login=True)
async def consultations_page(request: Request) -> Response:
    return await _consultations_page(request)


@guard(login=True)
async def book_slot_page(request: Request) -> Response:
    try:
        await consultations.book(await _user(request), request.path_params["slot_id"])
    except UserError as error:
        return await _consultations_page(request, error)
    return RedirectResponse("/consultations", status_code=303)


@guard(login=True)
async def cancel_slot_page(request: Request) -> Response:
    await consultations.cancel_booking(await _user(request), request.path_params["slot_id"])
    return RedirectResponse("/consultations", status_code=303)


ICS_TYPE = "text/calendar; charset=utf-8"


def _base_url(request: Request) -> str:
    return str(request.base_url)


@guard(login=True)
async def activity_ics(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    body = calendar.calendar([activity], _base_url(request), activity.title)
    headers = {"Content-Disposition": f'attachment; filename="activity-{activity.id}.ics"'}
    return Response(body, media_type=ICS_TYPE, headers=headers)


async def feed_ics(request: Request) -> Response:
    """The member's feed: no login (calendar apps have none), the URL's token is the key."""
    found = await calendar.feed_activities(request.path_params["token"])
    if found is None:
        raise NotFound()
    return Response(
        calendar.calendar(found, _base_url(request), _("Qingyuan activities")), media_type=ICS_TYPE
    )


@guard(login=True)
async def feed_api(request: Request) -> Response:
    token = await calendar.new_feed((await _user(request)).id)
    return JSONResponse({"url": f"{_base_url(request)}calendar/{token}.ics"}, status_code=201)


@guard(login=True)
async def feed_revoke_api(request: Request) -> Response:
    await calendar.revoke_feed((await _user(request)).id)
    return JSONResponse({"status": "revoked"})


ACTIVITY_PATH = "/api/v1/activities/{activity_id:id}"
routes = [
    ApiRoute(
        "/api/v1/activities",
        list_api,
        method="GET",
        summary="Upcoming activities (filters: kind, date YYYY-MM-DD, city code)",
        errors=(422,),
        responses={
            200: {
                "type": "object",
                "required": ["activities"],
                "properties": {"activities": {"type": "array", "items": ACTIVITY_SCHEMA}},
            }
        },
    ),
    ApiRoute(
        ACTIVITY_PATH,
        detail_api,
        method="GET",
        summary="One activity, with confirmed and waitlisted counts per gender",
        errors=(404,),
        responses={200: DETAIL_SCHEMA},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/registration",
        sign_up_api,
        method="POST",
        summary="Sign up: a seat if one fits, else the waitlist (again: takes an offered seat)",
        errors=(403, 404, 409),
        responses={201: REGISTRATION_SCHEMA, 200: REGISTRATION_SCHEMA},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/registration",
        cancel_api,
        method="DELETE",
        summary="Cancel my registration (idempotent); a freed seat goes to the waitlist",
        errors=(404, 409),
        responses={
            200: {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string", "enum": ["cancelled"]}},
            }
        },
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/ticket",
        ticket_api,
        method="GET",
        summary="My ticket: typed code and the QR token (no personal data); confirmed seats only",
        errors=(404,),
        responses={
            200: {
                "type": "object",
                "required": ["code", "qr", "checked_in"],
                "properties": {
                    "code": {"type": "string", "example": "ABCD-EFGH"},
                    "qr": {"type": "string"},
                    "checked_in": {"type": "boolean"},
                },
            }
        },
    ),
    Route("/activities", list_page),
    Route("/activities/{activity_id:id}", detail_page),
    Route("/activities/{activity_id:id}/registration", sign_up_page, methods=["POST"]),
    Route("/activities/{activity_id:id}/cancellation", cancel_page, methods=["POST"]),
    Route("/activities/{activity_id:id}/ticket", ticket_page),
    Route("/activities/{activity_id:id}/feedback", feedback_page, methods=["POST"]),
    Route("/activities/{activity_id:id}/picks", pick_page, methods=["POST"]),
    Route("/my/activities", mine_page),
    Route("/consultations", consultations_page),
    Route("/consultations/{slot_id:id}/booking", book_slot_page, methods=["POST"]),
    Route("/consultations/{slot_id:id}/cancellation", cancel_slot_page, methods=["POST"]),
    ApiRoute(
        f"{ACTIVITY_PATH}/feedback",
        feedback_api,
        method="POST",
        summary="Rate an activity I attended (1–5) with an optional comment",
        body={
            "type": "object",
            "required": ["rating"],
            "properties": {
                "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                "comment": {"type": "string", "maxLength": 500},
            },
        },
        errors=(404, 409),
        responses={201: {"type": "object", "properties": {"rating": {"type": "integer"}}}},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/attendees",
        attendees_api,
        method="GET",
        summary="Other attendees I may pick to meet again (attendees only, after the end)",
        errors=(404, 409),
        responses={200: {"type": "object", "properties": {"attendees": {"type": "array"}}}},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/picks",
        pick_api,
        method="POST",
        summary="I'd like to meet this attendee again; mutual picks become a connection",
        body={
            "type": "object",
            "required": ["member_id"],
            "properties": {"member_id": {"type": "integer"}},
        },
        errors=(404, 409),
        responses={
            200: {
                "type": "object",
                "required": ["mutual", "connection_id"],
                "properties": {
                    "mutual": {"type": "boolean"},
                    "connection_id": {"type": ["integer", "null"]},
                },
            }
        },
    ),
    ApiRoute(
        "/api/v1/consultation-slots",
        slots_api,
        method="GET",
        summary="Free 1:1 consultation slots with matchmakers",
        responses={200: {"type": "object", "properties": {"slots": {"type": "array"}}}},
    ),
    ApiRoute(
        "/api/v1/consultation-slots/{slot_id:id}/booking",
        book_slot_api,
        method="POST",
        summary="Book a consultation slot (verified members)",
        errors=(403, 404, 409),
        responses={200: {"type": "object", "properties": {"id": {"type": "integer"}}}},
    ),
    ApiRoute(
        "/api/v1/consultation-slots/{slot_id:id}/booking",
        cancel_slot_api,
        method="DELETE",
        summary="Give my booked slot back (idempotent)",
        responses={200: {"type": "object", "properties": {"status": {"type": "string"}}}},
    ),
    Route("/activities/{activity_id:id}/calendar.ics", activity_ics),
    Route("/calendar/{token:str}.ics", feed_ics),
    ApiRoute(
        "/api/v1/me/calendar-feed",
        feed_api,
        method="POST",
        summary="A new secret URL of my activities calendar (the old one stops working)",
        responses={
            201: {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}
        },
    ),
    ApiRoute(
        "/api/v1/me/calendar-feed",
        feed_revoke_api,
        method="DELETE",
        summary="Revoke my calendar URL",
        responses={
            200: {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string"}},
            }
        },
    ),
    ApiRoute(
        "/api/v1/me/activities",
        mine_api,
        method="GET",
        summary="My registrations, newest first",
        responses={
            200: {
                "type": "object",
                "required": ["registrations"],
                "properties": {"registrations": {"type": "array"}},
            }
        },
    ),
]
