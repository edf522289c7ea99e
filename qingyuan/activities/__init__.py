"""Offline activities: quotas, registrations and the waitlist, check-in, attendance, feedback,
volunteers, consultations, exports and calendars (DESIGN §7)."""
