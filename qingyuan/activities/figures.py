"""Per-activity figures for admins: sign-ups over time, outcomes, pairs and conversion.

Pairs are the mutual "meet again" picks of the activity; the conversion rate is the share of
attendees in at least one pair (Youth League events report 5–10 %).
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from qingyuan.activities.models import ACTIVE_STATUSES, Attendance, MeetAgainPick, Registration


async def activity_figures(activity_id: int, timezone: str) -> dict[str, Any]:
    rows = await Registration.filter(activity_id=activity_id).values_list(
        "created_at", "status", "attendance"
    )
    zone = ZoneInfo(timezone)
    by_day = Counter(created.astimezone(zone).date().isoformat() for created, _s, _a in rows)
    statuses = Counter(status for _c, status, _a in rows if status in ACTIVE_STATUSES)
    attendance = Counter(a for _c, _s, a in rows if a)
    picks = set(
        await MeetAgainPick.filter(activity_id=activity_id).values_list("chooser_id", "chosen_id")
    )
    pairs = {tuple(sorted(p)) for p in picks if (p[1], p[0]) in picks}
    paired = {member for pair in pairs for member in pair}
    attended = attendance[Attendance.ATTENDED]
    return {
        "signups_by_day": dict(sorted(by_day.items())),
        "signups": len(rows),
        "confirmed": statuses["confirmed"] + statuses["offered"],
        "waitlisted": statuses["waitlisted"],
        "attended": attended,
        "no_show": attendance[Attendance.NO_SHOW],
        "excused": attendance[Attendance.EXCUSED],
        "pairs": len(pairs),
        "conversion_rate": round(len(paired) / attended, 3) if attended else None,
    }
