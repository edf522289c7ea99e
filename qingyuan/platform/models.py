"""Tables of the platform kernel: accounts and the audit log."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    MEMBER = "member"
    MATCHMAKER = "matchmaker"
    ADMIN = "admin"


class User(Model):
    """An account. The phone number is personal data: stored encrypted, found by blind index."""

    id = fields.IntField(primary_key=True)
    role = fields.CharEnumField(Role, max_length=16, default=Role.MEMBER)
    phone_encrypted = fields.CharField(max_length=255)
    phone_index = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64, default="")
    password_hash = fields.CharField(max_length=255)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "platform_user"


class AuditEntry(Model):
    """Who did what to whom, why, and when. Append-only, and every staff action writes one."""

    id = fields.BigIntField(primary_key=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    action = fields.CharField(max_length=64, db_index=True)
    target_type = fields.CharField(max_length=32, default="")
    target_id = fields.CharField(max_length=64, default="")
    reason = fields.TextField(default="")
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "platform_audit_entry"
        ordering = ("-id",)


class Notification(Model):
    """Something a member should see next time (a new match, a connection). Codes and ids only:
    the text is rendered in the reader's language when shown."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    kind = fields.CharField(max_length=32)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "platform_notification"
        ordering = ("-id",)
