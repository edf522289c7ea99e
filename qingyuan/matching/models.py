"""Tables of matching: profiles, questionnaire answers, proposals, connections, blocks, runs.

Verified facts (age, gender, degree, employment, region) are not stored here: they belong to
verification and are read through its public functions, so a member can never edit them.
Pairs are stored once with `a_id < b_id`, which makes "one proposal per pair and day" and
"one connection per pair" plain unique constraints.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Decision(StrEnum):
    LIKE = "like"
    PASS = "pass"  # noqa: S105 (a decision, not a password)


class ConnectionSource(StrEnum):
    MATCH = "match"
    INTRODUCTION = "introduction"
    ACTIVITY = "activity"


class Profile(Model):
    """What a member says about themselves and what they look for."""

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("platform.User", related_name="profile", on_delete=fields.CASCADE)
    nickname = fields.CharField(max_length=24)
    city = fields.IntField(help_text="4-digit GB/T 2260 city code, e.g. 3301 杭州")
    height_cm = fields.SmallIntField(null=True)
    bio = fields.TextField(default="")
    interests = fields.JSONField(default=list)
    photo = fields.CharField(max_length=64, null=True)
    seek_gender = fields.CharField(max_length=8)
    age_min = fields.SmallIntField(default=20)
    age_max = fields.SmallIntField(default=45)
    cities = fields.JSONField(default=list)
    min_degree = fields.SmallIntField(default=0)
    opted_in = fields.BooleanField(default=True)
    personalised = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "matching_profile"


class Answer(Model):
    """One questionnaire answer: own answer, acceptable answers (bitmask), importance 0–4."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("platform.User", related_name=False, on_delete=fields.CASCADE)
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
    a = fields.ForeignKeyField("platform.User", related_name=False, on_delete=fields.CASCADE)
    b = fields.ForeignKeyField("platform.User", related_name=False, on_delete=fields.CASCADE)
    score = fields.FloatField()
    reasons = fields.JSONField(default=list)
    expires_at = fields.DatetimeField()
    a_decision = fields.CharEnumField(Decision, max_length=8, null=True)
    b_decision = fields.CharEnumField(Decision, max_length=8, null=True)
    a_decided_at = fields.DatetimeField(null=True)
    b_decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_proposal"
        unique_together = (("day", "a", "b"),)


class Connection(Model):
    """Two members who may chat: a mutual like, an introduction or a "meet again" pick."""

    id = fields.IntField(primary_key=True)
    a = fields.ForeignKeyField("platform.User", related_name=False, on_delete=fields.CASCADE)
    b = fields.ForeignKeyField("platform.User", related_name=False, on_delete=fields.CASCADE)
    source = fields.CharEnumField(ConnectionSource, max_length=16)
    proposal = fields.ForeignKeyField(
        "matching.Proposal", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "matching_connection"
        unique_together = (("a", "b"),)


class Block(Model):
    id = fields.IntField(primary_key=True)
    blocker = fields.ForeignKeyField("platform.User", related_name=False, on_delete=fields.CASCADE)
    blocked = fields.ForeignKeyField("platform.User", related_name=False, on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_block"
        unique_together = (("blocker", "blocked"),)


class MatchRun(Model):
    """One daily run of one partition: the lock of record and its figures."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField()
    partition = fields.CharField(max_length=16)
    finished_at = fields.DatetimeField(null=True)
    stats = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "matching_run"
        unique_together = (("day", "partition"),)
