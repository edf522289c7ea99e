"""Connections' section of the settings: chat message limits, reports, scam patterns."""

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


class ConnectionSettings(PlatformSettings):
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
        shown="zh + en defaults in `connections/safety.py`",
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


def connection_settings(settings: PlatformSettings) -> ConnectionSettings:
    return section(settings, ConnectionSettings)
