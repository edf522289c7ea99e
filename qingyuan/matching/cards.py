"""What a member sees of another: the match card. Verified facts, profile, shared interests;
never a real name, phone or ID number."""

from __future__ import annotations

from datetime import date
from typing import Any

from qingyuan.matching.decisions import side_of
from qingyuan.matching.models import Profile, Proposal
from qingyuan.matching.profiles import city_names
from qingyuan.matching.questions import INTEREST_TAGS
from qingyuan.matching.reasons import reason_text
from qingyuan.verification.facts import verified_facts


async def member_card(user_id: int, viewer_id: int, day: date) -> dict[str, Any]:
    profile = await Profile.get_or_none(user_id=user_id)
    viewer = await Profile.get_or_none(user_id=viewer_id)
    facts = (await verified_facts([user_id])).get(user_id)
    interests = profile.interests if profile else []
    shared = set(interests) & set(viewer.interests if viewer else [])
    return {
        "id": user_id,
        "nickname": profile.nickname if profile else "",
        "age": facts.age(day) if facts else None,
        "gender": facts.gender if facts else None,
        "city": city_names().get(profile.city) if profile else None,
        "height_cm": profile.height_cm if profile else None,
        "bio": profile.bio if profile else "",
        "badges": {
            "verified": facts is not None,
            "degree": facts.degree if facts else None,
            "employment": facts.employment if facts else None,
        },
        "interests": [
            {"key": t, "label": str(INTEREST_TAGS[t]), "shared": t in shared}
            for t in interests
            if t in INTEREST_TAGS
        ],
        "photo_url": f"/photos/{profile.photo}" if profile and profile.photo else None,
    }


async def proposal_json(proposal: Proposal, viewer_id: int, day: date) -> dict[str, Any]:
    side = side_of(proposal, viewer_id)
    other = proposal.b_id if side == "a" else proposal.a_id
    return {
        "id": proposal.id,
        "date": proposal.day.isoformat(),
        "member": await member_card(other, viewer_id, day),
        "reasons": [{"code": r["code"], "text": reason_text(r)} for r in proposal.reasons],
        "expires_at": proposal.expires_at.isoformat(),
        "my_decision": getattr(proposal, f"{side}_decision"),
    }
