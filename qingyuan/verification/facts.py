"""Verified facts other parts may read: who is verified, and what the departments attested.

Matching and events never read verification's tables; they call these functions. Only members
who are verified *and* still consent *and* whose account is active are returned: withdrawing
consent takes a member out of matching at once (PIPL art. 15), and so does a suspension
(a member suspended for scamming was proposed the next day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Subquery

from qingyuan.verification.idnumber import age_on
from qingyuan.verification.models import Consent, Member, VerificationStatus


@dataclass(frozen=True)
class VerifiedFacts:
    user_id: int
    birth_date: date
    gender: str  # "male" | "female"
    degree: str | None
    employment: str | None
    hukou_region: str | None

    def age(self, today: date) -> int:
        return age_on(self.birth_date, today)


async def verified_facts(user_ids: Iterable[int] | None = None) -> dict[int, VerifiedFacts]:
    """Facts of the verified, consenting, active members (all of them, or those of `user_ids`)."""
    # One query whatever the number of members: withdrawn consents are a subquery, not a
    # scan of every withdrawal ever made read into Python for each card.
    withdrawn = Consent.filter(withdrawn_at__not_isnull=True).values("member_id")
    query = Member.filter(status=VerificationStatus.VERIFIED, user__is_active=True).exclude(
        id__in=Subquery(withdrawn)
    )
    if user_ids is not None:
        query = query.filter(user_id__in=list(user_ids))
    rows = await query.values(
        "id", "user_id", "birth_date", "gender", "degree", "employment", "hukou_region"
    )
    return {
        row["user_id"]: VerifiedFacts(
            row["user_id"],
            row["birth_date"],
            row["gender"],
            row["degree"],
            row["employment"],
            row["hukou_region"],
        )
        for row in rows
    }
