"""After the activity: feedback, and mutual "I'd like to meet again" picks → connections.

Only members who attended (checked in) may rate the activity or pick each other, and only
among themselves, for `PICK_DAYS` after the end. A pick is private until it is mutual; then
matching's `open_connection` connects the two, once, like a mutual like.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from tortoise.exceptions import IntegrityError
from tortoise.timezone import now

from qingyuan.activities.models import Activity, Attendance, Feedback, MeetAgainPick, Registration
from qingyuan.activities.schemas import LeaveFeedback
from qingyuan.connections import Connection, ConnectionSource
from qingyuan.connections.pairs import open_connection
from qingyuan.connections.safety import is_blocked
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.validation import validate

PICK_DAYS = 14


async def _attended(activity_id: int, user_id: int) -> Registration | None:
    return await Registration.get_or_none(
        activity_id=activity_id, user_id=user_id, attendance=Attendance.ATTENDED
    )


async def _after(activity_id: int, at: datetime) -> Activity:
    activity = await Activity.get_or_none(id=activity_id)
    if activity is None:
        raise NotFound()
    if at < activity.ends_at:
        raise Conflict(_("You can do this after the activity has ended."))
    if at > activity.ends_at + timedelta(days=PICK_DAYS):
        raise Conflict(_("This activity ended too long ago."))
    return activity


async def leave_feedback(
    user_id: int, activity_id: int, rating: int, comment: str = "", *, at: datetime | None = None
) -> Feedback:
    """Rate an attended activity 1–5 with an optional comment; a second time replaces it.

    The rating and comment are checked by `LeaveFeedback`, the route's model, here too: a
    caller outside the web layer cannot store a rating of 6.
    """
    checked = validate(LeaveFeedback, {"rating": rating, "comment": comment}, strict=True)
    await _after(activity_id, at or now())
    registration = await _attended(activity_id, user_id)
    if registration is None:
        raise NotFound()
    feedback, _created = await Feedback.update_or_create(
        registration=registration,
        defaults={"rating": checked.rating, "comment": checked.comment.strip()},
    )
    return feedback


async def attendees(activity_id: int, user_id: int, *, at: datetime | None = None) -> list[int]:
    """The other attendees a member who attended may pick (empty for anyone else)."""
    await _after(activity_id, at or now())
    if await _attended(activity_id, user_id) is None:
        raise NotFound()
    ids = cast(
        list[int],  # Tortoise types flat values_list rows as tuples
        await Registration.filter(
            activity_id=activity_id, attendance=Attendance.ATTENDED
        ).values_list("user_id", flat=True),
    )
    return sorted(i for i in ids if i != user_id)


async def my_picks(activity_id: int, user_id: int) -> set[int]:
    return set(
        cast(
            list[int],  # Tortoise types flat values_list rows as tuples
            await MeetAgainPick.filter(activity_id=activity_id, chooser_id=user_id).values_list(
                "chosen_id", flat=True
            ),
        )
    )


async def pick(
    user_id: int, activity_id: int, chosen_id: int, *, at: datetime | None = None
) -> Connection | None:
    """Say "I'd like to meet again"; returns the connection when the wish is mutual."""
    if chosen_id not in await attendees(activity_id, user_id, at=at):
        raise ValidationFailed(fields={"member_id": _("Choose someone who attended.")})
    try:
        await MeetAgainPick.create(activity_id=activity_id, chooser_id=user_id, chosen_id=chosen_id)
    except IntegrityError:
        pass  # picked already: harmless
    mutual = await MeetAgainPick.exists(
        activity_id=activity_id, chooser_id=chosen_id, chosen_id=user_id
    )
    if not mutual or await is_blocked(user_id, chosen_id):  # a block outlives any wish
        return None
    return await open_connection(user_id, chosen_id, ConnectionSource.ACTIVITY)
