"""The audit log: one helper that every staff action and every unmasking goes through.

Actions (`qingyuan/platform/actions.py`) call it inside their transaction, so the row is
written exactly when the change it describes is.
"""

from __future__ import annotations

from typing import Any

from qingyuan.platform.actions import AuditAction
from qingyuan.platform.models import AuditEntry, User


async def record(
    actor: User | None,
    action: AuditAction,
    *,
    target_type: str = "",
    target_id: object = "",
    reason: str = "",
    **data: Any,
) -> AuditEntry:
    """Write one entry. `data` must hold no personal information: ids and codes only."""
    return await AuditEntry.create(
        actor=actor,
        action=action.value,
        target_type=target_type,
        target_id=str(target_id),
        reason=reason,
        data=data,
    )
