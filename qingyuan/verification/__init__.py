"""Verification: a member's real name and ID number checked with six government departments,
their consents, the verdict and its appeal. Other parts read what was verified (age, gender,
degree, employment, region) only through `verified_facts`, and gate on `ensure_verified`;
the modules `status` (how verification reads), `review` (the admins' queue), `pipeline` (the
department checks, a job) and `wiring` (the departments' clients) are its other public parts.
"""

from qingyuan.verification.facts import VerifiedFacts, verified_facts
from qingyuan.verification.models import AppealStatus, Member, VerificationStatus
from qingyuan.verification.status import ensure_verified

__all__ = [
    "AppealStatus",
    "Member",
    "VerificationStatus",
    "VerifiedFacts",
    "ensure_verified",
    "verified_facts",
]
