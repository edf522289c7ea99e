"""Request and response models of matching: profile, questionnaire, today's match, decisions."""

from __future__ import annotations

from pydantic import Field

from qingyuan.platform.validation import Schema


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
