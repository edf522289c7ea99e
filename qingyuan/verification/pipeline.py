"""The verification pipeline: ask the departments, store each answer as it comes, decide.

A member is `verified` only when all six departments answered with a believed attestation
and every gate passed; `rejected` as soon as a believed attestation fails a gate; `pending`
otherwise. An outage, a timeout or an unbelievable token is never the member's fault: the
check stays open (status `error`), the job raises so the queue retries it with backoff, and
the periodic sweep picks up whatever the retries did not finish.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from taskiq import Context, TaskiqDepends
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.timezone import now

from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.jobs import job, kick
from qingyuan.platform.kernel import Kernel
from qingyuan.verification.attestations import Attestation, AttestationInvalid
from qingyuan.verification.client import DepartmentAnswer, DepartmentRefused, ask_all
from qingyuan.verification.models import (
    AppealStatus,
    CheckStatus,
    Consent,
    DepartmentCheck,
    Member,
    VerificationStatus,
)
from qingyuan.verification.registration import CHECK_JOB, ID_PURPOSE, NAME_PURPOSE
from qingyuan.verification.settings import verification_settings
from qingyuan.verification.wiring import department_clients

logger = logging.getLogger(__name__)
OPEN_STATUSES = (CheckStatus.PENDING, CheckStatus.ERROR)
SWEEP_AFTER = timedelta(minutes=5)
_STATUS_AUDIT = {
    VerificationStatus.VERIFIED: AuditAction.VERIFICATION_VERIFIED,
    VerificationStatus.REJECTED: AuditAction.VERIFICATION_REJECTED,
    VerificationStatus.PENDING: AuditAction.VERIFICATION_MARKED_PENDING,
}


class DepartmentsPending(Exception):
    """Some departments gave no usable answer yet; raised so the job is retried."""


async def has_consent(member: Member) -> bool:
    return not await Consent.filter(member=member, withdrawn_at__not_isnull=True).exists()


async def lock_member(connection: BaseDBAsyncClient, member_id: int) -> Member:
    """The member, read under a lock on their row held until `connection`'s transaction ends.

    Whatever changes a member's status takes it first (storing an answer, deciding,
    withdrawing consent), so none of them decides on a state another is changing. SQLite has
    no row locks: a first write takes the database's write lock at once, like BEGIN IMMEDIATE.
    """
    if connection.capabilities.dialect == "sqlite":
        await Member.filter(id=member_id).using_db(connection).update(gender=F("gender"))
        return await Member.filter(id=member_id).using_db(connection).get()
    return await Member.filter(id=member_id).select_for_update().using_db(connection).get()


@asynccontextmanager
async def consenting(member_id: int) -> AsyncIterator[Member | None]:
    """A transaction holding the member's lock; yields the member, or None once they withdrew.

    Answers are stored and decisions made inside it, so nothing that arrives after a
    withdrawal is stored or changes the member's status (PIPL art. 15).
    """
    async with actions.transaction() as connection:
        member = await lock_member(connection, member_id)
        yield member if await has_consent(member) else None


async def check_member(kernel: Kernel, member_id: int) -> VerificationStatus:
    """Ask every department whose check is open; idempotent, safe to run concurrently."""
    async with consenting(member_id) as member:
        if member is None:
            return (await Member.get(id=member_id)).status  # consent withdrawn: processing stops
        open_checks = {
            c.department: c
            for c in await DepartmentCheck.filter(member=member, status__in=OPEN_STATUSES)
        }
    if open_checks:
        clients = department_clients(kernel)
        id_number = kernel.cipher.decrypt(member.id_number_encrypted, purpose=ID_PURPOSE)
        name = kernel.cipher.decrypt(member.real_name_encrypted, purpose=NAME_PURPOSE)
        async for answer in ask_all([clients[d] for d in open_checks], id_number, name):
            async with consenting(member_id) as current:
                if current is not None:
                    await _store(kernel, open_checks[answer.department], answer)
            if current is None:
                break  # leaving the loop cancels the calls still running
    async with consenting(member_id) as current:
        if current is None:
            return (await Member.get(id=member_id)).status
        status = await decide(kernel, current)
    if await DepartmentCheck.filter(member_id=member_id, status=CheckStatus.ERROR).exists():
        raise DepartmentsPending(f"member {member_id}: departments still to answer")
    return status


async def _store(kernel: Kernel, check: DepartmentCheck, answer: DepartmentAnswer) -> None:
    """Keep one department's answer: the outcome in the clear, claims and signed token sealed."""
    check.attempts += 1
    check.checked_at = now()
    outcome = answer.outcome
    if isinstance(outcome, Attestation):
        check.status = CheckStatus.ANSWERED
        check.reason = ""
        check.seal_answer(kernel.cipher, dict(outcome.claims), outcome.token)
    else:
        check.status = CheckStatus.ERROR
        check.reason = _error_reason(outcome)
        if check.reason != "unavailable":
            # Not an outage: a forged token or our own misconfiguration. Admins must look.
            await audit.record(
                None,
                AuditAction.VERIFICATION_DEPARTMENT_MISBEHAVED,
                target_type="department",
                target_id=check.department,
                reason=check.reason,
            )
    await check.save()


