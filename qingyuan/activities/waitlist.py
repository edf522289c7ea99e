"""The waitlist: positions, filling freed seats in order, offers that expire and pass on.

A freed seat goes to the longest-waiting member who fits it — with gender quotas, that is the
next member of the freed seat's gender (or of any gender the tolerance still admits). The seat
is offered for `QINGYUAN_WAITLIST_OFFER_HOURS`; the member takes it by signing up again. An
offer not taken up expires through the `events.expire_offers` job and the seat moves on. An
offer that could not run its course before the activity (less than two hours before the start
would remain) becomes a confirmed seat at once: nobody can act on an offer at the door.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.activities.locking import lock_seats
from qingyuan.activities.models import Activity, ActivityStatus, Registration, RegistrationStatus
from qingyuan.activities.seats import SeatPlan, seat_plan, seats_taken
from qingyuan.platform.notifications import notify

LAST_OFFER_BEFORE_START = timedelta(hours=2)


async def next_seq(connection: BaseDBAsyncClient, activity_id: int) -> int:
    """The next place at the end of the waitlist (call under the activity's lock)."""
    last = cast(
        int | None,  # Tortoise types a flat values_list row as a tuple
        await Registration.filter(activity_id=activity_id, waitlist_seq__not_isnull=True)
        .using_db(connection)
        .order_by("-waitlist_seq")
        .first()
        .values_list("waitlist_seq", flat=True),
    )
    return (last or 0) + 1


async def position(registration: Registration, plan: SeatPlan | None = None) -> int | None:
    """1-based place in the member's queue (their gender's with quotas), None if not waiting."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    if plan is None:
        plan = await seat_plan(await Activity.get(id=registration.activity_id))
    ahead = Registration.filter(
        activity_id=registration.activity_id,
        status=RegistrationStatus.WAITLISTED,
        waitlist_seq__lte=registration.waitlist_seq,
    )
    if plan.queue_of(registration.gender):
        ahead = ahead.filter(gender=registration.gender)
    return await ahead.count()


async def fill_freed_seats(
    connection: BaseDBAsyncClient,
    activity: Activity,
    plan: SeatPlan,
    offer_hours: float,
    at: datetime,
) -> list[Registration]:
    """Offer every free seat to the next fitting waitlisted member (under the lock)."""
    taken = await seats_taken(activity.id, connection)
    waiting = (
        await Registration.filter(activity_id=activity.id, status=RegistrationStatus.WAITLISTED)
        .using_db(connection)
        .order_by("waitlist_seq")
    )
    promoted = []
    for registration in waiting:
        if sum(taken.values()) >= plan.capacity:
            break
        if not plan.has_seat(taken, registration.gender):
            continue
        taken[registration.gender] += 1
        await _promote(connection, activity, registration, offer_hours, at)
        promoted.append(registration)
    return promoted


async def _promote(
    connection: BaseDBAsyncClient,
    activity: Activity,
    registration: Registration,
    offer_hours: float,
    at: datetime,
) -> None:
    expires = min(at + timedelta(hours=offer_hours), activity.starts_at - LAST_OFFER_BEFORE_START)
    if expires <= at:
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = at
        registration.offer_expires_at = None
        kind = "activity.promoted"
    else:
        registration.status = RegistrationStatus.OFFERED
        registration.offer_expires_at = expires
        kind = "activity.seat_offered"
    await registration.save(using_db=connection)
    await notify(
        registration.user_id,
        kind,
        activity_id=activity.id,
        expires_at=expires.isoformat() if registration.offer_expires_at else None,
    )


async def expire_offers(offer_hours: float, at: datetime | None = None) -> int:
    """Expire offers past their time and pass their seats on; returns how many expired.

    Idempotent: an offer is expired under the activity's lock only if it is still an open
    offer past its time, so a duplicate or retried run changes nothing twice.
    """
    at = at or now()
    activity_ids = set(
        cast(
            list[int],  # Tortoise types flat values_list rows as tuples
            await Registration.filter(
                status=RegistrationStatus.OFFERED, offer_expires_at__lte=at
            ).values_list("activity_id", flat=True),
        )
    )
    expired = 0
    for activity_id in sorted(activity_ids):
        async with in_transaction() as connection:
            locked = await lock_seats(connection, activity_id)
            if locked is None:  # deleted meanwhile: its offers went with it
                continue
            activity, plan = locked
            lapsed = await Registration.filter(
                activity_id=activity_id,
                status=RegistrationStatus.OFFERED,
                offer_expires_at__lte=at,
            ).using_db(connection)
            for registration in lapsed:
                registration.status = RegistrationStatus.EXPIRED
                registration.active_member = None
                await registration.save(using_db=connection)
                await notify(
                    registration.user_id, "activity.offer_expired", activity_id=activity_id
                )
            expired += len(lapsed)
            if activity.status == ActivityStatus.SCHEDULED and at < activity.starts_at:
                await fill_freed_seats(connection, activity, plan, offer_hours, at)
    return expired
