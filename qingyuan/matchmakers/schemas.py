"""Request and response models of matchmakers: care assignments, consultation notes,
introductions and consultation slots (`qingyuan.platform.validation` says how models
validate and document)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from qingyuan.matching.schemas import Card
from qingyuan.matchmakers.models import IntroductionStatus
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.local_time import LocalTime, Zoned
from qingyuan.platform.validation import (
    NOT_BLANK,
    FieldProblem,
    Id,
    Schema,
    Text,
    Timestamp,
    Trimmed,
)

NOTE_MAX = 1000


NoteText = Annotated[Text, Field(min_length=1, max_length=NOTE_MAX), Trimmed]
_NOTE_MESSAGE = gettext_lazy("Write a note of 1 to %(n)d characters.", n=NOTE_MAX)


class Introduce(Schema):
    """Introduce two members in the matchmaker's care, with a note for both."""

    beyond_schema: ClassVar = frozenset({"b_id", "note"})  # two different members; not blank
    field_messages: ClassVar = {"note": _NOTE_MESSAGE}
    a_id: Id
    b_id: Id
    note: NoteText

    @model_validator(mode="after")
    def _two_members(self) -> Self:
        if self.a_id == self.b_id:
            raise FieldProblem("b_id", _("Choose two different members."))
        return self


class Answer(Schema):
    """A member's answer to an introduction (the page's buttons send yes or no)."""

    field_messages: ClassVar = {"accept": gettext_lazy("Answer yes or no.")}
    accept: bool


class AddNote(Schema):
    beyond_schema: ClassVar = frozenset({"text"})  # not blank
    field_messages: ClassVar = {"text": _NOTE_MESSAGE}
    text: NoteText


class Assign(Schema):
    """Put a member in a matchmaker's care (admins)."""

    matchmaker_id: Id
    member_id: Id


class Assignment(Schema):
    matchmaker_id: int
    member_id: int


class IntroductionOut(Schema):
    """An introduction as either side sees it: a member sees their own answer and whom they
    were introduced to, not the other side's answer until it is decided."""

    id: int
    status: IntroductionStatus
    note: str
    member_ids: list[int]
    other_id: int
    my_answer: bool | None
    connection_id: int | None
    created_at: Timestamp


class MemberIntroduction(IntroductionOut):
    """A member's introduction, with the card of the member they were introduced to."""

    member: Card


class Introductions(Schema):
    introductions: list[MemberIntroduction | IntroductionOut] = Field(
        description="With the other member's card for members; without for matchmakers"
    )


class AssignedMember(Schema):
    id: int
    nickname: str
    real_name: str = Field(description="Masked, e.g. 张*")
    phone: str = Field(description="Masked, e.g. 138****5678")
    age: int | None
    city: str | None
    verified: bool


class AssignedMembers(Schema):
    members: list[AssignedMember]


class NoteOut(Schema):
    id: int
    text: str
    created_at: Timestamp


class Notes(Schema):
    notes: list[NoteOut]


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
