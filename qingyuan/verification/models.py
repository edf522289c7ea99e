"""Tables of verification: members, their consents, and one check per department.

Real names and ID numbers are encrypted (AES-GCM, see platform.crypto); the ID number's blind
index makes it unique. Birth date and gender are derived from the number and kept in the clear
because matching filters on them; the number itself never leaves its ciphertext except for an
audited staff unmasking or a department request. Of the household registration only the
province is kept: with the full region code, the birth date would give away 14 of the 18 digits.

What the departments said (claims, the signed token, the reasons a member was rejected) and
what a member wrote in an appeal are sealed too, each bound to its row and column by the
cipher's associated data (`sealed_purpose`), so a value copied into another row does not
decrypt. In the clear stay the outcomes the queries need: verified / rejected / pending, and
per department answered or not — not whether that answer passed, which would name the verdict.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.models import User
from qingyuan.verification.protocol import gate_failure


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class CheckStatus(StrEnum):
    """Whether a department has answered; whether the answer passed is in its sealed claims."""

    ANSWERED = "answered"  # a believed attestation, sealed (see DepartmentCheck.gate_failure)
    PENDING = "pending"  # not asked yet, or due to be asked again
    ERROR = "error"  # no usable answer (outage, forged token): asked again later


class AppealStatus(StrEnum):
    NONE = "none"
    OPEN = "open"
    APPROVED = "approved"
    UPHELD = "upheld"


class Member(Model):
    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "platform.User", related_name="member", on_delete=fields.CASCADE
    )
    user_id: int
    real_name_encrypted = fields.CharField(max_length=255)
    id_number_encrypted = fields.CharField(max_length=255)
    id_number_index = fields.CharField(max_length=64, unique=True)
    birth_date = fields.DateField()
    gender = fields.CharField(max_length=8)
    status = fields.CharEnumField(
        VerificationStatus, max_length=16, default=VerificationStatus.PENDING
    )
    reasons_encrypted = fields.TextField(default="", db_default="")  # sealed JSON list of codes
    degree = fields.CharField(max_length=16, null=True)
    employment = fields.CharField(max_length=16, null=True)
    hukou_region = fields.CharField(max_length=6, null=True)  # the province: 2 digits
    verified_at = fields.DatetimeField(null=True)
    recheck_due_at = fields.DatetimeField(null=True, db_index=True)
    appeal_status = fields.CharEnumField(AppealStatus, max_length=16, default=AppealStatus.NONE)
    appeal_text_encrypted = fields.TextField(default="", db_default="")
    # The reasons an approved appeal decided: it overrides these, never a reason found later.
    appeal_covers_encrypted = fields.TextField(default="", db_default="")  # sealed JSON list
    appeal_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "verification_member"

    def reasons(self, cipher: PIICipher) -> list[str]:
        return _codes(self._unsealed(cipher, "reasons"))

    def appeal_covers(self, cipher: PIICipher) -> list[str]:
        return _codes(self._unsealed(cipher, "appeal_covers"))

    def appeal_text(self, cipher: PIICipher) -> str:
        return self._unsealed(cipher, "appeal_text")

    def seal(self, cipher: PIICipher, **values: list[str] | str) -> list[str]:
        """Set sealed columns (`reasons=[…]`, `appeal_text="…"`); returns their field names."""
        names = []
        for column, value in values.items():
            plain = value if isinstance(value, str) else json.dumps(value)
            name = f"{column}_encrypted"
            purpose = sealed_purpose("member", self.id, column)
            setattr(self, name, cipher.encrypt(plain, purpose=purpose) if value else "")
            names.append(name)
        return names

    def _unsealed(self, cipher: PIICipher, column: str) -> str:
        stored = getattr(self, f"{column}_encrypted")
        purpose = sealed_purpose("member", self.id, column)
        return cipher.decrypt(stored, purpose=purpose) if stored else ""


class Consent(Model):
    """A separate consent (PIPL art. 29), recorded with the policy version it was given for."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "verification.Member", related_name="consents", on_delete=fields.CASCADE
    )
    member_id: int
    purpose = fields.CharField(max_length=48)
    policy_version = fields.CharField(max_length=32)
    granted_at = fields.DatetimeField(auto_now_add=True)
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verification_consent"


class DepartmentCheck(Model):
    """The latest answer of one department about one member (claims: enums and booleans)."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "verification.Member", related_name="checks", on_delete=fields.CASCADE
    )
    member_id: int
    department = fields.CharField(max_length=32)
    status = fields.CharEnumField(CheckStatus, max_length=16, default=CheckStatus.PENDING)
    reason = fields.CharField(max_length=32, default="")  # why there is no usable answer
    # The believed attestation: {"claims": {…}, "token": "…"} sealed; the token is evidence for
    # an appeal (its signature can be checked again), and its payload holds the claims.
    answer_encrypted = fields.TextField(default="", db_default="")
    attempts = fields.IntField(default=0)
    checked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verification_department_check"
        unique_together = (("member", "department"),)

    def gate_failure(self, cipher: PIICipher) -> str | None:
        """The gate an answered check fails (`protocol.gate_failure`), or None."""
        if self.status != CheckStatus.ANSWERED:
            return None
        return gate_failure(self.department, self.claims(cipher))

    def claims(self, cipher: PIICipher) -> dict[str, Any]:
        if not self.answer_encrypted:
            return {}
        answer = json.loads(cipher.decrypt(self.answer_encrypted, purpose=self._purpose()))
        claims: dict[str, Any] = answer["claims"]
        return claims

    def seal_answer(self, cipher: PIICipher, claims: dict[str, Any], token: str) -> None:
        answer = json.dumps({"claims": claims, "token": token})
        self.answer_encrypted = cipher.encrypt(answer, purpose=self._purpose())

    def _purpose(self) -> str:
        return sealed_purpose("check", self.member_id, self.department)


def sealed_purpose(table: str, member_id: int, column: str) -> str:
    """The associated data of a sealed value: what it is and whose (`qingyuan keys rotate`
    re-encrypts with the same purpose). A check is keyed by member and department."""
    return f"verification.{table}:{member_id}:{column}"


def _codes(plain: str) -> list[str]:
    codes: list[str] = json.loads(plain) if plain else []
    return codes
