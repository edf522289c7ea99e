"""Offline activities for members: list, detail, sign up, cancel, my activities (pages and API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
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
from qingyuan.activities.schemas import (
    Activities,
    ActivitiesQuery,
    ActivityDetail,
    ActivityOut,
    Attendee,
    Attendees,
    CalendarFeed,
    Cancelled,
    Counts,
    GenderCounts,
    LeaveFeedback,
    MyActivities,
    MyActivity,
    MyRegistration,
    Pick,
    Picked,
    Rated,
    Status,
    Ticket,
)
from qingyuan.activities.seats import SeatPlan
from qingyuan.activities.settings import EventSettings, event_settings
from qingyuan.matching.cards import member_cards
from qingyuan.matching.profiles import city_names
from qingyuan.matchmakers import ConsultationSlot, consultations
from qingyuan.matchmakers.schemas import Slot, Slots
from qingyuan.platform.errors import Conflict, Forbidden, NotFound, UserError
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.web.bodies import model_response, parse_form, parse_json, parse_query
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render


def config_of(request: Request) -> EventSettings:
    return event_settings(kernel_of(request).settings)


async def activity_out(activity: Activity) -> ActivityOut:
    return (await activities_out([activity]))[0]


async def activities_out(found: Sequence[Activity]) -> list[ActivityOut]:
    """Activities as the API shows them, the quotas of all of them read in one query."""
    quotas = await activities.quotas_of(a.id for a in found)
    return [_activity_out(activity, quotas.get(activity.id)) for activity in found]


def _activity_out(activity: Activity, quotas: dict[str, int] | None) -> ActivityOut:
    return ActivityOut(
        id=activity.id,
        title=activity.title,
        kind=activity.kind.value,
        kind_label=activities.kind_label(activity.kind),
        description=activity.description,
        place=activity.place,
        city=activity.city,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        capacity=activity.capacity,
        quotas=GenderCounts(**quotas) if quotas else None,
        quota_tolerance=activity.quota_tolerance,
        registration_opens_at=activity.registration_opens_at,
        registration_closes_at=activity.registration_closes_at,
        cancel_deadline=activity.cancel_deadline,
        status=activity.status.value,
    )


async def registration_out(
    registration: Registration, plan: SeatPlan | None = None
) -> MyRegistration:
    return MyRegistration(
        status=registration.status.value,
        waitlist_position=await waitlist.position(registration, plan),
        offer_expires_at=registration.offer_expires_at,
    )


async def detail_out(activity: Activity, user: User) -> ActivityDetail:
    mine = await registrations.active_registration(activity.id, user.id)
    return ActivityDetail(
        **dict(await activity_out(activity)),
        counts=Counts.model_validate(await activities.counts(activity.id)),
        my_registration=await registration_out(mine) if mine else None,
    )


def chosen_filters(query: ActivitiesQuery) -> dict[str, Any]:
    """The list's filters as `activities.upcoming` and the page's form take them."""
    chosen = {"kind": query.kind, "city": query.city, "day": query.date}
    return {name: value for name, value in chosen.items() if value is not None}


async def _user(request: Request) -> User:
    user = await logged_in_user(request)
    return user


@guard(login=True)
async def list_api(request: Request) -> Response:
    query = await parse_query(request, ActivitiesQuery)
    found = await activities.upcoming(
        at=now(), timezone=kernel_of(request).settings.timezone, **chosen_filters(query)
    )
    return model_response(Activities(activities=await activities_out(found)))


@guard(login=True)
async def detail_api(request: Request) -> Response:
    activity = await activities.get_activity(request.path_params["activity_id"])
    return model_response(await detail_out(activity, await _user(request)))


@guard(login=True)
async def sign_up_api(request: Request) -> Response:
    result = await registrations.sign_up(
        config_of(request), await _user(request), request.path_params["activity_id"]
    )
    return model_response(
        await registration_out(result.registration, result.plan),
        status_code=201 if result.created else 200,
    )


@guard(login=True)
async def cancel_api(request: Request) -> Response:
    await registrations.cancel(
        config_of(request), await _user(request), request.path_params["activity_id"]
    )
    return model_response(Cancelled(status="cancelled"))


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
    return model_response(
        Ticket(
            code=checkin.format_code(mine.code),
            qr=checkin.qr_token(config_of(request), mine.id),
            checked_in=mine.checked_in_at is not None,
        )
    )


@guard(login=True)
async def mine_api(request: Request) -> Response:
    user = await _user(request)
    mine = await _my_registrations(user)
    listed = await activities_out([r.activity for r in mine])
    return model_response(
        MyActivities(
            registrations=[
                MyActivity(activity=activity, **dict(await registration_out(r)))
                for r, activity in zip(mine, listed, strict=True)
            ]
        )
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
        chosen = chosen_filters(await parse_query(request, ActivitiesQuery))
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
    try:
        form = await parse_form(request, LeaveFeedback)
        await feedback.leave_feedback(
            (await _user(request)).id, request.path_params["activity_id"], form.rating, form.comment
        )
    except UserError as error:
        return await _detail_page(request, error)
    return RedirectResponse(f"/activities/{request.path_params['activity_id']}", status_code=303)


@guard(login=True)
async def pick_page(request: Request) -> Response:
    try:
        form = await parse_form(request, Pick)
        await feedback.pick(
            (await _user(request)).id, request.path_params["activity_id"], form.member_id
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
    body = await parse_json(request, LeaveFeedback)
    saved = await feedback.leave_feedback(
        (await _user(request)).id, request.path_params["activity_id"], body.rating, body.comment
    )
    return model_response(Rated(rating=saved.rating), status_code=201)


@guard(login=True)
async def attendees_api(request: Request) -> Response:
    user = await _user(request)
    activity_id = request.path_params["activity_id"]
    others = await feedback.attendees(activity_id, user.id)
    picked = await feedback.my_picks(activity_id, user.id)
    day = kernel_of(request).settings.local_today()
    found = await member_cards(others, user.id, day)
    cards = [found[other] for other in others]
    return model_response(
        Attendees(
            attendees=[
                Attendee(id=other, nickname=card["nickname"], picked=other in picked)
                for other, card in zip(others, cards, strict=True)
            ]
        )
    )


@guard(login=True)
async def pick_api(request: Request) -> Response:
    body = await parse_json(request, Pick)
    connection = await feedback.pick(
        (await _user(request)).id, request.path_params["activity_id"], body.member_id
    )
    return model_response(
        Picked(mutual=connection is not None, connection_id=connection.id if connection else None)
    )


def slot_out(slot: ConsultationSlot) -> Slot:
    return Slot(id=slot.id, starts_at=slot.starts_at, ends_at=slot.ends_at, place=slot.place)


@guard(login=True)
async def slots_api(request: Request) -> Response:
    return model_response(Slots(slots=[slot_out(s) for s in await consultations.free_slots()]))


@guard(login=True)
async def book_slot_api(request: Request) -> Response:
    slot = await consultations.book(await _user(request), request.path_params["slot_id"])
    return model_response(slot_out(slot))


@guard(login=True)
async def cancel_slot_api(request: Request) -> Response:
    await consultations.cancel_booking(await _user(request), request.path_params["slot_id"])
    return model_response(Cancelled(status="cancelled"))


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
    return model_response(CalendarFeed(url=f"{_base_url(request)}calendar/{token}.ics"), 201)


@guard(login=True)
async def feed_revoke_api(request: Request) -> Response:
    await calendar.revoke_feed((await _user(request)).id)
    return model_response(Status(status="revoked"))


ACTIVITY_PATH = "/api/v1/activities/{activity_id:id}"
routes = [
    ApiRoute(
        "/api/v1/activities",
        list_api,
        method="GET",
        summary="Upcoming activities (filters: kind, date YYYY-MM-DD, city code)",
        query=ActivitiesQuery,
        responses={200: Activities},
    ),
    ApiRoute(
        ACTIVITY_PATH,
        detail_api,
        method="GET",
        summary="One activity, with confirmed and waitlisted counts per gender",
        errors=(404,),
        responses={200: ActivityDetail},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/registration",
        sign_up_api,
        method="POST",
        summary="Sign up: a seat if one fits, else the waitlist (again: takes an offered seat)",
        errors=(403, 404, 409),
        responses={201: MyRegistration, 200: MyRegistration},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/registration",
        cancel_api,
        method="DELETE",
        summary="Cancel my registration (idempotent); a freed seat goes to the waitlist",
        errors=(404, 409),
        responses={200: Cancelled},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/ticket",
        ticket_api,
        method="GET",
        summary="My ticket: typed code and the QR token (no personal data); confirmed seats only",
        errors=(404,),
        responses={200: Ticket},
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
        body=LeaveFeedback,
        errors=(404, 409),
        responses={201: Rated},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/attendees",
        attendees_api,
        method="GET",
        summary="Other attendees I may pick to meet again (attendees only, after the end)",
        errors=(404, 409),
        responses={200: Attendees},
    ),
    ApiRoute(
        f"{ACTIVITY_PATH}/picks",
        pick_api,
        method="POST",
        summary="I'd like to meet this attendee again; mutual picks become a connection",
        body=Pick,
        errors=(404, 409),
        responses={200: Picked},
    ),
    ApiRoute(
        "/api/v1/consultation-slots",
        slots_api,
        method="GET",
        summary="Free 1:1 consultation slots with matchmakers",
        responses={200: Slots},
    ),
    ApiRoute(
        "/api/v1/consultation-slots/{slot_id:id}/booking",
        book_slot_api,
        method="POST",
        summary="Book a consultation slot (verified members)",
        errors=(403, 404, 409),
        responses={200: Slot},
    ),
    ApiRoute(
        "/api/v1/consultation-slots/{slot_id:id}/booking",
        cancel_slot_api,
        method="DELETE",
        summary="Give my booked slot back (idempotent)",
        responses={200: Cancelled},
    ),
    Route("/activities/{activity_id:id}/calendar.ics", activity_ics),
    Route("/calendar/{token:str}.ics", feed_ics),
    ApiRoute(
        "/api/v1/me/calendar-feed",
        feed_api,
        method="POST",
        summary="A new secret URL of my activities calendar (the old one stops working)",
        responses={201: CalendarFeed},
    ),
    ApiRoute(
        "/api/v1/me/calendar-feed",
        feed_revoke_api,
        method="DELETE",
        summary="Revoke my calendar URL",
        responses={200: Status},
    ),
    ApiRoute(
        "/api/v1/me/activities",
        mine_api,
        method="GET",
        summary="My registrations, newest first",
        responses={200: MyActivities},
    ),
]
