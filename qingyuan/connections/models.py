"""Tables of connections: two members who may chat, their messages, blocks and reports.

Pairs are stored once with `a_id < b_id`, which makes "one connection per pair" a plain unique
constraint. The tables keep the names they had in `matching` (`matching_connection`, …): the
rows of existing databases stay where they are (see migrations/0001_from_matching.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from qingyuan.platform.models import User


class ConnectionSource(StrEnum):
    MATCH = "match"
    INTRODUCTION = "introduction"
    ACTIVITY = "activity"


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
    # The proposal a match came from. Typed as any Model: matching sits above connections, so
    # its models are not imported here (the string reference is enough for Tortoise).
    proposal: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
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


class Message(Model):
    """One chat message. The recipient is stored (a connection has two sides) so that unread
    counts are one indexed count and read state is a timestamp on the message itself."""

    id = fields.BigIntField(primary_key=True)
    connection: fields.ForeignKeyRelation[Connection] = fields.ForeignKeyField(
        "connections.Connection", related_name=False, on_delete=fields.CASCADE
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
        "connections.Connection", related_name=False, null=True, on_delete=fields.SET_NULL
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
