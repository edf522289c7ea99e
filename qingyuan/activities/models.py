"""Tables of offline activities.

A registration is active while it holds or waits for a seat (confirmed, offered, waitlisted).
`active_member` carries the member's id exactly while the registration is active and is NULL
otherwise, so the unique pair (activity, active_member) allows one active registration per
member and activity on SQLite and PostgreSQL alike (NULLs never collide), while cancelled
registrations stay on record. It is the second guard against double booking, after the lock.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from qingyuan.platform.models import User


class ActivityKind(StrEnum):
    FRISBEE = "frisbee"
    MURDER_MYSTERY = "murder_mystery"  # 剧本杀
    FILM_NIGHT = "film_night"
    CITYWALK = "citywalk"
    LECTURE = "lecture"
    LOVE_SCHOOL = "love_school"
    CONSULTATION = "consultation"


class ActivityStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    OFFERED = "offered"  # a freed seat held for a waitlisted member until the offer expires
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # an offer not taken up in time


ACTIVE_STATUSES = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.OFFERED,
    RegistrationStatus.WAITLISTED,
)
SEAT_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED)


class Attendance(StrEnum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    EXCUSED = "excused"


class Activity(Model):
    """One offline activity. Every seat change bumps `lock_counter` (see locking.py)."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=80)
    kind = fields.CharEnumField(ActivityKind, max_length=16)
    description = fields.TextField(default="")
    place = fields.CharField(max_length=120)
    city = fields.IntField(null=True, help_text="4-digit GB/T 2260 city code")
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    capacity = fields.IntField()
    quota_tolerance = fields.SmallIntField(default=0)
    registration_opens_at = fields.DatetimeField(null=True)
    registration_closes_at = fields.DatetimeField()
    cancel_deadline = fields.DatetimeField()
    requires_verification = fields.BooleanField(default=True)
    status = fields.CharEnumField(ActivityStatus, max_length=12, default=ActivityStatus.SCHEDULED)
    lock_counter = fields.IntField(default=0)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    cancelled_at = fields.DatetimeField(null=True)
    quotas: fields.ReverseRelation[Quota]

    class Meta:
        table = "events_activity"


class Quota(Model):
    """Seats reserved for one gender. No rows means no gender quotas."""

    id = fields.IntField(primary_key=True)
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "events.Activity", related_name="quotas", on_delete=fields.CASCADE
    )
    activity_id: int
    gender = fields.CharField(max_length=8)
    seats = fields.IntField()

    class Meta:
        table = "events_quota"
        unique_together = (("activity", "gender"),)


class Registration(Model):
    """A member's place at an activity: seat, offer or waitlist, then attendance."""

    id = fields.IntField(primary_key=True)
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "events.Activity", related_name="registrations", on_delete=fields.CASCADE
    )
    activity_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    active_member = fields.IntField(null=True)
    gender = fields.CharField(max_length=8)
    status = fields.CharEnumField(RegistrationStatus, max_length=12)
    waitlist_seq = fields.IntField(null=True)
    offer_expires_at = fields.DatetimeField(null=True)
    code = fields.CharField(max_length=8, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    confirmed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    checked_in_at = fields.DatetimeField(null=True)
    checked_in_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    checked_in_by_id: int | None
    attendance = fields.CharEnumField(Attendance, max_length=10, null=True)
    reminded_24h_at = fields.DatetimeField(null=True)
    reminded_2h_at = fields.DatetimeField(null=True)

    class Meta:
        table = "events_registration"
        unique_together = (("activity", "active_member"),)


class Feedback(Model):
    id = fields.IntField(primary_key=True)
    registration: fields.OneToOneRelation[Registration] = fields.OneToOneField(
        "events.Registration", related_name="feedback", on_delete=fields.CASCADE
    )
    registration_id: int
    rating = fields.SmallIntField()
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events_feedback"


class MeetAgainPick(Model):
    """One attendee's wish to meet another again. A mutual pair opens a connection."""

    id = fields.IntField(primary_key=True)
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "events.Activity", related_name=False, on_delete=fields.CASCADE
    )
    activity_id: int
    chooser: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    chooser_id: int
    chosen: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    chosen_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events_meet_again"
        unique_together = (("activity", "chooser", "chosen"),)


class Shift(Model):
    """A volunteer role during part of an activity, and how many people it needs."""

    id = fields.IntField(primary_key=True)
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "events.Activity", related_name="shifts", on_delete=fields.CASCADE
    )
    activity_id: int
    role = fields.CharField(max_length=40)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    needed = fields.SmallIntField(default=1)

    class Meta:
        table = "events_shift"


class ShiftAssignment(Model):
    id = fields.IntField(primary_key=True)
    shift: fields.ForeignKeyRelation[Shift] = fields.ForeignKeyField(
        "events.Shift", related_name="assignments", on_delete=fields.CASCADE
    )
    shift_id: int
    volunteer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    volunteer_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events_shift_assignment"
        unique_together = (("shift", "volunteer"),)


class CalendarFeed(Model):
    """A member's secret calendar URL: only the token's hash is kept, revoking deletes it."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events_calendar_feed"
