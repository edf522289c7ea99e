"""Notifications: written in the same transaction as what they announce, read by the member."""

from __future__ import annotations

from typing import Any

from tortoise.timezone import now

from qingyuan.platform.models import Notification


async def notify(user_id: int, kind: str, **data: Any) -> Notification:
    return await Notification.create(user_id=user_id, kind=kind, data=data)


async def unread(user_id: int) -> list[Notification]:
    return await Notification.filter(user_id=user_id, read_at__isnull=True)


async def mark_read(user_id: int) -> int:
    return await Notification.filter(user_id=user_id, read_at__isnull=True).update(read_at=now())
