"""iCalendar (RFC 5545) for one activity and for a member's feed behind a secret URL.

Entries hold what is on the public activity page — title, time, place, a link to the page —
and nothing about the member: a calendar app may sync them anywhere. The feed's URL is the
only secret; the database keeps its SHA-256 hash, so a leaked database cannot be used to read
feeds, and a new URL (or revoking it) makes the old one useless at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from tortoise.timezone import now

from qingyuan.activities.models import SEAT_STATUSES, Activity, CalendarFeed, Registration

PRODID = "-//Qingyuan//Activities//ZH"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continuations starting with a space (RFC 5545 §3.1)."""
    parts: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not parts else 74
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = ""
        current += char
    parts.append(current)
    return [parts[0], *(" " + p for p in parts[1:])]


def _event(activity: Activity, base_url: str, stamp: datetime) -> list[str]:
    status = "CANCELLED" if activity.status.value == "cancelled" else "CONFIRMED"
    return [
        "BEGIN:VEVENT",
        f"UID:activity-{activity.id}@qingyuan",
        f"DTSTAMP:{_stamp(stamp)}",
        f"DTSTART:{_stamp(activity.starts_at)}",
        f"DTEND:{_stamp(activity.ends_at)}",
        f"SUMMARY:{_escape(activity.title)}",
        f"LOCATION:{_escape(activity.place)}",
        f"URL:{base_url.rstrip('/')}/activities/{activity.id}",
        f"STATUS:{status}",
        "END:VEVENT",
    ]


def calendar(activities: Iterable[Activity], base_url: str, name: str) -> str:
    stamp = now()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append(f"X-WR-CALNAME:{_escape(name)}")
    for activity in activities:
        lines += _event(activity, base_url, stamp)
    lines.append("END:VCALENDAR")
    return "".join(f"{folded}\r\n" for line in lines for folded in _fold(line))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def new_feed(user_id: int) -> str:
    """A new secret feed token for the member; any earlier one stops working."""
    token = secrets.token_urlsafe(32)
    await CalendarFeed.filter(user_id=user_id).delete()
    await CalendarFeed.create(user_id=user_id, token_hash=_hash(token))
    return token


async def revoke_feed(user_id: int) -> None:
    await CalendarFeed.filter(user_id=user_id).delete()


async def feed_activities(token: str) -> list[Activity] | None:
    """The member's activities with a seat, for a valid token; None for any other token."""
    feed = await CalendarFeed.get_or_none(token_hash=_hash(token))
    if feed is None:
        return None
    ids = await Registration.filter(user_id=feed.user_id, status__in=SEAT_STATUSES).values_list(
        "activity_id", flat=True
    )
    return await Activity.filter(id__in=list(ids)).order_by("starts_at")
