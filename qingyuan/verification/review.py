"""What members and staff do after the checks: appeal, withdraw consent, review, unmask.

Every staff action here writes the audit log; unmasking requires a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.timezone import now

from qingyuan.platform import actions, audit
from qingyuan.platform.accounts import phone_of
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.crypto import PIICipher, mask_id_number, mask_name, mask_phone
from qingyuan.platform.errors import Conflict, NotFound, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import User
from qingyuan.verification.models import (
    AppealStatus,
    Consent,
    Member,
    VerificationStatus,
)
from qingyuan.verification.pipeline import consenting, decide, lock_member
from qingyuan.verification.registration import ID_PURPOSE, NAME_PURPOSE

APPEAL_MIN, APPEAL_MAX = 10, 1000
# An unmasking reason is read by auditors: a word or two ("check") says nothing.
UNMASK_REASON_MIN = 10
UNMASK_REASON_MAX = 500


@dataclass(frozen=True)
class PersonalData:
    real_name: str
    id_number: str
    phone: str


def personal_data(cipher: PIICipher, member: Member, user: User, *, masked: bool) -> PersonalData:
    name = cipher.decrypt(member.real_name_encrypted, purpose=NAME_PURPOSE)
    number = cipher.decrypt(member.id_number_encrypted, purpose=ID_PURPOSE)
    phone = phone_of(cipher, user)
    if masked:
        return PersonalData(mask_name(name), mask_id_number(number), mask_phone(phone))
    return PersonalData(name, number, phone)


async def member_of(user: User) -> Member | None:
    return await Member.get_or_none(user=user)


async def appeal(cipher: PIICipher, member: Member, text: str) -> None:
    """A rejected member explains why the decision is wrong; it goes to the admin queue."""
    text = text.strip()
    if member.status != VerificationStatus.REJECTED:
        raise Conflict(_("Only a rejected verification can be appealed."))
    if member.appeal_status == AppealStatus.OPEN:
        raise Conflict(_("Your appeal is already being reviewed."))
    if not APPEAL_MIN <= len(text) <= APPEAL_MAX:
        raise ValidationFailed(
            fields={
                "text": _(
                    "Please explain in %(min)d to %(max)d characters.",
                    min=APPEAL_MIN,
                    max=APPEAL_MAX,
                )
            }
        )
    member.appeal_status, member.appeal_at = AppealStatus.OPEN, now()
    sealed = member.seal(cipher, appeal_text=text)
    async with actions.transaction():
        await member.save(update_fields=["appeal_status", "appeal_at", *sealed])
        await audit.record(
            await member.user,
            AuditAction.VERIFICATION_APPEALED,
            target_type="member",
            target_id=member.id,
        )


async def do_withdraw_consent(
    cipher: PIICipher, member: Member, *, actor: User | None, reason: str = "", **data: Any
) -> bool:
    """Withdrawal stops all processing; the member can no longer be matched or chat
    (idempotent: False when nothing was left to withdraw). `actor` is the member, or None when
    an operator records a withdrawal the member sent another way (`qingyuan consent
    withdraw`, with the `reason`).

    A rejected member stays rejected (a withdrawal must not open what the rejection closed);
    anyone else is no longer verified. Answers still on their way are not stored (`consenting`).
    """
    async with actions.transaction() as connection:
        current = await lock_member(connection, member.id)
        updated = await Consent.filter(member=current, withdrawn_at__isnull=True).update(
            withdrawn_at=now()
        )
        if updated:
            if current.status == VerificationStatus.REJECTED:
                reasons = [*current.reasons(cipher), "consent_withdrawn"]
            else:
                current.status, reasons = VerificationStatus.PENDING, ["consent_withdrawn"]
            await current.save(update_fields=["status", *current.seal(cipher, reasons=reasons)])
            await audit.record(
                actor,
                AuditAction.VERIFICATION_CONSENT_WITHDRAWN,
                target_type="member",
                target_id=member.id,
                reason=reason,
                **data,
            )
    member.status, member.reasons_encrypted = current.status, current.reasons_encrypted
    return bool(updated)


async def review_queue() -> list[Member]:
    """Open appeals first, then rejected, then pending members; oldest first in each group."""
    members = (
        await Member.filter(status__in=[VerificationStatus.PENDING, VerificationStatus.REJECTED])
        .prefetch_related("user", "checks")
        .order_by("created_at")
    )
    order = {AppealStatus.OPEN: 0}
    return sorted(
        members,
        key=lambda m: (order.get(m.appeal_status, 1), m.status != VerificationStatus.REJECTED),
    )


async def get_for_review(member_id: int) -> Member:
    member = await Member.get_or_none(id=member_id).prefetch_related("user", "checks")
    if member is None:
        raise NotFound()
    return member


async def unmask(cipher: PIICipher, admin: User, member: Member, reason: str) -> PersonalData:
    """The plain personal data, for a stated reason that goes to the audit log."""
    reason = reason.strip()
    if not UNMASK_REASON_MIN <= len(reason) <= UNMASK_REASON_MAX:
        raise ValidationFailed(
            fields={
                "reason": _(
                    "Say why you need to see this, in %(min)d to %(max)d characters.",
                    min=UNMASK_REASON_MIN,
                    max=UNMASK_REASON_MAX,
                )
            }
        )
    await audit.record(
        admin, AuditAction.MEMBER_UNMASKED, target_type="member", target_id=member.id, reason=reason
    )
    return personal_data(cipher, member, await member.user, masked=False)


async def decide_appeal(
    kernel: Kernel, admin: User, member: Member, decision: str, note: str
) -> VerificationStatus:
    """`approve` overrides the reasons of the rejection (the department was wrong), and only
    those: a reason a later re-check finds rejects again. `uphold` keeps the rejection."""
    if member.appeal_status != AppealStatus.OPEN:
        raise Conflict(_("There is no open appeal for this member."))
    if decision not in ("approve", "uphold") or len(note.strip()) < 5:
        raise ValidationFailed(
            fields={"note": _("Choose a decision and give a reason (at least 5 characters).")}
        )
    member.appeal_status = AppealStatus.APPROVED if decision == "approve" else AppealStatus.UPHELD
    sealed = []
    if decision == "approve":
        covers = sorted({*member.appeal_covers(kernel.cipher), *member.reasons(kernel.cipher)})
        sealed = member.seal(kernel.cipher, appeal_covers=covers)
    action = (
        AuditAction.VERIFICATION_APPEAL_APPROVED
        if decision == "approve"
        else AuditAction.VERIFICATION_APPEAL_UPHELD
    )
    async with actions.transaction():  # the decision, its audit row and what it decides
        await member.save(update_fields=["appeal_status", *sealed])
        await audit.record(
            admin, action, target_type="member", target_id=member.id, reason=note.strip()
        )
        async with consenting(member.id) as current:
            if current is None:
                return member.status  # withdrawn meanwhile: the decision is recorded, no more
            return await decide(kernel, current)
