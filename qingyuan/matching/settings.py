"""Matching's section of the settings: the daily matcher, training, photos.

Light on purpose (no scikit-learn): every web worker validates it at start-up.
"""

from __future__ import annotations

from qingyuan.platform.settings import (
    PlatformSettings,
    RateLimit,
    RateLimitSetting,
    section,
    setting,
)


class MatchingSettings(PlatformSettings):
    matches_per_day: int = setting(1, "K: proposals per member per day", gt=0)
    match_candidates: int = setting(
        30, "candidates kept per member in the daily candidate graph", gt=0
    )
    match_lock_seconds: float = setting(
        30.0,
        "lease of a match run on a province: renewed while it runs, expires this long after "
        "its holder dies",
        gt=0,
    )
    match_partition_delay: float = setting(
        0.0,
        "seconds a run pauses after taking each province (kill a run midway)",
        test_only=True,
        ge=0,
    )
    model_min_decisions: int = setting(
        200,
        "stored decisions (likes and passes, over two days at least) the nightly retraining "
        "and `qingyuan model train` need before they train a model",
        gt=0,
    )
    rate_photo_upload: RateLimitSetting = setting(
        RateLimit(20, 3600), "photo uploads per member per window (each costs a decode)"
    )


def matching_settings(settings: PlatformSettings) -> MatchingSettings:
    return section(settings, MatchingSettings)
