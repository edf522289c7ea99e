"""Sign-up and cancellation: the only ways a member takes or gives up a seat.

Both run in one transaction under the activity's seat lock (locking.py), so capacity and
quotas are checked and taken atomically even with many web workers; the unique active
registration per member and activity is the second guard. Signing up again is harmless (it
returns the registration already there, or takes up a seat offered from the waitlist);
cancelling twice is harmless too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.activities import attendance, checkin
from qingyuan.activities.locking import lock_seats
from qingyuan.activities.models import (
    SEAT_STATUSES,
    Activity,
    ActivityStatus,
    Registration,
    RegistrationStatus,
)
from qingyuan.activities.seats import SeatPlan, seats_taken
from qingyuan.activities.settings import EventSettings
from qingyuan.activities.waitlist import fill_freed_seats, next_seq
from qingyuan.platform.errors import Conflict, NotFound
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.verification import Member, VerificationStatus
from qingyuan.verification.review import member_of
from qingyuan.verification.status import ensure_verified


@dataclass(frozen=True)
class SignUp:
    registration: Registration
    created: bool
    plan: SeatPlan


def check_open(activity: Activity, at: datetime) -> None:
    """Refuse sign-ups outside the registration window or for a cancelled activity."""
    if activity.status == ActivityStatus.CANCELLED:
        raise Conflict(_("This activity has been cancelled."))
    if activity.registration_opens_at and at < activity.registration_opens_at:
        raise Conflict(_("Registration for this activity has not opened yet."))
    if at >= activity.registration_closes_at or at >= activity.starts_at:
        raise Conflict(_("Registration for this activity has closed."))


async def active_registration(activity_id: int, user_id: int) -> Registration | None:
    return await Registration.get_or_none(activity_id=activity_id, active_member=user_id)


async def sign_up(
    config: EventSettings, user: User, activity_id: int, *, at: datetime | None = None
) -> SignUp:
    """Take a seat if one fits the member, else join the end of the waitlist."""
    at = at or now()
    activity = await Activity.get_or_none(id=activity_id)
    if activity is None:
        raise NotFound()
    member = await _member_for(user, activity)
    existing = await active_registration(activity_id, user.id)
    if existing is None:
        check_open(activity, at)
        await attendance.ensure_not_paused(config, user.id, at)
    code = checkin.new_code()
    try:
        async with in_transaction() as connection:
            locked = await lock_seats(connection, activity_id)
            if locked is None:  # deleted since the check above
                raise NotFound()
            activity, plan = locked
            existing = await Registration.get_or_none(
                activity_id=activity_id, active_member=user.id, using_db=connection
            )
            if existing is not None:
                return SignUp(await _take_offer(existing, at, connection), False, plan)
            check_open(activity, at)  # again under the lock: it may have been cancelled since
            taken = await seats_taken(activity_id, connection)
            registration = Registration(
                activity_id=activity_id,
                user_id=user.id,
                active_member=user.id,
                gender=member.gender,
                code=code,
            )
            if plan.has_seat(taken, member.gender):
                registration.status = RegistrationStatus.CONFIRMED
                registration.confirmed_at = at
            else:
                registration.status = RegistrationStatus.WAITLISTED
                registration.waitlist_seq = await next_seq(connection, activity_id)
            await registration.save(using_db=connection)
    except IntegrityError as error:  # the second guard: the lock should make this unreachable
        raise Conflict(_("You are already registered for this activity.")) from error
    return SignUp(registration, True, plan)


async def _member_for(user: User, activity: Activity) -> Member:
    """Verified members may join every activity; one that does not require verification
    (say, an open lecture) also admits members whose checks are still pending, never
    rejected ones. The seat's gender is the ID number's either way."""
    if activity.requires_verification:
        return await ensure_verified(user)
    member = await member_of(user)
    if member is None or member.status == VerificationStatus.REJECTED:
        return await ensure_verified(user)  # refuses, with the member's reason
    return member


async def _take_offer(
    registration: Registration, at: datetime, connection: BaseDBAsyncClient
) -> Registration:
    if registration.status != RegistrationStatus.OFFERED:
        return registration
    if registration.offer_expires_at is None or registration.offer_expires_at <= at:
        raise Conflict(_("The seat offered to you has expired."))
    registration.status = RegistrationStatus.CONFIRMED
    registration.confirmed_at = at
    registration.offer_expires_at = None
    await registration.save(using_db=connection)
    return registration


async def cancel(
    config: EventSettings, user: User, activity_id: int, *, at: datetime | None = None
) -> Registration | None:
    """Give up a seat or a waitlist place; the freed seat goes to the waitlist.

    Returns the cancelled registration, or None when there was nothing to cancel (a second
    cancel, or none at all): cancelling is idempotent.
    """
    at = at or now()
    if not await Activity.exists(id=activity_id):
        raise NotFound()
    async with in_transaction() as connection:
        locked = await lock_seats(connection, activity_id)
        if locked is None:  # deleted since the check above
            raise NotFound()
        activity, plan = locked
        registration = await Registration.get_or_none(
            activity_id=activity_id, active_member=user.id, using_db=connection
        )
        if registration is None:
            return None
        freed = registration.status in SEAT_STATUSES
        if registration.status == RegistrationStatus.CONFIRMED and at > activity.cancel_deadline:
            raise Conflict(
                _(
                    "The cancellation deadline has passed. "
                    "If you cannot come, please tell the organisers."
                )
            )
        registration.status = RegistrationStatus.CANCELLED
        registration.active_member = None
        registration.cancelled_at = at
        await registration.save(using_db=connection)
        if freed and activity.status == ActivityStatus.SCHEDULED and at < activity.starts_at:
            await fill_freed_seats(connection, activity, plan, config.waitlist_offer_hours, at)
    return registration
