"""Activities' section: the check-in key, the waitlist and no-show rules."""

from __future__ import annotations

import pytest

from qingyuan.activities.settings import event_settings
from qingyuan.platform.settings import RateLimit, SettingsError
from qingyuan.settings import load_settings


def _settings(tmp_path, **variables: str):
    return event_settings(
        load_settings({"QINGYUAN_DATA_DIR": str(tmp_path), **variables}, env_file=None)
    )


def test_defaults_are_today_s(tmp_path):
    config = _settings(tmp_path)
    assert (config.waitlist_offer_hours, config.checkin_opens_minutes) == (12, 30)
    assert (config.no_show_limit, config.no_show_lookback_days, config.no_show_pause_days) == (
        2,
        90,
        30,
    )
    assert config.rate_checkin_code == RateLimit(20, 900)


def test_the_checkin_key_is_derived_in_development_and_given_in_production(tmp_path):
    derived = _settings(tmp_path, QINGYUAN_SECRET_KEY="a" * 48)
    assert (
        derived.checkin_signing_key
        != _settings(tmp_path, QINGYUAN_SECRET_KEY="b" * 48).checkin_signing_key
    )
    given = _settings(tmp_path, QINGYUAN_CHECKIN_KEY="qr-s3cret")
    assert given.checkin_signing_key == b"qr-s3cret" and "qr-s3cret" not in repr(given)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QINGYUAN_WAITLIST_OFFER_HOURS", "twelve"),
        ("QINGYUAN_NO_SHOW_LIMIT", "0"),
        ("QINGYUAN_CHECKIN_OPENS_MINUTES", "-5"),
        ("QINGYUAN_RATE_CHECKIN_CODE", "/900"),
    ],
)
def test_a_malformed_value_is_refused_naming_it(tmp_path, name, value):
    with pytest.raises(SettingsError, match=f"^{name}: .*'{value}'"):
        _settings(tmp_path, **{name: value})
