"""Tables of matching: profiles, questionnaire answers, proposals and runs.

Verified facts (age, gender, degree, employment, region) are not stored here: they belong to
verification and are read through its public functions, so a member can never edit them.
Pairs are stored once with `a_id < b_id`, which makes "one proposal per pair and day" a plain
unique constraint. Connections, blocks and reports are in `qingyuan.connections`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from qingyuan.platform.models import User


class Decision(StrEnum):
    LIKE = "like"
    PASS = "pass"  # noqa: S105 (a decision, not a password)


class Profile(Model):
    """What a member says about themselves and what they look for."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "platform.User", related_name="profile", on_delete=fields.CASCADE
    )
    user_id: int
    nickname = fields.CharField(max_length=24)
    city = fields.IntField(help_text="4-digit GB/T 2260 city code, e.g. 3301 杭州")
    height_cm = fields.SmallIntField(null=True)
    bio = fields.TextField(default="")
    interests: fields.JSONField[list[str]] = fields.JSONField(default=list)
    photo = fields.CharField(max_length=64, null=True)
    seek_gender = fields.CharField(max_length=8)
    age_min = fields.SmallIntField(default=20)
    age_max = fields.SmallIntField(default=45)
    cities: fields.JSONField[list[int]] = fields.JSONField(default=list)
    min_degree = fields.SmallIntField(default=0)
    opted_in = fields.BooleanField(default=True)
    personalised = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "matching_profile"


class Answer(Model):
    """One questionnaire answer: own answer, acceptable answers (bitmask), importance 0–4."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    question = fields.CharField(max_length=32)
    answer = fields.SmallIntField()
    acceptable = fields.SmallIntField()
    importance = fields.SmallIntField()

    class Meta:
        table = "matching_answer"
        unique_together = (("user", "question"),)


class Proposal(Model):
    """A pair proposed to both sides on one day, with both decisions as they come."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField(db_index=True)
    a: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    a_id: int
    b: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=False, on_delete=fields.CASCADE
    )
    b_id: int
    score = fields.FloatField()
    reasons: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    expires_at = fields.DatetimeField()
    a_decision = fields.CharEnumField(Decision, max_length=8, null=True)
    b_decision = fields.CharEnumField(Decision, max_length=8, null=True)
    a_decided_at = fields.DatetimeField(null=True)
    b_decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_proposal"
        unique_together = (("day", "a", "b"),)


class MatchRun(Model):
    """One daily run of one partition: the lock of record and its figures."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField()
    partition = fields.CharField(max_length=16)
    finished_at = fields.DatetimeField(null=True)
    stats: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_run"
        unique_together = (("day", "partition"),)
