"""Attendance after the event, and the sign-up pause for repeated no-shows.

A confirmed member who neither entered nor was excused is a no-show once the activity has
ended (the `events.mark_no_shows` job). `QINGYUAN_NO_SHOW_LIMIT` no-shows within
`QINGYUAN_NO_SHOW_LOOKBACK_DAYS` pause new sign-ups for `QINGYUAN_NO_SHOW_PAUSE_DAYS` after
the last one: seats at free public activities are scarce, and an empty seat was someone
else's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from tortoise.timezone import now

from qingyuan.activities.models import Activity, Attendance, Registration, RegistrationStatus
from qingyuan.activities.settings import EventSettings
from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.errors import Forbidden, NotFound
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User


async def paused_until(config: EventSettings, user_id: int, at: datetime) -> datetime | None:
    """When the member may sign up again, or None if they may now."""
    since = at - timedelta(days=config.no_show_lookback_days)
    ends = cast(
        list[datetime],  # Tortoise types flat values_list rows as tuples
        await Registration.filter(
            user_id=user_id, attendance=Attendance.NO_SHOW, activity__ends_at__gte=since
        ).values_list("activity__ends_at", flat=True),
    )
    if len(ends) < config.no_show_limit:
        return None
    until = max(ends) + timedelta(days=config.no_show_pause_days)
    return until if at < until else None


async def ensure_not_paused(config: EventSettings, user_id: int, at: datetime) -> None:
    until = await paused_until(config, user_id, at)
    if until is not None:
        raise Forbidden(
            _(
                "You missed %(count)d activities without cancelling, so you can sign up "
                "again from %(date)s.",
                count=config.no_show_limit,
                date=until.date().isoformat(),
            )
        )


async def mark_no_shows(at: datetime | None = None) -> int:
    """Confirmed members who did not enter an activity that has ended (idempotent)."""
    at = at or now()
    ended = Activity.filter(ends_at__lte=at).values_list("id", flat=True)
    return await Registration.filter(
        activity_id__in=await ended,
        status=RegistrationStatus.CONFIRMED,
        attendance__isnull=True,
    ).update(attendance=Attendance.NO_SHOW)


async def set_attendance(
    staff: User, registration_id: int, value: Attendance, reason: str = ""
) -> None:
    """Staff correct attendance (e.g. excuse an illness); audited with the reason (200 chars)."""
    registration = await Registration.get_or_none(
        id=registration_id, status=RegistrationStatus.CONFIRMED
    )
    if registration is None:
        raise NotFound()
    registration.attendance = value
    async with actions.transaction():
        await registration.save(update_fields=["attendance"])
        await audit.record(
            staff,
            AuditAction.ACTIVITY_ATTENDANCE_SET,
            target_type="registration",
            target_id=registration_id,
            reason=reason[:200],
            attendance=value.value,
        )
