"""Times that people type: ISO 8601, where a time without an offset is the platform's local time.

Admins and matchmakers type times as they read them on a clock in Shanghai (the form's
`datetime-local` sends `2026-05-01T14:00`); API clients may add an offset. A request model
with such fields derives from `Zoned`: `configured(settings)` gives it the platform's time
zone (`QINGYUAN_TIMEZONE`), and every naive time it validates becomes an aware one there.

`LocalTime` is documented by a pattern, not by `format: date-time` (which requires an
offset): the pattern is exactly what the validator takes, calendar included (no 31 April,
29 February in leap years only), so the document and the validator agree.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, ClassVar, Self, TypeVar
from zoneinfo import ZoneInfo

from pydantic import PlainValidator, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from qingyuan.platform.validation import Schema

if TYPE_CHECKING:
    from qingyuan.platform.settings import PlatformSettings

_YEAR = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)"
    "|(?:0[13578]|1[02])-31)"
)
_CLOCK = "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]{1,6})?)?"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
LOCAL_TIME = f"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)[T ]{_CLOCK}{_OFFSET}$"
"""`YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|±HH:MM]` with real calendar dates."""

_PATTERN = re.compile(LOCAL_TIME.removesuffix("$"))


def _parse(value: object) -> datetime:
    if isinstance(value, datetime):  # a model built in Python (seeding, jobs)
        return value
    if not isinstance(value, str) or _PATTERN.fullmatch(value) is None:
        raise PydanticCustomError("datetime_parsing", "Input should be a valid datetime")
    return datetime.fromisoformat(value)


LocalTime = Annotated[
    datetime,
    PlainValidator(_parse),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME,
            "description": "ISO 8601; without an offset, the platform's time zone",
            "example": "2026-05-01T14:00",
        },
        mode="validation",
    ),
]


class Zoned(Schema):
    """A request model whose naive `LocalTime`s are in the configured time zone."""

    zone: ClassVar[ZoneInfo] = ZoneInfo("Asia/Shanghai")

    @classmethod
    def configured(cls, settings: PlatformSettings) -> type[Self]:
        return _in_zone(cls, settings.timezone)

    @field_validator("*", mode="after")
    @classmethod
    def _localise(cls, value: object) -> object:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=cls.zone)
        return value


Model = TypeVar("Model", bound=Zoned)


@cache
def _in_zone(model: type[Model], timezone: str) -> type[Model]:
    """`model` with its naive times in `timezone` (one class per model and zone)."""
    namespace = {"zone": ZoneInfo(timezone), "__module__": model.__module__}
    return type(model.__name__, (model,), namespace)
