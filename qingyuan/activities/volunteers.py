"""Volunteers (matchmakers) on an activity: roles and shifts, assignments, staffing gaps."""

from __future__ import annotations

from typing import Any

from qingyuan.activities.models import Activity, Shift, ShiftAssignment
from qingyuan.activities.schemas import AddShift
from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.errors import NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import Role, User


async def add_shift(admin: User, activity_id: int, data: AddShift) -> Shift:
    activity = await Activity.get_or_none(id=activity_id)
    if activity is None:
        raise NotFound()
    if data.ends_at <= data.starts_at:
        raise ValidationFailed(fields={"ends_at": _("The end must be after the start.")})
    async with actions.transaction():
        shift = await Shift.create(
            activity=activity,
            role=data.role.strip(),
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            needed=data.needed,
        )
        await audit.record(
            admin, AuditAction.ACTIVITY_SHIFT_ADDED, target_type="shift", target_id=shift.id
        )
    return shift


async def assign(admin: User, shift_id: int, volunteer_id: int) -> None:
    """Put a matchmaker on a shift (again: harmless)."""
    shift = await Shift.get_or_none(id=shift_id)
    volunteer = await User.get_or_none(id=volunteer_id, role=Role.MATCHMAKER, is_active=True)
    if shift is None:
        raise NotFound()
    if volunteer is None:
        raise ValidationFailed(fields={"volunteer_id": _("Choose an active volunteer matchmaker.")})
    async with actions.transaction():
        created = (await ShiftAssignment.get_or_create(shift=shift, volunteer=volunteer))[1]
        if created:
            await audit.record(
                admin,
                AuditAction.ACTIVITY_VOLUNTEER_ASSIGNED,
                target_type="shift",
                target_id=shift_id,
                volunteer_id=volunteer_id,
            )


async def unassign(admin: User, shift_id: int, volunteer_id: int) -> None:
    async with actions.transaction():
        assigned = ShiftAssignment.filter(shift_id=shift_id, volunteer_id=volunteer_id)
        if await assigned.delete():
            await audit.record(
                admin,
                AuditAction.ACTIVITY_VOLUNTEER_UNASSIGNED,
                target_type="shift",
                target_id=shift_id,
                volunteer_id=volunteer_id,
            )


async def staffing(activity_id: int) -> list[dict[str, Any]]:
    """Every shift with who is on it and how many are still missing (the gap)."""
    shifts = await Shift.filter(activity_id=activity_id).order_by("starts_at", "id")
    on_shift: dict[int, list[int]] = {shift.id: [] for shift in shifts}
    rows = await ShiftAssignment.filter(shift_id__in=list(on_shift)).values_list(
        "shift_id", "volunteer_id"
    )
    for shift_id, volunteer_id in rows:
        on_shift[shift_id].append(volunteer_id)
    result = []
    for shift in shifts:
        people = on_shift[shift.id]
        result.append(
            {
                "id": shift.id,
                "role": shift.role,
                "starts_at": shift.starts_at.isoformat(),
                "ends_at": shift.ends_at.isoformat(),
                "needed": shift.needed,
                "volunteer_ids": sorted(people),
                "gap": max(0, shift.needed - len(people)),
            }
        )
    return result
