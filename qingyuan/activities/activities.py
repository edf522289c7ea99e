"""Activities as admins run them: create, edit, cancel, and what members see of them.

Every staff change is audited; cancelling notifies everyone who held or awaited a seat.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.functions import Count
from tortoise.timezone import now

from qingyuan.activities.locking import lock_activity
from qingyuan.activities.models import (
    ACTIVE_STATUSES,
    Activity,
    ActivityKind,
    ActivityStatus,
    Quota,
    Registration,
    RegistrationStatus,
)
from qingyuan.activities.seats import SeatPlan, seats_taken
from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.platform.notifications import notify

GENDERS = ("male", "female")
MAX_CAPACITY = 2000


def kind_label(kind: ActivityKind | str) -> str:
    return {
        "frisbee": _("Frisbee"),
        "murder_mystery": _("Murder mystery game (剧本杀)"),
        "film_night": _("Film night"),
        "citywalk": _("Citywalk"),
        "lecture": _("Marriage-knowledge lecture"),
        "love_school": _("Love-school class"),
        "consultation": _("Matchmaker consultation"),
    }[str(kind)]


@dataclass(frozen=True)
class ActivityForm:
    fields: dict[str, Any]
    quotas: dict[str, int] | None


def parse_time(value: Any, timezone: str) -> datetime | None:
    """An ISO 8601 time; one without an offset is local time (Asia/Shanghai by default)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(timezone))


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def validate(body: dict[str, Any], timezone: str) -> ActivityForm:
    """Check a create/edit body; every faulty field is named at once."""
    errors: dict[str, str] = {}
    required = _("This field is required.")
    title = value.strip() if isinstance(value := body.get("title"), str) else ""
    if not 1 <= len(title) <= 80:
        errors["title"] = _("Give a title of 1 to 80 characters.")
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in set(ActivityKind):
        errors["kind"] = _("Choose a kind of activity.")
    place = value.strip() if isinstance(value := body.get("place"), str) else ""
    if not 1 <= len(place) <= 120:
        errors["place"] = _("Give the place (up to 120 characters).")
    times = {
        name: parse_time(body.get(name), timezone)
        for name in ("starts_at", "ends_at", "registration_closes_at", "cancel_deadline")
    }
    for name, value in times.items():
        if value is None:
            errors[name] = required if body.get(name) in (None, "") else _("Enter a valid time.")
    opens = parse_time(body.get("registration_opens_at"), timezone)
    if body.get("registration_opens_at") not in (None, "") and opens is None:
        errors["registration_opens_at"] = _("Enter a valid time.")
    starts, ends = times["starts_at"], times["ends_at"]
    if starts and ends and ends <= starts:
        errors["ends_at"] = _("The end must be after the start.")
    closes, deadline = times["registration_closes_at"], times["cancel_deadline"]
    if starts and closes and closes > starts:
        errors["registration_closes_at"] = _("Registration must close by the start.")
    if starts and deadline and deadline > starts:
        errors["cancel_deadline"] = _("The cancellation deadline must be by the start.")
    if opens and closes and opens >= closes:
        errors["registration_opens_at"] = _("Registration must open before it closes.")
    capacity = _int(body.get("capacity"), 1, MAX_CAPACITY)
    if capacity is None:
        errors["capacity"] = _(
            "Capacity must be a whole number from 1 to %(max)d.", max=MAX_CAPACITY
        )
    tolerance = _int(body.get("quota_tolerance", 0), 0, MAX_CAPACITY)
    if tolerance is None:
        errors["quota_tolerance"] = _("Tolerance must be a whole number, 0 or more.")
    quotas = _quotas(body.get("quotas"), capacity, errors)
    city = body.get("city")
    if city is not None and _int(city, 1000, 9999) is None:
        errors["city"] = _("Choose a city.")
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 4000:
        errors["description"] = _("The description may have up to 4000 characters.")
    if errors:
        raise ValidationFailed(fields=errors)
    return ActivityForm(
        {
            "title": title,
            "kind": ActivityKind(str(kind)),  # checked above
            "place": place,
            "city": city,
            "description": description.strip(),
            "capacity": capacity,
            "quota_tolerance": tolerance,
            "registration_opens_at": opens,
            "requires_verification": body.get("requires_verification", True) is not False,
            **times,
        },
        quotas,
    )


def _quotas(value: Any, capacity: int | None, errors: dict[str, str]) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != set(GENDERS):
        errors["quotas"] = _("Give seats for both men and women, or no quotas.")
        return None
    seats = {g: _int(value[g], 0, MAX_CAPACITY) for g in GENDERS}
    if any(n is None for n in seats.values()):
        errors["quotas"] = _("Quotas must be whole numbers, 0 or more.")
        return None
    if capacity is not None and sum(seats.values()) > capacity:  # type: ignore[arg-type]
        errors["quotas"] = _("The quotas add up to more than the capacity.")
        return None
    return seats  # type: ignore[return-value]


