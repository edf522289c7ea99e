"""Reminders 24 hours and 2 hours before an activity, each sent once per seat.

The job runs every five minutes; a reminder is claimed with a conditional UPDATE of its
`reminded_*_at` column in the same transaction as the notification, so overlapping runs,
retries or two workers never send one twice. Seats confirmed later than a reminder's moment
still get it on the next run (a late sign-up 20 hours before still hears "tomorrow").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.timezone import now
from tortoise.transactions import in_transaction

from qingyuan.activities.models import Activity, ActivityStatus, Registration, RegistrationStatus
from qingyuan.platform.notifications import notify

# (column, from, to): the 24-hour reminder is for starts between 2 and 24 hours ahead, so a
# member who signs up an hour before gets one reminder, not two at once.
REMINDERS = (
    ("reminded_24h_at", timedelta(hours=2), timedelta(hours=24)),
    ("reminded_2h_at", timedelta(0), timedelta(hours=2)),
)


async def send_reminders(at: datetime | None = None) -> int:
    """Send every due, unsent reminder; returns how many were sent."""
    at = at or now()
    sent = 0
    for column, after, before in REMINDERS:
        due = await Activity.filter(
            status=ActivityStatus.SCHEDULED, starts_at__gt=at + after, starts_at__lte=at + before
        ).values_list("id", flat=True)
        waiting = await Registration.filter(
            activity_id__in=list(due),
            status=RegistrationStatus.CONFIRMED,
            **{f"{column}__isnull": True},
        ).values_list("id", "user_id", "activity_id")
        for registration_id, user_id, activity_id in waiting:
            async with in_transaction():
                claimed = await Registration.filter(
                    id=registration_id, **{f"{column}__isnull": True}
                ).update(**{column: at})
                if claimed:
                    hours = int(before.total_seconds() // 3600)
                    await notify(user_id, "activity.reminder", activity_id=activity_id, hours=hours)
                    sent += 1
    return sent
