"""Background jobs of activities; each is idempotent, so retries and duplicate ticks are safe."""

from __future__ import annotations

from taskiq import Context, TaskiqDepends

from qingyuan.activities import attendance, reminders, waitlist
from qingyuan.activities.settings import event_settings
from qingyuan.platform.jobs import job


@job("events.expire_offers", cron="* * * * *")
async def expire_offers_job(context: Context = TaskiqDepends()) -> int:
    """Every minute: waitlist offers past their time lapse and their seats pass on."""
    config = event_settings(context.state.kernel.settings)
    return await waitlist.expire_offers(config.waitlist_offer_hours)


@job("events.mark_no_shows", cron="*/15 * * * *")
async def mark_no_shows_job(context: Context = TaskiqDepends()) -> int:
    """Confirmed members who never entered an ended activity become no-shows."""
    return await attendance.mark_no_shows()


@job("events.send_reminders", cron="*/5 * * * *")
async def send_reminders_job(context: Context = TaskiqDepends()) -> int:
    """Reminders 24 h and 2 h before each activity, each sent once."""
    return await reminders.send_reminders()
