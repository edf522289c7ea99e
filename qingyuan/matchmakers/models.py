"""Tables of the matchmakers' work: members in their care, consultation slots and notes,
introductions.

The tables keep the names they had in `matching` and `events` (`matching_assignment`,
`events_consultation_slot`, …): the rows of existing databases stay where they are (see
migrations/0001_from_matching_and_events.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from qingyuan.connections import Connection
    from qingyuan.platform.models import User


class IntroductionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Introduction(Model):
    """A matchmaker's proposal of a pair, with a note. Both accepting opens a connection."""

    id = fields.IntField(primary_key=True)
    matchmaker: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    matchmaker_id: int
    a: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    a_id: int
    b: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    b_id: int
    note = fields.TextField()
    a_accepted = fields.BooleanField(null=True)
    b_accepted = fields.BooleanField(null=True)
    status = fields.CharEnumField(
        IntroductionStatus, max_length=16, default=IntroductionStatus.PENDING
    )
    connection: fields.ForeignKeyNullableRelation[Connection] = fields.ForeignKeyField(
        "connections.Connection", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    connection_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "matching_introduction"


class CareAssignment(Model):
    """A member in a matchmaker's care (set by an admin)."""

    id = fields.IntField(primary_key=True)
    matchmaker: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    matchmaker_id: int
    member: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    member_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_assignment"
        unique_together = (("matchmaker", "member"),)


class ConsultationNote(Model):
    """What a matchmaker wrote after a consultation with an assigned member."""

    id = fields.IntField(primary_key=True)
    matchmaker: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    matchmaker_id: int
    member: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    member_id: int
    text = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_consultation_note"


class ConsultationSlot(Model):
    """A matchmaker's 1:1 consultation slot, booked by at most one member."""

    id = fields.IntField(primary_key=True)
    matchmaker: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    matchmaker_id: int
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    place = fields.CharField(max_length=120)
    booked_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    booked_by_id: int | None
    booked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "events_consultation_slot"
