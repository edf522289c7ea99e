"""Request and response models of matching: profile, questionnaire, today's match, decisions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field

from qingyuan.matching.models import Decision
from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.validation import Schema, Timestamp


class DecisionIn(Schema):
    field_messages: ClassVar = {"decision": gettext_lazy("Choose like or pass.")}

    decision: Annotated[Decision, Field(strict=False)]  # an enum from its value, as JSON has it


class Decided(Schema):
    connection_id: int | None


class Badges(Schema):
    verified: bool
    degree: str | None
    employment: str | None


class Interest(Schema):
    key: str
    label: str = Field(description="In the reader's language")
    shared: bool = Field(description="The viewer has this interest too")


class Card(Schema):
    """What a member sees of another: never a real name, phone or ID number."""

    id: int
    nickname: str
    age: int | None
    gender: str | None
    city: str | None
    height_cm: int | None
    bio: str
    badges: Badges
    interests: list[Interest]
    photo_url: str | None


class Reason(Schema):
    code: str
    text: str


class ProposalOut(Schema):
    id: int
    date: date
    member: Card
    reasons: list[Reason]
    expires_at: Timestamp
    my_decision: Decision | None


class Today(Schema):
    date: date
    proposals: list[ProposalOut]


class ConnectionOut(Schema):
    id: int
    source: str
    member: Card
    created_at: Timestamp


class Connections(Schema):
    connections: list[ConnectionOut]
