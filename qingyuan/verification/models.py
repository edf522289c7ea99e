"""Tables of verification: members, their consents, and one check per department.

Real names and ID numbers are encrypted (AES-GCM, see platform.crypto); the ID number's blind
index makes it unique. Birth date and gender are derived from the number and kept in the clear
because matching filters on them; the number itself never leaves its ciphertext except for an
audited staff unmasking or a department request.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class CheckStatus(StrEnum):
    CONFIRMED = "confirmed"  # a believed attestation that passes the gate
    NEGATIVE = "negative"  # a believed attestation that fails the gate
    PENDING = "pending"  # not asked yet, or due to be asked again
    ERROR = "error"  # no usable answer (outage, forged token): asked again later


class AppealStatus(StrEnum):
    NONE = "none"
    OPEN = "open"
    APPROVED = "approved"
    UPHELD = "upheld"


class Member(Model):
    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("platform.User", related_name="member", on_delete=fields.CASCADE)
    real_name_encrypted = fields.CharField(max_length=255)
    id_number_encrypted = fields.CharField(max_length=255)
    id_number_index = fields.CharField(max_length=64, unique=True)
    birth_date = fields.DateField()
    gender = fields.CharField(max_length=8)
    status = fields.CharEnumField(
        VerificationStatus, max_length=16, default=VerificationStatus.PENDING
    )
    reasons = fields.JSONField(default=list)
    degree = fields.CharField(max_length=16, null=True)
    employment = fields.CharField(max_length=16, null=True)
    hukou_region = fields.CharField(max_length=6, null=True)
    verified_at = fields.DatetimeField(null=True)
    recheck_due_at = fields.DatetimeField(null=True, db_index=True)
    appeal_status = fields.CharEnumField(AppealStatus, max_length=16, default=AppealStatus.NONE)
    appeal_text = fields.TextField(default="")
    # The reasons an approved appeal decided: it overrides these, never a reason found later.
    appeal_covers = fields.JSONField(default=list)
    appeal_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "verification_member"


class Consent(Model):
    """A separate consent (PIPL art. 29), recorded with the policy version it was given for."""

    id = fields.IntField(primary_key=True)
    member = fields.ForeignKeyField(
        "verification.Member", related_name="consents", on_delete=fields.CASCADE
    )
    purpose = fields.CharField(max_length=48)
    policy_version = fields.CharField(max_length=32)
    granted_at = fields.DatetimeField(auto_now_add=True)
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verification_consent"


class DepartmentCheck(Model):
    """The latest answer of one department about one member (claims: enums and booleans)."""

    id = fields.IntField(primary_key=True)
    member = fields.ForeignKeyField(
        "verification.Member", related_name="checks", on_delete=fields.CASCADE
    )
    department = fields.CharField(max_length=32)
    status = fields.CharEnumField(CheckStatus, max_length=16, default=CheckStatus.PENDING)
    reason = fields.CharField(max_length=32, default="")
    claims = fields.JSONField(default=dict)
    attestation = fields.TextField(default="")
    attempts = fields.IntField(default=0)
    checked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verification_department_check"
        unique_together = (("member", "department"),)
