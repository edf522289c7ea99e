"""Offline activities: quotas, registrations and the waitlist, check-in, attendance, feedback
and "meet again" picks, volunteers, exports and calendars (docs/brief.md §7). Other parts use the
modules' functions and the types below, never the tables.

The Tortoise app label stays `events`, the name this part had: existing databases record
their applied migrations under it (see `qingyuan.parts`)."""

from qingyuan.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    Registration,
    RegistrationStatus,
    Shift,
)

__all__ = [
    "Activity",
    "ActivityKind",
    "ActivityStatus",
    "Attendance",
    "Registration",
    "RegistrationStatus",
    "Shift",
]
