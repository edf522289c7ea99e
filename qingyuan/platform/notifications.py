"""Notifications: written in the same transaction as what they announce. No page shows them
yet; the kind and ids are stored so the text can be rendered in the reader's language."""

from __future__ import annotations

from typing import Any

from qingyuan.platform.models import Notification


async def notify(user_id: int, kind: str, **data: Any) -> Notification:
    return await Notification.create(user_id=user_id, kind=kind, data=data)


async def notify_many(user_ids: list[int], kind: str, **data: Any) -> None:
    """The same notice to many members in bulk inserts (the daily run notifies everyone)."""
    await Notification.bulk_create(
        [Notification(user_id=user_id, kind=kind, data=data) for user_id in user_ids],
        batch_size=2000,
    )