async def create_activity(admin: User, form: ActivityForm) -> Activity:
    async with actions.transaction():
        activity = await Activity.create(created_by_id=admin.id, **form.fields)
        for gender, seats in (form.quotas or {}).items():
            await Quota.create(activity=activity, gender=gender, seats=seats)
        await audit.record(
            admin, AuditAction.ACTIVITY_CREATED, target_type="activity", target_id=activity.id
        )
    return activity


async def update_activity(admin: User, activity_id: int, form: ActivityForm) -> Activity:
    """Edit under the seat lock; capacity and quotas may not drop below seats already taken."""
    async with actions.transaction() as connection:
        activity = await lock_activity(connection, activity_id)
        if activity is None:
            raise NotFound()
        if activity.status == ActivityStatus.CANCELLED:
            raise Conflict(_("This activity has been cancelled."))
        taken = await seats_taken(activity_id, connection)
        plan = SeatPlan(form.fields["capacity"], form.quotas or {}, form.fields["quota_tolerance"])
        if sum(taken.values()) > plan.capacity or any(n > plan.limit(g) for g, n in taken.items()):
            raise ValidationFailed(
                fields={"capacity": _("More seats are taken than this would allow.")}
            )
        await activity.update_from_dict(form.fields).save(using_db=connection)
        await Quota.filter(activity_id=activity_id).using_db(connection).delete()
        for gender, seats in (form.quotas or {}).items():
            await Quota.create(activity=activity, gender=gender, seats=seats, using_db=connection)
        await audit.record(
            admin, AuditAction.ACTIVITY_UPDATED, target_type="activity", target_id=activity_id
        )
    return activity


async def cancel_activity(admin: User, activity_id: int, reason: str) -> Activity:
    """Cancel, and tell everyone registered; cancelling twice changes nothing more."""
    async with actions.transaction() as connection:
        activity = await lock_activity(connection, activity_id)
        if activity is None:
            raise NotFound()
        if activity.status == ActivityStatus.CANCELLED:
            return activity
        activity.status = ActivityStatus.CANCELLED
        activity.cancelled_at = now()
        await activity.save(using_db=connection)
        affected = await Registration.filter(
            activity_id=activity_id, status__in=ACTIVE_STATUSES
        ).using_db(connection)
        for registration in affected:
            registration.status = RegistrationStatus.CANCELLED
            registration.active_member = None
            registration.cancelled_at = activity.cancelled_at
            await registration.save(using_db=connection)
            await notify(registration.user_id, "activity.cancelled", activity_id=activity_id)
        await audit.record(
            admin,
            AuditAction.ACTIVITY_CANCELLED,
            target_type="activity",
            target_id=activity_id,
            reason=reason,
            notified=len(affected),
        )
    return activity


async def get_activity(activity_id: int) -> Activity:
    activity = await Activity.get_or_none(id=activity_id)
    if activity is None:
        raise NotFound()
    return activity


async def counts(activity_id: int) -> dict[str, dict[str, int]]:
    """Confirmed (offers included: they hold a seat) and waitlisted members, by gender."""
    return (await counts_of([activity_id]))[activity_id]


async def counts_of(activity_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    """`counts` of many activities in one grouped query (the admin's list of the month)."""
    ids = list(activity_ids)
    rows = (
        await Registration.filter(activity_id__in=ids, status__in=ACTIVE_STATUSES)
        .annotate(n=Count("id"))
        .group_by("activity_id", "status", "gender")
        .values_list("activity_id", "status", "gender", "n")
    )
    result = {i: {s: dict.fromkeys(GENDERS, 0) for s in ("confirmed", "waitlisted")} for i in ids}
    for activity_id, status, gender, n in rows:
        bucket = "waitlisted" if status == RegistrationStatus.WAITLISTED else "confirmed"
        result[activity_id][bucket][gender] = result[activity_id][bucket].get(gender, 0) + n
    return result


async def quotas_of(activity_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Seats per gender of each activity that has quotas, in one query."""
    result: dict[int, dict[str, int]] = {}
    rows = await Quota.filter(activity_id__in=list(activity_ids)).values_list(
        "activity_id", "gender", "seats"
    )
    for activity_id, gender, seats in rows:
        result.setdefault(activity_id, {})[gender] = seats
    return result


async def upcoming(
    *,
    at: datetime,
    kind: str | None = None,
    city: int | None = None,
    day: date | None = None,
    timezone: str = "Asia/Shanghai",
) -> list[Activity]:
    """Scheduled activities that have not ended, soonest first, with the members' filters."""
    query = Activity.filter(status=ActivityStatus.SCHEDULED, ends_at__gt=at)
    if kind:
        query = query.filter(kind=kind)
    if city:
        query = query.filter(city=city)
    if day is not None:  # in the query: filtered after the limit, a later day came up empty
        start = datetime.combine(day, time(), ZoneInfo(timezone))
        query = query.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
    return await query.order_by("starts_at").limit(200)
