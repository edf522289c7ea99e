"""What each kind of notification says and where it leads, in the reader's language.

Parts store only a kind and ids (platform/notifications.py); the wording and the page are
the web layer's, so a new kind adds one line here. Texts are built when shown, inside the
reader's locale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Notification
from qingyuan.platform.schemas import Notice

Describe = Callable[[dict[str, Any]], tuple[str, str]]


def _activity(data: dict[str, Any], page: str = "") -> str:
    return f"/activities/{int(data.get('activity_id', 0))}{page}"


NOTICES: dict[str, Describe] = {
    "match.proposed": lambda d: (_("Your match for today has arrived."), "/matches"),
    "connection.created": lambda d: (
        _("You both said yes: a new connection is open."),
        "/connections",
    ),
    "introduction.created": lambda d: (
        _("A matchmaker has introduced someone to you."),
        "/introductions",
    ),
    "activity.seat_offered": lambda d: (
        _("A seat has opened for you: confirm it before the offer expires."),
        _activity(d),
    ),
    "activity.promoted": lambda d: (
        _("A seat opened and you are now confirmed."),
        _activity(d, "/ticket"),
    ),
    "activity.offer_expired": lambda d: (
        _("Your seat offer has expired and passed to the next person."),
        _activity(d),
    ),
    "activity.cancelled": lambda d: (
        _("An activity you signed up for is cancelled."),
        _activity(d),
    ),
    "activity.reminder": lambda d: (
        _("Reminder: your activity starts in %(hours)d hours.", hours=int(d.get("hours", 0))),
        _activity(d, "/ticket"),
    ),
}


def _fallback(data: dict[str, Any]) -> tuple[str, str]:
    return _("You have a new notice."), "/home"


def notice_of(notification: Notification) -> Notice:
    text, url = NOTICES.get(notification.kind, _fallback)(notification.data)
    return Notice(
        id=notification.id,
        kind=notification.kind,
        text=text,
        url=url,
        created_at=notification.created_at,
        read=notification.read_at is not None,
    )
