"""Attendee list as CSV for the organisers: masked personal data, audit-logged.

Names and phone numbers appear masked (`张*`, `138****5678`) as on every staff screen; the
export itself is an audit entry with the admin's reason. Cells that a spreadsheet would read
as a formula are prefixed with an apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import io

from qingyuan.activities.models import ACTIVE_STATUSES, Registration
from qingyuan.platform import audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.models import User
from qingyuan.verification.review import member_of, personal_data

COLUMNS = ("ticket", "name", "phone", "gender", "status", "attendance", "checked_in_at")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def attendee_csv(cipher: PIICipher, admin: User, activity_id: int, reason: str) -> str:
    """The CSV; `reason` (not blank: the route's `Export` model) goes into the audit row."""
    registrations = (
        await Registration.filter(activity_id=activity_id, status__in=ACTIVE_STATUSES)
        .order_by("status", "waitlist_seq", "id")
        .prefetch_related("user")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in registrations:
        member = await member_of(r.user)
        masked = personal_data(cipher, member, r.user, masked=True) if member else None
        writer.writerow(
            _cell(v)
            for v in (
                r.code[:4] + "****",
                masked.real_name if masked else "",
                masked.phone if masked else "",
                r.gender,
                r.status.value,
                r.attendance.value if r.attendance else "",
                r.checked_in_at.isoformat() if r.checked_in_at else "",
            )
        )
    await audit.record(
        admin,
        AuditAction.ACTIVITY_ATTENDEES_EXPORTED,
        target_type="activity",
        target_id=activity_id,
        reason=reason.strip()[:200],
        rows=len(registrations),
    )
    return out.getvalue()
