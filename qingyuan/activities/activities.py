"""Activities as admins run them: create, edit, cancel, and what members see of them.

Every staff change is audited; cancelling notifies everyone who held or awaited a seat.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from qingyuan.activities.schemas import ActivityBody
from qingyuan.activities.seats import SeatPlan, seats_taken
from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.platform.notifications import notify

GENDERS = ("male", "female")


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


def _problems(data: ActivityBody) -> dict[str, str]:
    """What the JSON Schema cannot say: the times' order, and quotas within the capacity."""
    problems: dict[str, str] = {}
    starts, closes, opens = data.starts_at, data.registration_closes_at, data.registration_opens_at
    if data.ends_at <= starts:
        problems["ends_at"] = _("The end must be after the start.")
    if closes > starts:
        problems["registration_closes_at"] = _("Registration must close by the start.")
    if data.cancel_deadline > starts:
        problems["cancel_deadline"] = _("The cancellation deadline must be by the start.")
    if opens is not None and opens >= closes:
        problems["registration_opens_at"] = _("Registration must open before it closes.")
    if data.quotas is not None and data.quotas.male + data.quotas.female > data.capacity:
        problems["quotas"] = _("The quotas add up to more than the capacity.")
    return problems


def _columns(data: ActivityBody) -> dict[str, Any]:
    problems = _problems(data)
    if problems:
        raise ValidationFailed(fields=problems)
    return {
        **data.model_dump(exclude={"quotas"}),
        "title": data.title.strip(),
        "place": data.place.strip(),
        "description": data.description.strip(),
        "kind": ActivityKind(data.kind),
    }


def _quotas(data: ActivityBody) -> dict[str, int]:
    return data.quotas.model_dump() if data.quotas else {}


async def create_activity(admin: User, data: ActivityBody) -> Activity:
    columns = _columns(data)
    async with actions.transaction():
        activity = await Activity.create(created_by_id=admin.id, **columns)
        for gender, seats in _quotas(data).items():
            await Quota.create(activity=activity, gender=gender, seats=seats)
        await audit.record(
            admin, AuditAction.ACTIVITY_CREATED, target_type="activity", target_id=activity.id
        )
    return activity


async def update_activity(admin: User, activity_id: int, data: ActivityBody) -> Activity:
    """Edit under the seat lock; capacity and quotas may not drop below seats already taken."""
    columns, quotas = _columns(data), _quotas(data)
    async with actions.transaction() as connection:
        activity = await lock_activity(connection, activity_id)
        if activity is None:
            raise NotFound()
        if activity.status == ActivityStatus.CANCELLED:
            raise Conflict(_("This activity has been cancelled."))
        taken = await seats_taken(activity_id, connection)
        plan = SeatPlan(data.capacity, quotas, data.quota_tolerance)
        if sum(taken.values()) > plan.capacity or any(n > plan.limit(g) for g, n in taken.items()):
            raise ValidationFailed(
                fields={"capacity": _("More seats are taken than this would allow.")}
            )
        await activity.update_from_dict(columns).save(using_db=connection)
        await Quota.filter(activity_id=activity_id).using_db(connection).delete()
        for gender, seats in quotas.items():
            await Quota.create(activity=activity, gender=gender, seats=seats, using_db=connection)
        await audit.record(
            admin, AuditAction.ACTIVITY_UPDATED, target_type="activity", target_id=activity_id
        )
    return activity


async def cancel_activity(admin: User, activity_id: int, reason: str) -> Activity:
    """Cancel, and tell everyone registered; cancelling twice changes nothing more.

    The reason is kept stripped, up to 500 characters.
    """
    reason = reason.strip()[:500]
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
