"""Tables of matching: profiles, questionnaire answers, proposals, connections, blocks, runs.

Verified facts (age, gender, degree, employment, region) are not stored here: they belong to
verification and are read through its public functions, so a member can never edit them.
Pairs are stored once with `a_id < b_id`, which makes "one proposal per pair and day" and
"one connection per pair" plain unique constraints.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from qingyuan.platform.models import User


class Decision(StrEnum):
    LIKE = "like"
    PASS = "pass"  # noqa: S105 (a decision, not a password)


class ConnectionSource(StrEnum):
    MATCH = "match"
    INTRODUCTION = "introduction"
    ACTIVITY = "activity"


class Profile(Model):
    """What a member says about themselves and what they look for."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "platform.User", related_name="profile", on_delete=fields.CASCADE
    )
    user_id: int
    nickname = fields.CharField(max_length=24)
    city = fields.IntField(help_text="4-digit GB/T 2260 city code, e.g. 3301 杭州")
    height_cm = fields.SmallIntField(null=True)
    bio = fields.TextField(default="")
    interests: fields.JSONField[list[str]] = fields.JSONField(default=list)
    photo = fields.CharField(max_length=64, null=True)
    seek_gender = fields.CharField(max_length=8)
    age_min = fields.SmallIntField(default=20)
    age_max = fields.SmallIntField(default=45)
    cities: fields.JSONField[list[int]] = fields.JSONField(default=list)
    min_degree = fields.SmallIntField(default=0)
    opted_in = fields.BooleanField(default=True)
    personalised = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "matching_profile"


class Answer(Model):
    """One questionnaire answer: own answer, acceptable answers (bitmask), importance 0–4."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    question = fields.CharField(max_length=32)
    answer = fields.SmallIntField()
    acceptable = fields.SmallIntField()
    importance = fields.SmallIntField()

    class Meta:
        table = "matching_answer"
        unique_together = (("user", "question"),)


class Proposal(Model):
    """A pair proposed to both sides on one day, with both decisions as they come."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField(db_index=True)
    a: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    a_id: int
    b: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    b_id: int
    score = fields.FloatField()
    reasons: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    expires_at = fields.DatetimeField()
    a_decision = fields.CharEnumField(Decision, max_length=8, null=True)
    b_decision = fields.CharEnumField(Decision, max_length=8, null=True)
    a_decided_at = fields.DatetimeField(null=True)
    b_decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_proposal"
        unique_together = (("day", "a", "b"),)


class Connection(Model):
    """Two members who may chat: a mutual like, an introduction or a "meet again" pick."""

    id = fields.IntField(primary_key=True)
    a: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    a_id: int
    b: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    b_id: int
    source = fields.CharEnumField(ConnectionSource, max_length=16)
    proposal: fields.ForeignKeyNullableRelation[Proposal] = fields.ForeignKeyField(
        "matching.Proposal", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    proposal_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "matching_connection"
        unique_together = (("a", "b"),)


class Block(Model):
    id = fields.IntField(primary_key=True)
    blocker: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    blocker_id: int
    blocked: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    blocked_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_block"
        unique_together = (("blocker", "blocked"),)


class MatchRun(Model):
    """One daily run of one partition: the lock of record and its figures."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField()
    partition = fields.CharField(max_length=16)
    finished_at = fields.DatetimeField(null=True)
    stats: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_run"
        unique_together = (("day", "partition"),)


class Message(Model):
    """One chat message. The recipient is stored (a connection has two sides) so that unread
    counts are one indexed count and read state is a timestamp on the message itself."""

    id = fields.BigIntField(primary_key=True)
    connection: fields.ForeignKeyRelation[Connection] = fields.ForeignKeyField(
        "matching.Connection", related_name=False, on_delete=fields.CASCADE
    )
    connection_id: int
    sender: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    sender_id: int
    recipient: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    recipient_id: int
    text = fields.TextField()
    risk = fields.CharField(max_length=16, null=True, help_text="scam pattern category, if any")
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "matching_message"
        indexes = (("connection_id", "id"), ("recipient_id", "read_at"))


class ReportReason(StrEnum):
    SCAM = "scam"
    HARASSMENT = "harassment"
    FAKE_PROFILE = "fake_profile"
    INAPPROPRIATE = "inappropriate"
    OTHER = "other"


class ReportStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    WARNED = "warned"
    SUSPENDED = "suspended"


class Report(Model):
    """A member's report about another, waiting in the admins' moderation queue."""

    id = fields.IntField(primary_key=True)
    reporter: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    reporter_id: int
    reported: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    reported_id: int
    connection: fields.ForeignKeyNullableRelation[Connection] = fields.ForeignKeyField(
        "matching.Connection", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    connection_id: int | None
    reason = fields.CharEnumField(ReportReason, max_length=16)
    details = fields.TextField(default="")
    status = fields.CharEnumField(ReportStatus, max_length=16, default=ReportStatus.OPEN)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_report"
        indexes = (("status", "id"), ("reported_id", "status"))


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
        "matching.Connection", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    connection_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "matching_introduction"


class Assignment(Model):
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
