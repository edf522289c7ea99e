"""Request and response models of the matchmakers' consultation slots (routed with activities)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.local_time import LocalTime, Zoned
from qingyuan.platform.validation import NOT_BLANK, Schema, Timestamp


class OfferSlot(Zoned):
    """A 1:1 consultation slot a matchmaker offers."""

    beyond_schema: ClassVar = frozenset({"starts_at", "ends_at"})  # in the future, in order
    field_messages: ClassVar = {"place": gettext_lazy("Give the place (up to 120 characters).")}
    starts_at: LocalTime
    ends_at: LocalTime
    place: Annotated[str, Field(min_length=1, max_length=120, pattern=NOT_BLANK)]


class Slot(Schema):
    id: int
    starts_at: Timestamp
    ends_at: Timestamp
    place: str


class Slots(Schema):
    slots: list[Slot]