def _error_reason(error: Exception) -> str:
    if isinstance(error, AttestationInvalid):
        return error.reason
    return "refused" if isinstance(error, DepartmentRefused) else "unavailable"


async def decide(kernel: Kernel, member: Member) -> VerificationStatus:
    """Derive the member's status from the stored checks, and audit any change."""
    cipher = kernel.cipher
    checks = await DepartmentCheck.filter(member=member)
    answers = [c for c in checks if c.status == CheckStatus.ANSWERED]
    failures = {c.department: c.gate_failure(cipher) for c in answers}
    reasons = sorted({failure for failure in failures.values() if failure})
    answered = len(checks) == 6 and not any(c.status in OPEN_STATUSES for c in checks)
    covered = member.appeal_covers(cipher)
    if any(reason not in covered for reason in reasons):
        status = VerificationStatus.REJECTED
        if member.appeal_status == AppealStatus.APPROVED:
            member.appeal_status = AppealStatus.NONE  # a new reason: it may be appealed in turn
    elif answered:
        status = VerificationStatus.VERIFIED  # every gate passed, or an appeal overrode it
    elif member.status == VerificationStatus.VERIFIED:
        status = VerificationStatus.VERIFIED  # a re-check in progress keeps the badge
    else:
        status = VerificationStatus.PENDING
    _record_badges(
        member, {c.department: c.claims(cipher) for c in answers if not failures[c.department]}
    )
    if status == VerificationStatus.VERIFIED and answered:
        # Verified on the departments' word or over an appeal, it is re-checked all the same.
        valid_days = verification_settings(kernel.settings).attestation_valid_days
        member.verified_at = member.verified_at if member.status == status else now()
        member.recheck_due_at = now() + timedelta(days=valid_days)
    changed = status != member.status or reasons != member.reasons(cipher)
    member.status = status
    member.seal(cipher, reasons=reasons)
    await member.save()
    if changed:
        # The reasons stay in the member's sealed column, not in the audit log.
        await audit.record(None, _STATUS_AUDIT[status], target_type="member", target_id=member.id)
    return status


def _record_badges(member: Member, claims: dict[str, dict[str, Any]]) -> None:
    """Badges from the confirmed answers; of the household registration only the province."""
    member.degree = claims.get("education", {}).get("degree", member.degree)
    member.employment = claims.get("human_resources", {}).get("employment", member.employment)
    region = claims.get("public_security", {}).get("hukou_region")
    member.hukou_region = region[:2] if isinstance(region, str) else member.hukou_region


async def reopen_expired(kernel: Kernel) -> list[int]:
    """Attestations age: mark the checks of members due for a re-check as pending again."""
    due = await Member.filter(status=VerificationStatus.VERIFIED, recheck_due_at__lte=now())
    for member in due:
        await DepartmentCheck.filter(member=member).update(status=CheckStatus.PENDING)
        member.recheck_due_at = None
        await member.save(update_fields=["recheck_due_at"])
    return [member.id for member in due]


async def stalled_members(cutoff: timedelta = SWEEP_AFTER) -> list[int]:
    """Members with an open check nobody has tried for a while (retries ran out, a crash),
    unless they withdrew their consent: nobody will ever ask about them again."""
    stale = now() - cutoff
    checks = (
        await DepartmentCheck.filter(status__in=OPEN_STATUSES)
        .filter(member__status__in=[VerificationStatus.PENDING, VerificationStatus.VERIFIED])
        .values_list("member_id", "checked_at")
    )
    withdrawn = set(
        await Consent.filter(withdrawn_at__not_isnull=True).values_list("member_id", flat=True)
    )
    return sorted(
        {
            member_id
            for member_id, checked in checks
            if (checked is None or checked <= stale) and member_id not in withdrawn
        }
    )


@job(CHECK_JOB, retries=8, retry_delay=15)
async def check_member_job(member_id: int, context: Context = TaskiqDepends()) -> str:
    return (await check_member(context.state.kernel, member_id)).value


@job("verification.sweep", cron="*/5 * * * *")
async def sweep_job(context: Context = TaskiqDepends()) -> int:
    """Re-queue stalled checks and due re-checks, so no member waits forever."""
    kernel: Kernel = context.state.kernel
    members = sorted({*await stalled_members(), *await reopen_expired(kernel)})
    for member_id in members:
        await kick(kernel.broker, CHECK_JOB, member_id)
    return len(members)
