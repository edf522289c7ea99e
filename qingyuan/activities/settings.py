"""Settings of activities, read from `Settings.extra` like every part's own settings."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from qingyuan.platform.settings import RateLimit, Settings


@dataclass(frozen=True)
class EventSettings:
    checkin_key: bytes
    offer_hours: float
    no_show_limit: int
    no_show_lookback_days: int
    no_show_pause_days: int
    checkin_opens_minutes: int
    code_attempts: RateLimit  # wrong typed check-in codes per staff member per window


def event_settings(settings: Settings) -> EventSettings:
    env = settings.extra
    key = env.get("QINGYUAN_CHECKIN_KEY")
    return EventSettings(
        # The QR signing key: its own secret in production, derived from the secret key in
        # development so that zero configuration works.
        checkin_key=key.encode()
        if key
        else hmac.new(settings.secret_key, b"events-checkin", hashlib.sha256).digest(),
        offer_hours=float(env.get("QINGYUAN_WAITLIST_OFFER_HOURS", "12")),
        no_show_limit=int(env.get("QINGYUAN_NO_SHOW_LIMIT", "2")),
        no_show_lookback_days=int(env.get("QINGYUAN_NO_SHOW_LOOKBACK_DAYS", "90")),
        no_show_pause_days=int(env.get("QINGYUAN_NO_SHOW_PAUSE_DAYS", "30")),
        checkin_opens_minutes=int(env.get("QINGYUAN_CHECKIN_OPENS_MINUTES", "30")),
        code_attempts=RateLimit.parse(env.get("QINGYUAN_RATE_CHECKIN_CODE", "20/900")),
    )
