"""Notifications: written in the same transaction as what they announce.

Only the kind and ids are stored, so the text is rendered in the reader's language when
shown (the web layer knows each kind's wording and page).
"""

from __future__ import annotations

from typing import Any

from tortoise.timezone import now

from qingyuan.platform import statements
from qingyuan.platform.models import Notification


async def notify(user_id: int, kind: str, **data: Any) -> Notification:
    return await Notification.create(user_id=user_id, kind=kind, data=data)


async def notify_many(user_ids: list[int], kind: str, **data: Any) -> None:
    """The same notice to many members in bulk inserts (the daily run notifies everyone)."""
    await Notification.bulk_create(
        [Notification(user_id=user_id, kind=kind, data=data) for user_id in user_ids],
        batch_size=2000,
    )


_UNREAD = 'SELECT COUNT(*) AS n FROM "platform_notification" WHERE user_id = ? AND read_at IS NULL'


async def unread_count(user_id: int) -> int:
    """On every page (the navigation), so a precompiled statement (platform/statements.py)."""
    return await statements.count(Notification, _UNREAD, [user_id])


async def latest(user_id: int, limit: int = 20, before: int | None = None) -> list[Notification]:
    """Newest first; `before` (an id) pages back through older ones."""
    query = Notification.filter(user_id=user_id)
    if before is not None:
        query = query.filter(id__lt=before)
    return await query.order_by("-id").limit(limit)


async def mark_read(user_id: int, up_to: int | None = None) -> int:
    """Mark the member's notices read (all, or those up to the id they saw); unread left."""
    query = Notification.filter(user_id=user_id, read_at__isnull=True)
    if up_to is not None:
        query = query.filter(id__lte=up_to)
    await query.update(read_at=now())
    return await unread_count(user_id)
