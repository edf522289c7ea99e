"""Verification as people read it: department names, progress, reasons, badges, the gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qingyuan.platform import statements
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.errors import Forbidden
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.verification.models import (
    AppealStatus,
    CheckStatus,
    Consent,
    DepartmentCheck,
    Member,
    VerificationStatus,
)
from qingyuan.verification.protocol import DEPARTMENTS


def department_name(key: str) -> str:
    return {
        "public_security": _("Public security"),
        "civil_affairs": _("Civil affairs"),
        "education": _("Education"),
        "human_resources": _("Human resources and social security"),
        "justice": _("Justice"),
        "development_reform": _("Development and reform"),
    }[key]


def department_checks_for(key: str) -> str:
    return {
        "public_security": _("that your name and ID number belong together"),
        "civil_affairs": _("that you are not married"),
        "education": _("your highest degree"),
        "human_resources": _("your employment"),
        "justice": _("that you have no disqualifying record"),
        "development_reform": _("that you are not on the dishonest-debtor list"),
    }[key]


def check_state(cipher: PIICipher, check: DepartmentCheck | None) -> str:
    """How one department's check reads: confirmed, negative, pending or error."""
    if check is None:
        return CheckStatus.PENDING.value
    if check.status == CheckStatus.ANSWERED:
        return "negative" if check.gate_failure(cipher) else "confirmed"
    return check.status.value


def check_progress(state: str) -> str:
    return {
        "confirmed": _("Confirmed"),
        "negative": _("Not passed"),
        "pending": _("Waiting for an answer"),
        "error": _("Department busy, we will ask again"),
    }[state]


def reason_text(code: str) -> str:
    return {
        "identity_mismatch": _(
            "The name does not match the ID number in the public security records."
        ),
        "person_unknown": _("A department has no record of this ID number."),
        "married": _(
            "The civil affairs records show that you are married. Qingyuan is for unmarried people."
        ),
        "disqualifying_record": _("The justice records show a record that rules out membership."),
        "dishonest_debtor": _("You are on the list of dishonest judgment debtors."),
        "consent_withdrawn": _("You withdrew your consent, so verification has stopped."),
    }.get(code, _("Verification did not pass."))


def status_text(status: VerificationStatus) -> str:
    return {
        VerificationStatus.PENDING: _("Being verified"),
        VerificationStatus.VERIFIED: _("Verified"),
        VerificationStatus.REJECTED: _("Not verified"),
    }[status]


def degree_text(degree: str | None) -> str:
    return {
        "none": _("No degree"),
        "high_school": _("High school"),
        "associate": _("Associate"),
        "bachelor": _("Bachelor's degree"),
        "master": _("Master's degree"),
        "doctorate": _("Doctorate"),
    }.get(degree or "", "")


def employment_text(employment: str | None) -> str:
    return {
        "employed": _("Employed"),
        "self_employed": _("Self-employed"),
        "unemployed": _("Looking for work"),
        "student": _("Student"),
    }.get(employment or "", "")


async def verification_json(cipher: PIICipher, member: Member) -> dict[str, Any]:
    """The contract of GET /api/v1/me/verification."""
    checks = {c.department: c for c in await DepartmentCheck.filter(member=member)}
    departments = {}
    for key in DEPARTMENTS:
        check = checks.get(key)
        state = check_state(cipher, check)
        departments[key] = {
            "status": state,
            "name": department_name(key),
            "label": check_progress(state),
            "checked_at": check.checked_at.isoformat() if check and check.checked_at else None,
        }
    verified = member.status == VerificationStatus.VERIFIED

    # The negative answers an approved appeal decided stay on record, but they no longer
    # explain the status: they move to "overridden_reasons".
    covered = member.appeal_covers(cipher)

    def explained(overridden: bool) -> list[dict[str, str]]:
        return [
            {"code": code, "message": reason_text(code)}
            for code in member.reasons(cipher)
            if (code in covered) == overridden
        ]

    return {
        "status": member.status.value,
        "label": status_text(member.status),
        "departments": departments,
        "reasons": explained(False),
        "overridden_reasons": explained(True),
        "badges": {"degree": member.degree, "employment": member.employment} if verified else {},
        "appeal": {"status": member.appeal_status.value},
    }


async def ensure_verified(user: User) -> Member:
    """The gate of matching and activities: only verified members pass, others learn why.

    The departments' reasons are sealed (and not repeated on every refused page): a rejected
    member is sent to their verification page, which explains them.
    """
    return await check_verified(await Member.get_or_none(user=user))


async def check_verified(member: Member | None) -> Member:
    """`ensure_verified` for a member record already loaded (the web's per-request viewer):
    no query when verified."""
    if member is None or member.status != VerificationStatus.VERIFIED:
        message = _("Only verified members can do this.")
        if (
            member is not None
            and await Consent.filter(member=member, withdrawn_at__not_isnull=True).exists()
        ):
            message = reason_text("consent_withdrawn")
        elif member is not None and member.status == VerificationStatus.REJECTED:
            message = _(
                "Your verification did not pass. Your verification page says why and how to appeal."
            )
        elif member is not None:
            message = _("Your verification is still in progress.")
        raise Forbidden(message)
    return member


async def member_with_user(user_id: int) -> Member | None:
    """The member record of an active account with its user joined in: the viewer of a
    member's request in one query (None for accounts without one, or inactive)."""
    # On every member request, so a precompiled statement (platform/statements.py).
    sql = (
        f"SELECT {statements.columns(Member, 'm', labelled=True)},"  # noqa: S608
        f" {statements.columns(User, 'u', labelled=True)}"
        ' FROM "verification_member" m JOIN "platform_user" u ON u.id = m.user_id'
        " WHERE m.user_id = ? AND u.is_active = ? LIMIT 1"
    )
    found = await statements.rows(Member, sql, [user_id, True])
    if not found:
        return None
    [member] = statements.models_from(Member, [statements.part_of(found[0], "m")])
    [user] = statements.models_from(User, [statements.part_of(found[0], "u")])
    object.__setattr__(member, "_user", user)  # as Tortoise's select_related sets it
    return member


@dataclass(frozen=True)
class Standing:
    """How settled a verified member's verification is, for parts that grade trust by it
    (chat's message rate): since when it holds, and whether it passed only on appeal."""

    verified_at: datetime | None
    via_appeal: bool


async def verified_standing(user: User) -> Standing:
    """`ensure_verified` (the same refusals), answered as a `Standing`: one query."""
    member = await ensure_verified(user)
    return Standing(member.verified_at, member.appeal_status == AppealStatus.APPROVED)
