"""Activities' section of the settings: check-in, the waitlist, no-show pauses."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

from qingyuan.platform.settings import (
    PlatformSettings,
    RateLimit,
    RateLimitSetting,
    section,
    setting,
)


class EventSettings(PlatformSettings):
    checkin_key: SecretStr | None = setting(
        None,
        "HMAC key that signs the tickets' QR codes (rotate it and old QR codes stop working; "
        "typed codes go on)",
        shown="derived from the secret key in development",
    )
    rate_checkin_code: RateLimitSetting = setting(
        RateLimit(20, 900),
        "wrong typed check-in codes one staff member may enter per window (QR scans are not "
        "limited)",
    )
    checkin_opens_minutes: int = setting(
        30,
        "check-in opens this long before an activity starts (it closes at the end)",
        ge=0,
    )
    waitlist_offer_hours: float = setting(
        12.0, "how long a freed seat is held for the next waitlisted member", gt=0
    )
    no_show_limit: int = setting(
        2,
        "this many no-shows within the lookback pause sign-ups for the pause after the last one",
        gt=0,
    )
    no_show_lookback_days: int = setting(90, "the lookback of `QINGYUAN_NO_SHOW_LIMIT`", gt=0)
    no_show_pause_days: int = setting(30, "the pause of `QINGYUAN_NO_SHOW_LIMIT`", ge=0)

    @property
    def checkin_signing_key(self) -> bytes:
        """The QR signing key: its own secret in production, derived from the secret key in
        development so that zero configuration works."""
        if self.checkin_key:
            return self.checkin_key.get_secret_value().encode()
        return hmac.new(
            self.secret_key.get_secret_value(), b"events-checkin", hashlib.sha256
        ).digest()


def event_settings(settings: PlatformSettings) -> EventSettings:
    return section(settings, EventSettings)
