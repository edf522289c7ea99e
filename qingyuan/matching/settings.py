"""Matching's section of the settings: the daily matcher, training, photos, chat safety.

Light on purpose (no scikit-learn): every web worker validates it at start-up.
"""

from __future__ import annotations

import json
import re
from typing import Annotated

from pydantic import BeforeValidator, field_validator
from pydantic_settings import NoDecode

from qingyuan.platform.settings import (
    PlatformSettings,
    RateLimit,
    RateLimitSetting,
    section,
    setting,
)


def _json(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON ({exc})") from None


ScamPatterns = Annotated[dict[str, list[str]] | None, NoDecode, BeforeValidator(_json)]


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
    rate_chat_established: RateLimitSetting = setting(
        RateLimit(300, 3600), "chat messages per member per window, verified ≥ 14 days"
    )
    rate_chat_new: RateLimitSetting = setting(
        RateLimit(60, 3600), "the same, verified recently or on appeal"
    )
    rate_chat_reported: RateLimitSetting = setting(
        RateLimit(10, 3600), "the same, with an open or upheld report against the member"
    )
    rate_report: RateLimitSetting = setting(
        RateLimit(10, 86400), "reports one member may file per window (then 429)"
    )
    chat_new_member_days: int = setting(
        14, "how long a verification counts as new for the message limit", ge=0
    )
    chat_young_connection_days: int = setting(
        14, "messages in connections younger than this are checked for scam patterns", ge=0
    )
    chat_scam_patterns: ScamPatterns = setting(
        None,
        'JSON `{"category": ["regex", …]}`; replaces the defaults. Matched against the '
        "message folded: NFKC, traditional → simplified (OpenCC), lower case, look-alike "
        "letters as Latin, no separators between Chinese characters or spaced-out letters",
        shown="zh + en defaults in `matching/safety.py`",
    )
    chat_max_length: int = setting(1000, "characters per chat message", gt=0)

    @field_validator("chat_scam_patterns")
    @classmethod
    def _compiles(cls, patterns: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for category, items in (patterns or {}).items():
            for pattern in items:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{category}: {pattern!r} is not a regex ({exc})") from None
        return patterns


def matching_settings(settings: PlatformSettings) -> MatchingSettings:
    return section(settings, MatchingSettings)
